"""The classification commands: extract-texts, train-classifier, evaluate-classifier, explain and
sanity-check on a classifier; every bad input one line naming file and place, exit 2, nothing
written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ids_extract.cli import app

from .conftest import CONTEXT, cls_rows, write_rows

runner = CliRunner()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


BAD = {
    "empty text": ([{"id": "a", "text": "ok", "label": "x"}, {"id": "b", "text": "", "label": "y"}],
                   "line 2 (id 'b'): empty text"),
    "missing label": ([{"id": "a", "text": "ok", "label": "x"}, {"id": "b", "text": "fine"}],
                      "line 2 (id 'b'): missing label"),
    "duplicate id": ([{"id": "a", "text": "ok", "label": "x"}, {"id": "a", "text": "no", "label": "y"}],
                     "line 2 (id 'a'): duplicate id (first at line 1 (id 'a'))"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", ["extract-texts", "train-classifier", "evaluate-classifier"])
def test_bad_input_exit_2_with_place_and_nothing_written(case: str, command: str, tmp_path: Path,
                                                         tiny_classifier_dir: Path) -> None:
    rows, message = BAD[case]
    data = write_rows(tmp_path / "bad.jsonl", rows)
    out = tmp_path / "out"
    before = _files(tiny_classifier_dir)
    args = {"extract-texts": [str(data), "--out", str(out), "--scorers", "lead", "--split", "train"],
            "train-classifier": [str(data), "--out", str(out)],
            "evaluate-classifier": ["--model", str(tiny_classifier_dir), "--data", str(data),
                                    "--out", str(out)]}[command]
    res = runner.invoke(app, [command, *args])
    assert res.exit_code == 2, res.output
    assert f"bad.jsonl: {message}" in res.output.replace("\n", "")
    assert res.output.count("error:") == 1
    assert _files(out) == [] and _files(tiny_classifier_dir) == before


def test_invalid_utf8_names_byte_and_line(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_bytes(b'{"id": "a", "text": "ok", "label": "x"}\n{"id": "b", "text": "\xff"}\n')
    res = runner.invoke(app, ["extract-texts", str(data), "--out", str(tmp_path / "o"),
                              "--scorers", "lead"])
    assert res.exit_code == 2 and "bad.jsonl: byte 61 (line 2): invalid UTF-8" in res.output
    assert not (tmp_path / "o").exists()


def test_bad_options_exit_2(cls_file: Path, tmp_path: Path, tiny_classifier_dir: Path) -> None:
    out = tmp_path / "o"
    for args in (["--levels", "tokens:abc"], ["--scorers", "bm25"], ["--unit", "word"],
                 ["--scorers", "alone"],  # needs --classifier-model
                 ["--scorers", "alone", "--classifier-model", str(tiny_classifier_dir),
                  "--target", "gold"]):  # gold labels only on a training split
        res = runner.invoke(app, ["extract-texts", str(cls_file), "--out", str(out), *args])
        assert res.exit_code == 2, (args, res.output)
        assert not out.exists() or _files(out) == [], args
    res = runner.invoke(app, ["train-classifier", str(cls_file), "--out", str(out),
                              "--mode", "sideways"])
    assert res.exit_code == 2 and "mode 'sideways'" in res.output
    res = runner.invoke(app, ["evaluate-classifier", "--model", str(tiny_classifier_dir), "--data",
                              str(cls_file), "--windows", "--mode", "head"])
    assert res.exit_code == 2


def test_extract_train_evaluate(cls_file: Path, tmp_path: Path, tiny_encoder_dir: Path,
                                tiny_classifier_dir: Path) -> None:
    out = tmp_path / "ext"
    res = runner.invoke(app, ["extract-texts", str(cls_file), "--out", str(out), "--scorers",
                              "alone,lead", "--classifier-model", str(tiny_classifier_dir),
                              "--device", "cpu", "--split", "train", "--levels", "tokens:24",
                              "--quiet"])
    assert res.exit_code == 0, res.output
    level = out / "D1-tokens24.jsonl"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    alone = manifest["config"]["scorers"][0]
    assert alone["name"] == "alone" and len(alone["model"]["sha256"]) == 64
    model = tmp_path / "clf"
    res = runner.invoke(app, ["train-classifier", str(level), "--out", str(model),
                              "--init", str(tiny_encoder_dir), "--max-seq-length", "24",
                              "--max-steps", "2", "--batch-size", "4", "--precision", "fp32",
                              "--device", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["steps"] == 2
    res = runner.invoke(app, ["train-classifier", str(level), "--out", str(model),
                              "--init", str(tiny_encoder_dir), "--max-seq-length", "24",
                              "--max-steps", "2", "--batch-size", "4", "--precision", "fp32",
                              "--device", "cpu", "--quiet"])
    assert res.exit_code == 0 and "nothing to do" in res.output
    ev = tmp_path / "ev"
    res = runner.invoke(app, ["evaluate-classifier", "--model", str(model), "--data",
                              str(cls_file), "--out", str(ev), "--windows", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    metrics = json.loads((ev / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["mode"] == "windows" and metrics["texts"] == 8
    assert 0 <= metrics["accuracy"] <= 100 and len(metrics["confusion_matrix"]) == 2
    predictions = [json.loads(x) for x in (ev / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == [r["id"] for r in cls_rows()]
    assert all(p["windows"] >= 1 for p in predictions) and max(p["windows"] for p in predictions) > 1
    assert (ev / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_explain_and_sanity_for_a_classifier(tiny_classifier_dir: Path, cls_file: Path,
                                             tmp_path: Path) -> None:
    page = tmp_path / "why.html"
    res = runner.invoke(app, ["explain", "-m", str(tiny_classifier_dir), "--text", CONTEXT,
                              "--out", str(page), "--ig-steps", "4", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    assert "Predicted class" in html and "sentence alone" in html and "Question:" not in html
    assert html.count('class="s"') == 5 and page.with_suffix(".png").exists()
    res = runner.invoke(app, ["explain", "-m", str(tiny_classifier_dir), "-q", "Why?", "--text",
                              CONTEXT, "--out", str(tmp_path / "no.html")])
    assert res.exit_code == 2 and not (tmp_path / "no.html").exists()
    out = tmp_path / "sanity"
    res = runner.invoke(app, ["sanity-check", "-m", str(tiny_classifier_dir), "--data",
                              str(cls_file), "--out", str(out), "--sample", "4", "--ig-steps", "2",
                              "--device", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    saved = json.loads((out / "sanity.json").read_text(encoding="utf-8"))
    blocks = [s["block"] for s in saved["steps"] if s["schedule"] == "cascading"]
    assert blocks == ["head:classifier", "pooler", "layer 1", "layer 0", "embeddings"]
    assert saved["questions"] == 4 and saved["verdict"].split(":")[0] in ("PASS", "FAIL")


def test_split_texts(cls_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "split"
    res = runner.invoke(app, ["split-texts", str(cls_file), "--out", str(out), "--every", "4",
                              "--offset", "1"])
    assert res.exit_code == 0, res.output
    from ids_extract.textcls import load

    train, dev = load(out / "train.jsonl"), load(out / "dev.jsonl")
    assert dev.ids == ["p0", "p2"] and len(train) == 6  # texts 1 and 5 of 8
    assert not set(train.ids) & set(dev.ids)
    res = runner.invoke(app, ["split-texts", str(cls_file), "--out", str(tmp_path / "x"),
                              "--every", "1"])
    assert res.exit_code == 2 and not (tmp_path / "x").exists()
