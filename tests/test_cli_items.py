"""What a new user hit on the command line (issue 29, user items 1 and 4-9), each refused or done
as the README says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ids_extract.cli import app

from .conftest import CONTEXT, CONTEXT2, cls_rows, write_rows

runner = CliRunner()


def _extract(squad_file: Path, out: Path, levels: str, *more: str) -> object:
    return runner.invoke(app, ["extract", str(squad_file), "--out", str(out), "--scorers", "bm25",
                               "--levels", levels, "--quiet", *more])


def test_1_a_level_added_reuses_the_score_cache(squad_file: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o"
    res = _extract(squad_file, out, "top-k:1")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    first = (out / "D1-top-k1.json").read_bytes()
    cache = sorted((out / ".cache").rglob("*.npz"))
    assert cache

    def no_scoring(*args: object, **kwargs: object) -> None:
        raise AssertionError("scored again: the cache was not reused")

    monkeypatch.setattr("ids_extract.pipeline.run.score_segmented", no_scoring)
    res = _extract(squad_file, out, "top-k:1,top-k:2")  # no --overwrite needed
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert (out / "D1-top-k1.json").read_bytes() == first and (out / "D2-top-k2.json").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [e["name"] for e in manifest["levels"]] == ["D1-top-k1", "D2-top-k2"]
    assert sorted((out / ".cache").rglob("*.npz")) == cache
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0

    # leaving a written level out: refused; with --overwrite its file goes, the cache stays
    res = _extract(squad_file, out, "top-k:2")
    assert res.exit_code == 2 and "D1-top-k1, D2-top-k2" in res.output  # type: ignore[attr-defined]
    res = _extract(squad_file, out, "top-k:2", "--overwrite")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert sorted(p.name for p in out.glob("D*")) == ["D1-top-k2.json"]
    assert sorted((out / ".cache").rglob("*.npz")) == cache
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    # another scoring config still needs --overwrite, and then scores afresh
    res = _extract(squad_file, out, "top-k:2", "--segmenter", "blingfire")
    assert res.exit_code == 2 and "another input or config" in res.output  # type: ignore[attr-defined]


def test_4_a_negative_cascade_k_is_refused_before_any_work(squad_file: Path,
                                                          tmp_path: Path) -> None:
    res = _extract(squad_file, tmp_path / "o", "top-k:1", "--cascade-k", "-1")
    assert res.exit_code == 2 and "--cascade-k -1" in res.output  # type: ignore[attr-defined]
    assert not (tmp_path / "o").exists()
    res = _extract(squad_file, tmp_path / "o", "top-k:1", "--cascade-k", "0")  # 0 is off
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    res = runner.invoke(app, ["compress", "--scorers", "bm25", "--cascade-k", "-2"],
                        input="not even json\n")
    assert res.exit_code == 2 and res.stdout == "" and "--cascade-k -2" in res.output


@pytest.mark.parametrize(("option", "message"), [
    (["--weights", "bm25=1,sbret=2"], "unknown scorer 'sbret'"),
    (["--budget", "tokens:64@no-such-tokenizer"], "--budget tokens:64@no-such-tokenizer"),
    (["--segmenter", "nltk"], "nltk")])
def test_5_options_that_would_fail_every_line_are_refused_first(option: list[str],
                                                                message: str) -> None:
    res = runner.invoke(app, ["compress", "--scorers", "bm25", *option], input="not json\n")
    assert res.exit_code == 2 and res.stdout == "" and message in res.output
    assert "line 1" not in res.output  # no line was read


def test_6_context_and_passages_and_a_repeated_id_are_errors_of_their_line(tmp_path: Path) -> None:
    rows = [{"id": "a", "question": "Who led the Norse raiders?", "context": CONTEXT},
            {"id": "both", "question": "Who?", "context": CONTEXT, "passages": [CONTEXT2]},
            {"id": "a", "question": "What river flows through Paris?", "context": CONTEXT2}]
    src = write_rows(tmp_path / "in.jsonl", rows)
    res = runner.invoke(app, ["compress", str(src), "--scorers", "bm25"])
    assert res.exit_code == 2
    got = [json.loads(line) for line in res.stdout.splitlines()]
    assert [g["id"] for g in got] == ["a", "both", "a"] and "Rollo" in got[0]["text"]
    assert got[1]["error"] == "give 'context' or 'passages', not both"
    assert "used on line 1" in got[2]["error"] and f"{src}: line 3 (id a)" in res.output
    assert "2 request(s) failed" in res.output


def test_7_compress_out_is_not_replaced_silently(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n", encoding="utf-8")
    row = json.dumps({"question": "Who led the Norse raiders?", "context": CONTEXT}) + "\n"
    res = runner.invoke(app, ["compress", "--scorers", "bm25", "--out", str(out)], input=row)
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert out.read_text(encoding="utf-8") == "keep me\n"
    res = runner.invoke(app, ["compress", "--scorers", "bm25", "--out", str(out), "--overwrite"],
                        input=row)
    assert res.exit_code == 0 and "Rollo" in json.loads(out.read_text(encoding="utf-8"))["text"]


def test_8_split_texts_is_idempotent_and_refuses_another_input(cls_file: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "split"
    split = ["split-texts", "--out", str(out), "--every", "4"]
    assert runner.invoke(app, [*split[:1], str(cls_file), *split[1:]]).exit_code == 0
    train = (out / "train.jsonl").read_bytes()
    res = runner.invoke(app, [*split[:1], str(cls_file), *split[1:]])
    assert res.exit_code == 0 and "already there" in res.output
    other = write_rows(tmp_path / "other.jsonl", cls_rows()[:6])
    res = runner.invoke(app, [*split[:1], str(other), *split[1:]])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert (out / "train.jsonl").read_bytes() == train
    res = runner.invoke(app, [*split[:1], str(other), *split[1:], "--overwrite"])
    assert res.exit_code == 0 and (out / "train.jsonl").read_bytes() != train
    (out / "manifest.json").unlink()  # a split of an earlier version: no manifest to tell
    res = runner.invoke(app, [*split[:1], str(cls_file), *split[1:]])
    assert res.exit_code == 2 and "unknown split" in res.output


def test_9_q_on_split_texts_stats_validate_and_scorers(cls_file: Path, squad_file: Path,
                                                       tmp_path: Path) -> None:
    res = runner.invoke(app, ["split-texts", str(cls_file), "--out", str(tmp_path / "s"), "-q"])
    assert res.exit_code == 0 and res.output == "" and (tmp_path / "s" / "dev.jsonl").exists()
    out = tmp_path / "o"
    assert _extract(squad_file, out, "top-k:1").exit_code == 0  # type: ignore[attr-defined]
    assert runner.invoke(app, ["stats", str(out)]).output
    res = runner.invoke(app, ["stats", str(out), "-q"])
    assert res.exit_code == 0 and res.output == ""
    assert runner.invoke(app, ["validate", str(out), "-q"]).output == ""  # only failures
    (out / "D1-top-k1.json").write_text("{}", encoding="utf-8")
    res = runner.invoke(app, ["validate", str(out), "-q"])
    assert res.exit_code == 1 and "FAIL" in res.output and "ok " not in res.output
    res = runner.invoke(app, ["scorers", "-q"])
    assert res.exit_code == 0 and res.output.split() == ["bm25", "sbert", "dpr", "ig", "reader",
                                                         "cross", "static", "cross-small"]


def test_one_ig_step_default_and_one_ig_precision_rule() -> None:
    """Declared once: the trained extractor's IG steps are every command's, and the IG scorers
    decide ``auto`` precision by the one library rule."""
    from ids_extract.apps.extractor_config import ExtractorTrainConfig
    from ids_extract.models.runtime import cpu_has_native_bf16, ig_precision
    from ids_extract.scorers.options import IG_STEPS

    assert ExtractorTrainConfig("train.json").ig_steps == IG_STEPS == 16
    assert ig_precision("auto", "cpu") == ("bf16" if cpu_has_native_bf16() else "fp32")
