"""One owner for a trained extractor (issue 34): :class:`TrainedExtractor` loads one (a shipped
name or a folder), builds its selector, copies it (``save_pretrained``), and every entry point
takes it where it takes a name or a folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import ids_extract
from ids_extract import TrainedExtractor, compress
from ids_extract.errors import ConfigError
from ids_extract.pipeline.pretrained import FILE, ExtractorSpec, ScorerSpec, save_spec

from .conftest import CONTEXT
from .test_reader import trained_reader  # noqa: F401  (fixture)

QUESTION = "Who led the Norse raiders?"
BUDGET = "tokens:64"


@pytest.fixture
def folder(trained_reader: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A tiny extractor: bm25 over the sentences, read by a tiny trained reader, with a card."""
    out = tmp_path / "tiny"
    shutil.copytree(trained_reader, out / "reader")
    save_spec(ExtractorSpec([ScorerSpec("bm25")], models={"reader": {"path": "reader"}},
                            reader="reader"), out)
    (out / "README.md").write_text("# tiny\n\nbm25 and a tiny reader.\n", encoding="utf-8")
    return out


def test_it_is_exported_and_knows_its_card_and_profiles(folder: Path) -> None:
    assert ids_extract.TrainedExtractor is TrainedExtractor
    trained = TrainedExtractor.from_pretrained(folder)
    assert trained.card.startswith("# tiny") and trained.profiles == {}
    assert trained.selector().names == ["bm25"] and str(trained) == str(folder)
    shipped = TrainedExtractor.from_pretrained("squad-en")
    assert set(shipped.profiles) >= {"fast", "best"} and "train-extractor" in shipped.card
    assert shipped.selector("fast").config() == ids_extract.Extractor.from_pretrained(
        "squad-en", "tokens:64", profile="fast", quiet=True).selector.config()


def test_every_entry_point_takes_it(folder: Path, squad_file: Path, tmp_path: Path) -> None:
    from ids_extract.apps.answer import AnswerJob, ExtractThenRead
    from ids_extract.apps.compress_lines import CompressJob
    from ids_extract.integrations import CompressSettings
    from ids_extract.pipeline.extractor import Extractor
    from ids_extract.pipeline.jobs import ExtractJob
    from ids_extract.squad.read import load

    trained = TrainedExtractor.from_pretrained(folder)
    by_path = compress(QUESTION, CONTEXT, BUDGET, extractor=str(folder))
    assert compress(QUESTION, CONTEXT, BUDGET, extractor=trained) == by_path
    job = CompressJob(BUDGET, extractor=trained).check()
    requests = tmp_path / "q.jsonl"
    requests.write_text(json.dumps({"question": QUESTION, "context": CONTEXT}) + "\n")
    with requests.open("rb") as source:
        [answered] = job.answers(source, str(requests), lambda err: None)
    assert answered["text"] == by_path.text
    adapters: list[type] = [CompressSettings]
    for module, name in (("ids_extract.integrations.langchain", "IdsCompressor"),
                         ("ids_extract.integrations.llama_index", "IdsPostprocessor")):
        adapters.append(getattr(pytest.importorskip(module), name))
    for adapter in adapters:
        [kept] = adapter(budget=BUDGET, extractor=trained).kept(QUESTION, [CONTEXT])
        assert kept.text.strip() == by_path.text.strip()
    data = load(squad_file)
    made = ExtractJob(levels="top-k:1", extractor=trained, device="cpu", quiet=True).build()
    named = Extractor.from_pretrained(str(folder), "top-k:1", quiet=True)
    assert made.config() == named.config() == Extractor.from_pretrained(
        trained, "top-k:1", quiet=True).config()
    assert made.run(data).levels[0].kept == named.run(data).levels[0].kept
    read = ExtractThenRead.from_pretrained(trained, level="tokens:24", device="cpu")
    answer = AnswerJob(levels="tokens:24", device="cpu").pipeline(None, trained)(QUESTION, CONTEXT)
    assert read(QUESTION, CONTEXT) == answer and CONTEXT[answer.start:answer.end] == answer.answer


def test_what_it_decides_is_refused_beside_it(folder: Path) -> None:
    from ids_extract.apps.answer import AnswerJob
    from ids_extract.integrations import CompressSettings
    from ids_extract.pipeline.jobs import ExtractJob

    trained = TrainedExtractor.from_pretrained(folder)
    with pytest.raises(ConfigError, match=f"extractor {folder} decides .*leave out `scorers`"):
        compress(QUESTION, CONTEXT, BUDGET, extractor=trained, scorers=["bm25"])
    with pytest.raises(ConfigError, match="leave out `scorer_options`"):
        CompressSettings(budget=BUDGET, extractor=trained, scorer_options={"bm25": {}})
    with pytest.raises(ConfigError, match="leave out `precision`, `cascade_k`|leave out "
                                          "`cascade_k`, `precision`"):
        ExtractJob(extractor=trained, precision="fp32", cascade_k=16).check()
    with pytest.raises(ConfigError, match="leave out `model`"):
        AnswerJob().pipeline(folder / "reader", trained)


def test_save_pretrained_writes_a_copy_that_loads_on_its_own(folder: Path,
                                                            tmp_path: Path) -> None:
    trained = TrainedExtractor.from_pretrained(folder)
    out = trained.save_pretrained(tmp_path / "copy")
    copy = TrainedExtractor.from_pretrained(out)  # every hash checked
    assert copy.spec.models["reader"]["path"] == "reader" and copy.card == trained.card
    assert copy.spec.models["reader"]["sha256"] == trained.spec.models["reader"]["sha256"]
    assert compress(QUESTION, CONTEXT, BUDGET, extractor=copy) == compress(
        QUESTION, CONTEXT, BUDGET, extractor=trained)
    with pytest.raises(ConfigError, match="exists"):
        trained.save_pretrained(out)
    trained.save_pretrained(out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "tiny"]  # no temp folder left


def test_a_model_outside_the_folder_is_copied_in(trained_reader: Path,  # noqa: F811
                                                  tmp_path: Path) -> None:
    hand = tmp_path / "hand"
    hand.mkdir()
    (hand / FILE).write_text(json.dumps({
        "format": "ids-extract-extractor/1", "models": {"reader": {"path": str(trained_reader)}},
        "scorers": [{"name": "bm25"}], "fusion": {"method": "weighted"}, "reader": "reader"}),
        encoding="utf-8")
    out = TrainedExtractor.from_pretrained(hand).save_pretrained(tmp_path / "copy")
    copy = TrainedExtractor.from_pretrained(out)
    assert copy.spec.models["reader"]["path"] == "models/reader"
    assert Path(copy.reader_path()) == (out / "models" / "reader").resolve()


def test_a_changed_model_is_not_copied(folder: Path, tmp_path: Path) -> None:
    trained = TrainedExtractor.from_pretrained(folder, check=False)
    (folder / "reader" / "reader.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="'reader'.*changed"):
        trained.save_pretrained(tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
    with pytest.raises(ConfigError, match="'reader'.*changed"):
        TrainedExtractor.from_pretrained(folder)
