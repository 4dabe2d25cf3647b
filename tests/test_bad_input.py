"""One bad-input set run through every command that reads a file (issue 35, items 1-3 and the
acceptance): a lone surrogate (valid JSON ``"\\ud800"``), an invalid byte on line N, an empty
file, each a located error (file and place), exit 2 and nothing written (no output folder or file,
no ``.cache``); a UTF-8 byte-order mark is read as if it were not there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ids_extract.cli import app

from .conftest import CONTEXT, cls_rows, squad_dict

runner = CliRunner()
SURROGATE = "\ud800"
BAD_LINE = 9  # the line the invalid byte is put on (of 14 or more)


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# ------------------------------------------------------------------ the bad files, per family

def _squad(path: Path, variant: str) -> tuple[Path, str]:
    """A SQuAD file (one key per line, so a line number means something) and the place its
    error must name."""
    data = squad_dict()
    if variant == "surrogate":
        data["data"][1]["paragraphs"][0]["qas"][1]["question"] = f"What river {SURROGATE}?"
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return path, "article 1 ('Paris') paragraph 0 question id q5: field 'question'"
    return _bytes_variant(path, json.dumps(data, indent=1), variant, "Who led")


def _texts(path: Path, variant: str) -> tuple[Path, str]:
    rows = cls_rows() + [{**r, "id": f"{r['id']}-2"} for r in cls_rows()]
    if variant == "surrogate":
        rows[3]["text"] = rows[3]["text"][:20] + SURROGATE + rows[3]["text"][20:]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path, f"line 4 (id {rows[3]['id']!r}): field 'text'"
    text = "".join(json.dumps(r) + "\n" for r in rows)
    return _bytes_variant(path, text, variant, '"text": "')


def _requests(path: Path, variant: str) -> tuple[Path, str]:
    rows = [{"id": f"r{i}", "question": "Who led the Norse raiders?", "context": CONTEXT}
            for i in range(14)]
    if variant == "surrogate":
        rows[BAD_LINE - 1]["question"] = "Who led " + SURROGATE
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path, f"line {BAD_LINE} (id r{BAD_LINE - 1}): field 'question'"
    text = "".join(json.dumps(r) + "\n" for r in rows)
    return _bytes_variant(path, text, variant, "Who led")


def _context(path: Path, variant: str) -> tuple[Path, str]:
    """A plain text file (``--context-file``): a surrogate cannot be written in UTF-8, so its
    variant is the three bytes a surrogate would be (CESU-8), refused as invalid UTF-8."""
    if variant == "bom":  # short: the tiny reader reads 128 positions
        path.write_bytes(b"\xef\xbb\xbf" + CONTEXT.encode("utf-8"))
        return path, ""
    text = "".join(f"{s}\n" for s in CONTEXT.split(". ")) * 3
    if variant == "surrogate":
        lines = text.split("\n")
        path.write_bytes("\n".join(lines[: BAD_LINE - 1]).encode() + b"\n\xed\xa0\x80"
                         + "\n".join(lines[BAD_LINE - 1:]).encode())
        return path, f"(line {BAD_LINE})"
    return _bytes_variant(path, text, variant, "")


def _ladder(path: Path, variant: str) -> tuple[Path, str]:
    """A ladder config (its data good) with the bad variant in the config itself."""
    train = path.parent / "train.json"
    train.write_text(json.dumps(squad_dict()), encoding="utf-8")
    config = {"train": str(train), "dev": str(train), "out": str(path.parent / "runs"),
              "training": {"max_steps": 1, "batch_size": 2},
              "cells": [{"name": "small", "init_layers": 1, "max_seq_length": 64,
                         "methods": ["window"]}]}
    if variant == "surrogate":
        config["cells"][0]["name"] = "small" + SURROGATE
        path.write_text(json.dumps(config, indent=1), encoding="utf-8")
        return path, "field 'cells[0].name'"
    return _bytes_variant(path, json.dumps(config, indent=1), variant, "")


def ladder_over(data: Path, out: Path, model: str) -> list[str]:
    """``ladder`` with a config naming ``data`` as its training and dev file."""
    config = data.parent / "ladder.json"
    config.write_text(json.dumps({"train": str(data), "dev": str(data), "training": {"max_steps": 1},
                                  "cells": [{"name": "small", "model": model, "max_seq_length": 64,
                                             "methods": ["window"]}]}), encoding="utf-8")
    return ["ladder", str(config), "--out", str(out), "-q"]


def _bytes_variant(path: Path, text: str, variant: str, marker: str) -> tuple[Path, str]:
    if variant == "empty":
        path.write_bytes(b"")
        return path, f"{path.name}: empty file"
    if variant == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        return path, ""
    assert variant == "bytes"
    lines = text.split("\n")
    assert len(lines) > BAD_LINE
    at = lines[BAD_LINE - 1].find(marker) + len(marker) if marker in lines[BAD_LINE - 1] else 0
    raw = "\n".join(lines[: BAD_LINE - 1]).encode() + b"\n"
    raw += lines[BAD_LINE - 1][:at].encode() + b"\xff" + "\n".join(lines[BAD_LINE - 1:])[at:].encode()
    path.write_bytes(raw)
    return path, f"(line {BAD_LINE})"


FAMILIES: dict[str, Callable[[Path, str], tuple[Path, str]]] = {
    "squad": _squad, "texts": _texts, "requests": _requests, "context": _context,
    "ladder": _ladder}
SUFFIX = {"squad": "train.json", "texts": "texts.jsonl", "requests": "requests.jsonl",
          "context": "context.txt", "ladder": "ladder.json"}


# ------------------------------------------------------------------ every command that reads a file

def _commands(models: dict[str, Path]) -> dict[str, tuple[str, Callable[[Path, Path], list[str]]]]:
    """command name -> (the family of its file, argv from the file and the output path)."""
    qa, enc, sbert, cls = (str(models[k]) for k in ("qa", "encoder", "sbert", "classifier"))
    return {
        "extract": ("squad", lambda f, o: ["extract", str(f), "--out", str(o), "--scorers", "bm25",
                                           "-q"]),
        "sentences": ("squad", lambda f, o: ["sentences", str(f), "--out", f"{o}.jsonl", "-q"]),
        "fit-fusion": ("squad", lambda f, o: ["fit-fusion", str(f), "--scorers", "bm25",
                                              "--out", f"{o}.json", "-q"]),
        "evaluate": ("squad", lambda f, o: ["evaluate", "--data", str(f), "--model", qa,
                                            "--out", str(o), "-q"]),
        "answer --input": ("squad", lambda f, o: ["answer", "--model", qa, "--input", str(f),
                                                  "--scorers", "bm25", "--out", f"{o}.json", "-q"]),
        "sanity-check": ("squad", lambda f, o: ["sanity-check", "--model", qa, "--data", str(f),
                                                "--out", str(o), "--sample", "2", "-q"]),
        "train-reader": ("squad", lambda f, o: ["train-reader", str(f), "--init", enc,
                                                "--out", str(o), "--max-steps", "1", "-q"]),
        "train-retriever": ("squad", lambda f, o: ["train-retriever", str(f), "--init", sbert,
                                                   "--out", str(o), "-q"]),
        "train-static": ("squad", lambda f, o: ["train-static", str(f), "--init", sbert,
                                                "--out", str(o), "--max-steps", "1", "-q"]),
        "train-extractor": ("squad", lambda f, o: ["train-extractor", str(f), "--out", str(o),
                                                   "--stages", "bm25", "--init", enc, "-q"]),
        "ladder (its data)": ("squad", lambda f, o: ladder_over(f, o, enc)),
        "ladder (its config)": ("ladder", lambda f, o: ["ladder", str(f), "--out", str(o), "-q"]),
        "answer --context-file": ("context", lambda f, o: [
            "answer", "--model", qa, "--question", "Who led?", "--context-file", str(f),
            "--scorers", "bm25", "--out", f"{o}.json", "-q"]),
        "explain --context-file": ("context", lambda f, o: [
            "explain", "--model", qa, "--question", "Who led?", "--context-file", str(f),
            "--out", f"{o}.html", "--ig-steps", "2", "-q"]),
        "split-texts": ("texts", lambda f, o: ["split-texts", str(f), "--out", str(o), "-q"]),
        "extract-texts": ("texts", lambda f, o: ["extract-texts", str(f), "--out", str(o),
                                                 "--scorers", "lead", "-q"]),
        "evaluate-classifier": ("texts", lambda f, o: ["evaluate-classifier", "--model", cls,
                                                       "--data", str(f), "--out", str(o), "-q"]),
        "train-classifier": ("texts", lambda f, o: ["train-classifier", str(f), "--init", enc,
                                                    "--out", str(o), "--max-steps", "1", "-q"]),
        "sanity-check (classifier)": ("texts", lambda f, o: [
            "sanity-check", "--model", cls, "--data", str(f), "--out", str(o), "--sample", "2",
            "-q"]),
    }


COMMANDS = sorted(_commands(dict.fromkeys(("qa", "encoder", "sbert", "classifier"), Path())))


@pytest.fixture
def models(tiny_qa_dir: Path, tiny_encoder_dir: Path, tiny_sbert_dir: Path,
           tiny_classifier_dir: Path) -> dict[str, Path]:
    return {"qa": tiny_qa_dir, "encoder": tiny_encoder_dir, "sbert": tiny_sbert_dir,
            "classifier": tiny_classifier_dir}


@pytest.mark.parametrize("variant", ["surrogate", "bytes", "empty"])
@pytest.mark.parametrize("command", COMMANDS)
def test_bad_input_is_a_located_error_exit_2_and_nothing_written(
        command: str, variant: str, tmp_path: Path, models: dict[str, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    family, argv = _commands(models)[command]
    data = tmp_path / "in"
    data.mkdir()
    path, place = FAMILIES[family](data / SUFFIX[family], variant)
    monkeypatch.chdir(tmp_path)  # a default output folder would land here
    args = argv(path, tmp_path / "out")
    before = _tree(tmp_path)
    res = runner.invoke(app, args)
    output = res.output.replace("\n", "")
    assert res.exit_code == 2, output
    assert output.count("error:") == 1, output
    assert f"{path.name}: " in output and place in output, output
    if variant == "surrogate" and family != "context":
        assert "lone surrogate" in output, output
    assert _tree(tmp_path) == before, output


@pytest.mark.parametrize("command", ["extract", "split-texts", "extract-texts",
                                     "answer --context-file", "sentences"])
def test_a_byte_order_mark_is_read_as_if_absent(command: str, tmp_path: Path,
                                                models: dict[str, Path]) -> None:
    family, argv = _commands(models)[command]
    outputs = []
    for variant in ("bom", "plain"):
        folder = tmp_path / variant
        folder.mkdir()
        if variant == "bom":
            path, _ = FAMILIES[family](folder / SUFFIX[family], "bom")
        else:
            path = folder / SUFFIX[family]
            path.write_bytes((tmp_path / "bom" / SUFFIX[family]).read_bytes()[3:])
        res = runner.invoke(app, argv(path, folder / "out"))
        assert res.exit_code == 0, res.output
        written = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"
                         and ".cache" not in p.parts and p != path)
        outputs.append({str(p.relative_to(folder)): p.read_bytes() for p in written})
    assert outputs[0] == outputs[1] and outputs[0]


# ------------------------------------------------------------------ compress: one line at a time

@pytest.mark.parametrize("variant", ["surrogate", "bytes"])
def test_compress_names_the_bad_line_and_answers_the_others(variant: str, tmp_path: Path) -> None:
    path, place = _requests(tmp_path / "requests.jsonl", variant)
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["compress", str(path), "--scorers", "bm25", "--out", str(out), "-q"])
    output = res.output.replace("\n", "")
    assert res.exit_code == 2, output
    assert f"requests.jsonl: line {BAD_LINE}" in output and "1 request(s) failed" in output, output
    if variant == "bytes":
        assert "byte " in output, output
    else:
        assert "lone surrogate" in output and place in output, output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 14 and [r["id"] for r in rows] == [f"r{i}" for i in range(14)]
    assert ["error" in r for r in rows] == [i == BAD_LINE - 1 for i in range(14)]


def test_compress_an_empty_file_is_an_error_and_nothing_is_written(tmp_path: Path) -> None:
    path, _ = _requests(tmp_path / "requests.jsonl", "empty")
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["compress", str(path), "--scorers", "bm25", "--out", str(out), "-q"])
    assert res.exit_code == 2 and "requests.jsonl: empty file" in res.output, res.output
    assert not out.exists()


def test_compress_a_byte_order_mark_is_read_as_if_absent(tmp_path: Path) -> None:
    path, _ = _requests(tmp_path / "requests.jsonl", "bom")
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(path.read_bytes()[3:])
    got = [runner.invoke(app, ["compress", str(p), "--scorers", "bm25", "-q"]) for p in (path, plain)]
    assert [r.exit_code for r in got] == [0, 0] and got[0].output == got[1].output


# ------------------------------------------------------------------ output folders: validate, stats

@pytest.mark.parametrize("variant", ["surrogate", "bytes", "empty"])
@pytest.mark.parametrize("command", ["validate", "stats"])
def test_a_damaged_output_folder_is_a_located_error(command: str, variant: str, squad_file: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(out), "--scorers", "bm25",
                              "--levels", "top-k:1", "-q"])
    assert res.exit_code == 0, res.output
    manifest = out / "manifest.json"
    if variant == "surrogate":
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        raw["input"] = {**raw.get("input", {}), "path": "x" + SURROGATE}
        manifest.write_text(json.dumps(raw, indent=1), encoding="utf-8")
    else:
        _bytes_variant(manifest, json.dumps(json.loads(manifest.read_text(encoding="utf-8")),
                                            indent=1), variant, "")
    before = _tree(tmp_path)
    res = runner.invoke(app, [command, str(out)])
    output = res.output.replace("\n", "")
    assert res.exit_code == 2, output
    assert "manifest.json" in output and output.count("error:") == 1, output
    assert _tree(tmp_path) == before
