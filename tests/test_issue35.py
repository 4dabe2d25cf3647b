"""What a new user hit (issue 35): one test per item beyond the bad-input set of
``tests/test_bad_input.py`` (items 1-3), each failing before its fix."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ids_extract import compress
from ids_extract.cli import app
from ids_extract.errors import ConfigError

from .conftest import CONTEXT, cls_rows, squad_dict

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Who led the Norse raiders?"


# ------------------------------------------------------------------ 4: ratio:R, one meaning

def test_4_ratio_means_at_least_r_in_compress_as_in_extract(tmp_path: Path) -> None:
    from ids_extract.pipeline.extractor import Extractor
    from ids_extract.squad.read import load

    with pytest.warns(FutureWarning, match="max-ratio:0.5"):
        out = compress(QUESTION, CONTEXT, "ratio:0.5", scorers=["bm25"])
    data = tmp_path / "one.json"
    data.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [
        {"context": CONTEXT, "qas": [{"id": "q", "question": QUESTION, "answers": [
            {"text": "Rollo", "answer_start": CONTEXT.index("Rollo")}]}]}]}]}), encoding="utf-8")
    [level] = Extractor(["bm25"], "ratio:0.5", quiet=True).run(load(data)).levels
    [(_, paragraph, _)] = level.dataset.iter_qas()
    assert out.text == paragraph.context and out.budget == "ratio:0.5"
    assert out.tokens >= out.limit - 1 >= 0.5 * out.original_tokens - 1  # at least R, not at most
    capped = compress(QUESTION, CONTEXT, "max-ratio:0.5", scorers=["bm25"])
    assert capped.tokens <= capped.limit <= 0.5 * capped.original_tokens < out.tokens


def test_4_the_cli_shows_the_warning(tmp_path: Path) -> None:
    requests = tmp_path / "q.jsonl"
    requests.write_text(json.dumps({"question": QUESTION, "context": CONTEXT}) + "\n"
                        + json.dumps({"question": QUESTION, "context": CONTEXT}) + "\n")
    res = runner.invoke(app, ["compress", str(requests), "--scorers", "bm25", "--budget",
                              "ratio:0.3", "-q"])
    assert res.exit_code == 0, res.output
    warned = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "max-ratio:0.3" in warned[0], res.stderr
    res = runner.invoke(app, ["compress", str(requests), "--scorers", "bm25", "--budget",
                              "max-ratio:0.3", "-q"])
    assert res.exit_code == 0 and "warning" not in res.stderr


# ------------------------------------------------------------------ 5: compress() keywords

def test_5_fast_is_the_apis_counterpart_of_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    import ids_extract.apps.compress as api

    seen: list[tuple[str, ...]] = []

    def built(names: tuple[str, ...], *rest: Any) -> Any:
        seen.append(names)
        raise RuntimeError("stop: only the scorers are looked at")

    monkeypatch.setattr(api, "selector_for", built)
    with pytest.raises(RuntimeError, match="stop"):
        compress(QUESTION, CONTEXT, "tokens:64", fast=True)
    assert seen == [("bm25", "static")]
    with pytest.raises(ConfigError, match="fast=True sets the scorers"):
        compress(QUESTION, CONTEXT, "tokens:64", fast=True, scorers=["bm25"])


@pytest.mark.parametrize(("keywords", "message"), [
    ({"bogus": {"x": 1}}, r"unknown keyword 'bogus': give budget, scorers, fast, .*sbert=\{…\}"),
    ({"sbert": True}, "sbert= takes a dict of the sbert scorer's options"),
    ({"sbert": {"backend": "onnx"}}, r"options for sbert, which is not among the scorers \(bm25\)"),
])
def test_5_a_keyword_that_is_not_an_option_is_refused(keywords: dict[str, Any],
                                                       message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compress(QUESTION, CONTEXT, "tokens:64", scorers=["bm25"], **keywords)


# ------------------------------------------------------------------ 6: one extractor check

@pytest.fixture
def bm25_extractor(tmp_path: Path) -> Path:
    """A hand-written extractor folder: bm25 alone, equal weights."""
    folder = tmp_path / "extractor"
    folder.mkdir()
    (folder / "extractor.json").write_text(json.dumps({
        "format": "ids-extract-extractor/1", "segmenter": "pysbd", "models": {},
        "scorers": [{"name": "bm25"}], "fusion": {"method": "weighted"}}), encoding="utf-8")
    return folder


def test_6_every_entry_point_refuses_scorers_beside_an_extractor(bm25_extractor: Path,
                                                                 tmp_path: Path) -> None:
    from ids_extract.integrations import CompressSettings

    ext = str(bm25_extractor)
    adapters: list[type] = [CompressSettings]
    for module, name in (("ids_extract.integrations.langchain", "IdsCompressor"),
                         ("ids_extract.integrations.llama_index", "IdsPostprocessor")):
        adapters.append(getattr(pytest.importorskip(module), name))
    for adapter in adapters:
        with pytest.raises(ConfigError, match="leave out `scorers`"):
            adapter(budget="tokens:256", extractor=ext, scorers=("bm25",))
        with pytest.raises(ConfigError, match="leave out `segmenter`"):
            adapter(budget="tokens:256", extractor=ext, segmenter="pysbd")
        assert adapter(budget="tokens:256", extractor=ext).kept(QUESTION, [CONTEXT])
    with pytest.raises(ConfigError, match="leave out `scorers`"):
        compress(QUESTION, CONTEXT, extractor=ext, scorers=["bm25"])
    with pytest.raises(ConfigError, match="leave out `fast`"):
        compress(QUESTION, CONTEXT, extractor=ext, fast=True)
    requests = tmp_path / "q.jsonl"
    requests.write_text(json.dumps({"question": QUESTION, "context": CONTEXT}) + "\n")
    data = tmp_path / "d.json"
    data.write_text(json.dumps(squad_dict()), encoding="utf-8")
    for argv in (["compress", str(requests), "--scorers", "bm25"],
                 ["compress", str(requests), "--cascade-k", "3"],
                 ["extract", str(data), "--out", str(tmp_path / "o"), "--precision", "fp32"],
                 ["answer", "--question", QUESTION, "--context", CONTEXT, "--scorers", "bm25"]):
        res = runner.invoke(app, [*argv, "--extractor", ext])
        assert res.exit_code == 2 and "leave out --" in res.output, (argv, res.output)
    assert not (tmp_path / "o").exists()


def test_6_the_check_knows_every_parameter_and_every_thing_an_extractor_decides(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One rule, by library parameter name: it knows which of DECIDED each parameter gives and
    what counts as given; a name it does not know, or a new thing an extractor decides that no
    parameter gives, is a TypeError (so every entry point's values reach it)."""
    from ids_extract.pipeline import pretrained
    from ids_extract.pipeline.pretrained import DECIDED, DECIDED_BY, check_beside_extractor

    assert set(DECIDED_BY.values()) == set(DECIDED)
    with pytest.raises(TypeError, match="not parameters"):
        check_beside_extractor("x", scorerz=["bm25"])
    check_beside_extractor("x", scorers=None, fast=False, weights=None, scorer_option=[],
                           sbert={}, cascade_k=16)  # nothing given: each at its unasked value
    with pytest.raises(ConfigError, match="leave out `weights`, `cascade_k`$"):
        check_beside_extractor("x", scorers=(), weights="bm25=2", cascade_k=3)
    with pytest.raises(ConfigError, match="leave out `cascade_k`"):  # unasked here: none
        check_beside_extractor("x", unasked={"cascade_k": None}, cascade_k=16)
    with pytest.raises(ConfigError, match="leave out `sbert`"):  # compress()'s sbert={...}
        check_beside_extractor("x", sbert={"backend": "onnx"})
    with monkeypatch.context() as m:
        m.setattr(pretrained, "DECIDED", (*DECIDED, "readers"))
        with pytest.raises(TypeError, match="no parameter gives \\['readers'\\]"):
            check_beside_extractor("x", scorers=None)


def test_6_no_entry_point_keeps_a_table_of_its_own() -> None:
    """The entry points pass values by parameter; none maps DECIDED's categories itself."""
    for module in ("apps/compress.py", "apps/compress_lines.py", "integrations/__init__.py",
                   "pipeline/jobs.py", "apps/answer.py"):
        text = (ROOT / "src" / "ids_extract" / module).read_text(encoding="utf-8")
        assert '"scorer options"' not in text and "def _given" not in text, module


# ------------------------------------------------------------------ 7: README and --help

def test_7_the_readme_names_train_extractors_default_stages() -> None:
    """The README's train-extractor section moved to the docs page of the trained extractor."""
    from ids_extract.apps.extractor_config import DEFAULT_SIGNALS

    readme = (ROOT / "docs" / "guide" / "extractor.md").read_text(encoding="utf-8")
    named = re.search(r"`--stages` chooses the signals \(default\s+`([^`]+)`", readme)
    assert named is not None and named[1] == ",".join(DEFAULT_SIGNALS)
    assert "(with `--stages" not in readme  # every default stage is one, not an opt-in


def test_7_help_names_the_default_stages() -> None:
    from ids_extract.apps.extractor_config import DEFAULT_SIGNALS

    res = runner.invoke(app, ["train-extractor", "--help"])
    # rich wraps a long default anywhere, even after a hyphen: compare without white space
    assert f"[default:{','.join(DEFAULT_SIGNALS)}]" in "".join(res.output.split())


# ------------------------------------------------------------------ 8: the card's commands

@pytest.mark.parametrize("signals", [("bm25", "sbert"), ("bm25", "reader")])
def test_8_the_card_suggests_only_what_the_folder_can_do(signals: tuple[str, ...], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    from ids_extract.apps.extractor_card import write_card
    from ids_extract.apps.extractor_config import ExtractorTrainConfig
    from ids_extract.apps.stages import Record
    from ids_extract.files import write_json

    out = tmp_path / "ex"
    row = dict.fromkeys(("top1", "top2", "top3", "stress_top1", "top1_loss",
                         "distractor_first"), 1.0)
    write_json({"signals": {s: row for s in signals}, "heldout_questions": 6,
                "with_distractor": 3, "distractor_coverage_pct": 50, "folds": 2,
                "weights": dict.fromkeys(signals, 1.0)}, out / "heldout" / "report.json")
    write_json({"stages": {"profiles": Record("k", 1.0, 1.0, None, {"fast": {
        "signals": ["bm25"], "heldout": row, "seconds_per_question": 0.001}}).__dict__}},
        out / "stages.json")
    card = write_card(out, ExtractorTrainConfig("train.json", signals=signals)).read_text()
    block = card.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line)[1:] for line in block.splitlines()
                if line.startswith("ids-extract ")]
    assert [c[0] for c in commands].count("answer") == ("reader" in signals)
    assert "--profile fast" in block
    group = typer.main.get_command(app)
    for name, *args in commands:
        command = group.get_command(group.context_class(group), name)  # type: ignore[attr-defined]
        command.make_context(name, list(args))  # an unknown option or a bad value raises here
    assert "deprecated" not in capsys.readouterr().err


# ------------------------------------------------------------------ 9: no stale lock

def test_9_a_run_removes_the_lock_file_even_one_left_by_a_dead_run(tmp_path: Path) -> None:
    from ids_extract.files import folder_lock

    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text("pid 999999")  # a run killed with -9 left it
    with folder_lock(out):
        assert (out / ".lock").read_text().startswith("pid ")
    assert not (out / ".lock").exists()
    data = tmp_path / "d.json"
    data.write_text(json.dumps(squad_dict()), encoding="utf-8")
    (out / ".lock").write_text("pid 999999")
    res = runner.invoke(app, ["extract", str(data), "--out", str(out), "--scorers", "bm25", "-q"])
    assert res.exit_code == 0 and not (out / ".lock").exists()


# ------------------------------------------------------------------ 10: one progress style

def test_10_trainers_log_plain_lines_without_carriage_returns(
        tmp_path: Path, tiny_encoder_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from ids_extract.models.classifier.features import ClassifierConfig
    from ids_extract.models.classifier.train import train_classifier
    from ids_extract.models.training import TrainConfig
    from ids_extract.textcls import load

    from .conftest import write_rows

    data = load(write_rows(tmp_path / "train.jsonl", cls_rows()))
    train_classifier(data, str(tiny_encoder_dir), tmp_path / "model", ClassifierConfig(32, "head"),
                     TrainConfig(max_steps=2, batch_size=4, learning_rate=1e-3, precision="fp32",
                                 device="cpu", save_steps=10, logging_steps=1), quiet=False)
    err = capfd.readouterr().err
    assert "\r" not in err, err[:500]
    assert "training steps: 2/2 (100 %)" in err and re.search(r"step 1: loss \d", err), err


# ------------------------------------------------------------------ 11: no room, no text

def test_11_a_budget_with_no_room_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="max-ratio:0.1: .* leaving no room for text"):
        compress("What?", "One two three four five.", "max-ratio:0.1", scorers=["bm25"])
    requests = tmp_path / "q.jsonl"
    requests.write_text(json.dumps({"question": "What?", "context": "One two three."}) + "\n")
    res = runner.invoke(app, ["compress", str(requests), "--scorers", "bm25", "--budget",
                              "max-ratio:0.05"])
    assert res.exit_code == 2 and "no room" in res.output
    assert "error" in json.loads(res.stdout.splitlines()[0])


# ------------------------------------------------------------------ 13: small ones

def test_13_pytest_prints_its_passed_line() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    addopts = re.findall(r'^addopts\s*=\s*"([^"]*)"', pyproject, re.M)
    assert all("-q" not in opts.split() for opts in addopts)


def test_13_train_retriever_help_says_what_each_length_is() -> None:
    res = runner.invoke(app, ["train-retriever", "--help"])
    text = " ".join(res.output.split())
    question = text.split("--max-question-length <int>")[1].split("[default")[0]
    passage = text.split("--max-passage-length <int>")[1].split("[default")[0]
    assert "question" in question and "sentence" in passage and question != passage


def test_13_the_scoring_bar_counts_questions(squad_file: Path, tmp_path: Path,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    from ids_extract.pipeline.engine import extract_to_dir
    from ids_extract.pipeline.extractor import Extractor

    from .toy_scorer import ToyScorer

    extract_to_dir(Extractor(["bm25", ToyScorer()], "top-k:1"), str(squad_file), tmp_path / "o")
    err = capfd.readouterr().err
    assert "scoring: 6/6 (100 %)" in err, err  # 6 questions, 2 scorers: not 12/12


def test_13_the_onnx_cache_keeps_only_the_model_it_loads(tmp_path: Path, tiny_sbert_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    from sentence_transformers import SentenceTransformer

    from ids_extract.models.onnx import OnnxEncoder

    monkeypatch.setenv("IDS_EXTRACT_HOME", str(tmp_path))
    model = SentenceTransformer(str(tiny_sbert_dir), device="cpu")
    OnnxEncoder.of_sentence_transformer(model, quantize=True, threads=1)
    [folder] = (tmp_path / "onnx").iterdir()
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "model-int8.onnx"]
    OnnxEncoder.of_sentence_transformer(model, quantize=False, threads=1)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "model-fused.onnx", "model-int8.onnx"]
