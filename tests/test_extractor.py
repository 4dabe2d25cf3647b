from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ids_extract import Extractor
from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.files import sha256_file
from ids_extract.models.hub import load_tokenizer
from ids_extract.pipeline.engine import extract_to_dir
from ids_extract.pipeline.validate import validate_dir
from ids_extract.scorers.bm25 import BM25Scorer
from ids_extract.squad.model import SquadDataset
from ids_extract.squad.read import load

from .conftest import CONTEXT, squad_dict

runner = CliRunner()


def run(squad: Path, out: Path, **kwargs: Any) -> Any:
    levels = kwargs.pop("levels", "top-k:1,ratio:0.5")
    return extract_to_dir(Extractor(["bm25"], levels, quiet=True, **kwargs), str(squad), out)


def answers_ok(path: Path) -> SquadDataset:
    """The loader itself checks every answer against its offset; ids must be the input's."""
    ds = load(path)
    assert [qa.id for _, _, qa in ds.iter_qas()] == [f"q{i}" for i in range(1, 7)]
    return ds


def test_ladder_writes_levels_manifest_and_validates(squad_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(squad_file, out, levels="top-k:1,ratio:0.5,threshold:0.5")
    manifest = json.loads((out / "manifest.json").read_text())
    names = [lv["name"] for lv in manifest["levels"]]
    assert names == ["D1-top-k1", "D2-ratio0.5", "D3-threshold0.5"]
    assert manifest["input"]["sha256"] == sha256_file(squad_file)
    assert manifest["config"]["scorers"][0]["name"] == "bm25"
    assert {"torch", "transformers", "bm25s"} <= set(manifest["packages"])
    assert manifest["ranking"]["top_k_recall_pct"]["bm25"]["top3"] == 100.0
    top1 = answers_ok(out / "D1-top-k1.json")
    for _, par, _ in top1.iter_qas():
        assert par.context in CONTEXT or par.context in squad_dict()["data"][1]["paragraphs"][0][
            "context"]
    q2 = [p for _, p, qa in top1.iter_qas() if qa.id == "q2"][0]
    assert q2.context == "In 1066, William the Conqueror invaded England. "
    assert q2.qas[0].answers[0].answer_start == 3
    assert all(c.ok for c in validate_dir(out))
    stats = manifest["levels"][0]["stats"]
    assert stats["questions"] == 6 and stats["kept_sentences_mean"] == 1.0


def test_tokens_level_fits_question_and_context(squad_file: Path, tmp_path: Path,
                                                tiny_tokenizer_dir: Path) -> None:
    out = tmp_path / "out"
    run(squad_file, out, levels=f"tokens:40@{tiny_tokenizer_dir}", split="train")
    ds = answers_ok(next(out.glob("D1-*.json")))
    tok = load_tokenizer(str(tiny_tokenizer_dir))
    for _, par, qa in ds.iter_qas():
        n = len(tok(qa.question, par.context)["input_ids"])
        assert n <= 40, (qa.id, n)
        assert qa.answers, "keep-gold never loses an answer on a training split"


def test_eval_split_marks_lost_unanswerable_or_drops(squad_file: Path, tmp_path: Path) -> None:
    # 'What marks the spot?': with top-k:1 on a question that matches several sentences some
    # answers are lost; no gold is used, so lost ones become unanswerable by default.
    run(squad_file, tmp_path / "u", levels="top-k:1")
    manifest = json.loads((tmp_path / "u" / "manifest.json").read_text())
    stats = manifest["levels"][0]["stats"]
    ds = load(tmp_path / "u" / "D1-top-k1.json")
    impossible = [qa.id for _, _, qa in ds.iter_qas() if qa.is_impossible]
    assert len(impossible) == stats["made_unanswerable"] == 6 - stats["retained"]
    run(squad_file, tmp_path / "d", levels="top-k:1", lost="drop")
    dropped = load(tmp_path / "d" / "D1-top-k1.json")
    assert dropped.num_questions == 6 - len(impossible)
    assert all(c.ok for c in validate_dir(tmp_path / "d"))


def test_keep_gold_refused_on_eval_split() -> None:
    with pytest.raises(ConfigError, match="only allowed with split='train'"):
        Extractor(["bm25"], "top-k:1", split="eval", lost="keep-gold")


def test_answer_crossing_sentences_is_never_cut_on_train(tmp_path: Path) -> None:
    raw = squad_dict()
    start = CONTEXT.index("led by Rollo")
    raw["data"][0]["paragraphs"][0]["qas"][0]["answers"] = [
        {"text": CONTEXT[start : start + 30], "answer_start": start}]
    path = tmp_path / "cross.json"
    path.write_text(json.dumps(raw))
    run(path, tmp_path / "out", levels="top-k:1", split="train")
    ds = load(tmp_path / "out" / "D1-top-k1.json")
    q1 = [p for _, p, qa in ds.iter_qas() if qa.id == "q1"][0]
    assert "led by Rollo. Their identity" in q1.context and q1.qas[0].answers


def test_same_input_and_config_give_identical_bytes(squad_file: Path, tmp_path: Path) -> None:
    run(squad_file, tmp_path / "a")
    run(squad_file, tmp_path / "b")
    written = sorted(f.name for f in (tmp_path / "a").glob("*.json"))
    assert written == ["D1-top-k1.json", "D2-ratio0.5.json",
                       "manifest.json"]  # the comparison below must not pass on an empty folder
    for name in written:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_rerun_skips_finished_levels_and_reuses_scores(squad_file: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    first = run(squad_file, out)
    before = (out / "D2-ratio0.5.json").read_bytes()
    (out / "D2-ratio0.5.json").unlink()

    def no_scoring(*_: Any) -> None:
        raise AssertionError("scores should come from the cache")

    monkeypatch.setattr(BM25Scorer, "score", no_scoring)
    second = run(squad_file, out)
    assert first.written == ["D1-top-k1", "D2-ratio0.5"]
    assert second.skipped == ["D1-top-k1"] and second.written == ["D2-ratio0.5"]
    assert (out / "D2-ratio0.5.json").read_bytes() == before
    third = run(squad_file, out)
    assert third.written == [] and third.skipped == ["D1-top-k1", "D2-ratio0.5"]


def test_other_config_in_same_folder_needs_overwrite(squad_file: Path, tmp_path: Path) -> None:
    run(squad_file, tmp_path / "o")
    with pytest.raises(ConfigError, match="`overwrite`"):
        run(squad_file, tmp_path / "o", levels="top-k:2")


def test_cli_extract_stats_validate(squad_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(out), "--scorers", "bm25",
                              "--levels", "top-k:1,top-k:2", "--format", "squad,parquet"])
    assert res.exit_code == 0, res.output
    assert "D2-top-k2" in res.output and "retention" in res.output
    assert (out / "D1-top-k1.parquet").exists()
    assert load(out / "D1-top-k1.parquet").num_questions == 6
    assert runner.invoke(app, ["stats", str(out)]).exit_code == 0
    res = runner.invoke(app, ["validate", str(out)])
    assert res.exit_code == 0 and res.output.count("ok ") == 4
    (out / "D1-top-k1.json").write_text("{}")
    res = runner.invoke(app, ["validate", str(out)])
    assert res.exit_code == 1 and "sha256 differs" in res.output


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    raw = squad_dict()
    raw["data"][1]["paragraphs"][0]["qas"][1]["answers"][0]["answer_start"] = 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    out = tmp_path / "never"
    res = runner.invoke(app, ["extract", str(bad), "--out", str(out), "--scorers", "bm25"])
    assert res.exit_code == 2
    assert "bad.json" in res.output and "question id q5" in res.output
    assert not out.exists()
    res = runner.invoke(app, ["extract", str(bad), "--out", str(tmp_path / "skip"), "--scorers",
                              "bm25", "--on-bad-answer", "skip", "--levels", "top-k:1"])
    assert res.exit_code == 0 and "2 answers or questions repaired or skipped" in res.output
    assert load(tmp_path / "skip" / "D1-top-k1.json").num_questions == 5
    res = runner.invoke(app, ["extract", str(bad), "--out", str(out), "--levels", "top-k:0"])
    assert res.exit_code == 2 and "positive whole number" in res.output


def test_overwrite_removes_the_replaced_config_and_validate_flags_strays(squad_file: Path,
                                                                        tmp_path: Path) -> None:
    out = tmp_path / "o"
    run(squad_file, out, levels="ratio:0.5")
    extract_to_dir(Extractor(["bm25"], "top-k:1", quiet=True), str(squad_file), out,
                   overwrite=True)
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["D1-top-k1.json", "manifest.json"]  # no D1-ratio0.5.json left behind
    assert len(list((out / ".cache").glob("shards-*"))) == 1
    assert all(c.ok for c in validate_dir(out))
    (out / "D1-ratio0.5.json").write_text("{}")  # a stray file the manifest does not know
    bad = [c for c in validate_dir(out) if not c.ok]
    assert [c.file for c in bad] == ["D1-ratio0.5.json"] and "not listed" in bad[0].message


def test_a_level_with_unanswerables_says_v2(tmp_path: Path) -> None:
    raw = squad_dict()
    context = raw["data"][1]["paragraphs"][0]["context"]
    raw["data"][1]["paragraphs"][0]["qas"].append(  # bm25 picks "Paris is the capital of France."
        {"id": "q7", "question": "How many people live in the capital of France?",
         "answers": [{"text": "2 million", "answer_start": context.index("2 million")}]})
    squad_file = tmp_path / "lossy.json"
    squad_file.write_text(json.dumps(raw))
    run(squad_file, tmp_path / "u", levels="top-k:1")  # eval split: lost -> unanswerable
    raw = json.loads((tmp_path / "u" / "D1-top-k1.json").read_text())
    impossible = [qa for a in raw["data"] for p in a["paragraphs"] for qa in p["qas"]
                  if qa["is_impossible"]]
    assert impossible and raw["version"] == "v2.0"
    manifest = json.loads((tmp_path / "u" / "manifest.json").read_text())
    assert manifest["levels"][0]["squad_version"] == "v2.0"
    run(squad_file, tmp_path / "d", levels="top-k:1", lost="drop")  # v1.1 records only
    raw = json.loads((tmp_path / "d" / "D1-top-k1.json").read_text())
    assert raw["version"] == "1.1"
    assert all("is_impossible" not in qa for a in raw["data"] for p in a["paragraphs"]
               for qa in p["qas"])
