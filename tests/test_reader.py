"""The reader: features with offsets and windows, n-best decoding, a few real training steps,
resume, evaluation, the ladder and the CLI (tiny BERTs built from configs)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.models.qa.decode import decode
from ids_extract.models.qa.features import (
    EvalFeatures,
    Example,
    ReaderConfig,
    eval_features,
    examples_of,
    train_features,
)
from ids_extract.models.qa.reader import Reader
from ids_extract.models.qa.train import TrainConfig, train_reader
from ids_extract.squad.model import Answer
from ids_extract.squad.read import load
from ids_extract.squad.write import write_squad

from .conftest import CONTEXT

runner = CliRunner()
FAST = TrainConfig(max_steps=3, batch_size=4, learning_rate=1e-3, precision="fp32", device="cpu",
                   save_steps=2, logging_steps=1)


@pytest.fixture(scope="session")
def trained_reader(tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .conftest import squad_dict

    out = tmp_path_factory.mktemp("reader")
    path = out / "train.json"
    path.write_text(json.dumps(squad_dict()), encoding="utf-8")
    train_reader(load(path), str(tiny_encoder_dir), out / "model",
                 ReaderConfig(max_seq_length=32, doc_stride=8), FAST, quiet=True)
    return out / "model"


def tokenizer_of(folder: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder)


def test_window_labels_point_at_the_answer(squad_file: Path, tiny_tokenizer_dir: Path) -> None:
    tok = tokenizer_of(tiny_tokenizer_dir)
    examples = examples_of(load(squad_file))
    cfg = ReaderConfig(max_seq_length=32, doc_stride=8)
    cols = train_features(tok, examples, cfg)
    enc_eval = eval_features(tok, examples, cfg)
    assert len(cols["input_ids"]) == len(enc_eval.inputs) > len(examples)  # windows
    assert all(len(ids) <= 32 for ids in cols["input_ids"])
    labelled = 0
    for f, (s, e) in enumerate(zip(cols["start_positions"], cols["end_positions"], strict=True)):
        ex = examples[enc_eval.example_index[f]]
        if s == 0:
            assert e == 0
            continue
        offs = enc_eval.offsets[f]
        assert offs[s] is not None and offs[e] is not None
        assert ex.context[offs[s][0]:offs[e][1]].lower() == ex.answers[0].text.lower()
        labelled += 1
    # every answer is short, so each example has at least one window holding it
    assert labelled >= len(examples)


def test_truncate_gives_one_feature_per_example(squad_file: Path, tiny_tokenizer_dir: Path) -> None:
    tok = tokenizer_of(tiny_tokenizer_dir)
    examples = examples_of(load(squad_file))
    cols = train_features(tok, examples, ReaderConfig(max_seq_length=20, mode="truncate",
                                                      max_question_tokens=8))
    assert len(cols["input_ids"]) == len(examples)
    # "What marks the spot?" -> X is the last word of CONTEXT2: cut off, labelled [CLS]
    assert cols["start_positions"][5] == 0


def test_long_question_is_cut_and_stride_checked(tiny_tokenizer_dir: Path) -> None:
    tok = tokenizer_of(tiny_tokenizer_dir)
    long_q = " ".join(["Who led the Norse raiders"] * 20)
    ex = Example("x", "   " + long_q, CONTEXT, [Answer("Rollo", CONTEXT.index("Rollo"))])
    cfg = ReaderConfig(max_seq_length=32, doc_stride=4)
    cols = train_features(tok, [ex], cfg)
    sep = tok.sep_token_id
    for ids in cols["input_ids"]:
        assert ids.index(sep) - 1 <= cfg.question_tokens  # question part within its limit
    with pytest.raises(ConfigError, match="doc_stride"):
        ReaderConfig(max_seq_length=32, doc_stride=20).check()
    with pytest.raises(ConfigError, match="too few"):
        ReaderConfig(max_seq_length=12).check()


def test_decode_best_span_and_no_answer() -> None:
    ctx = "Rollo led them in 911."
    ex = Example("a", "Who?", ctx)
    offsets = [None, None, (0, 5), (6, 9), (10, 14), (15, 17), (18, 21), (21, 22), None]
    feats = EvalFeatures([{"input_ids": [0] * 9}], [0], [offsets])  # type: ignore[list-item]
    start = np.zeros(9)
    end = np.zeros(9)
    start[6], end[7] = 5.0, 4.0  # "911." best
    start[2], end[2] = 4.5, 4.4  # "Rollo" second
    end[1] = 100.0  # a question token: never an answer
    (pred,) = decode([ex], feats, [start], [end], ReaderConfig(max_seq_length=9))
    assert (pred.text, pred.start, pred.end) == ("911.", 18, 22)
    assert ctx[pred.start:pred.end] == pred.text
    assert pred.nbest[0]["text"] == "911." and pred.nbest[1]["text"] == "Rollo"
    assert sum(n["probability"] for n in pred.nbest) == pytest.approx(1.0)
    start[0], end[0] = 10.0, 10.0  # [CLS] wins
    (v1,) = decode([ex], feats, [start], [end], ReaderConfig(max_seq_length=9))
    (v2,) = decode([ex], feats, [start], [end], ReaderConfig(max_seq_length=9, version2=True))
    assert v1.text == "911." and v2.text == "" and v2.na_prob > 0.99
    (short,) = decode([ex], feats, [start], [end], ReaderConfig(max_seq_length=9,
                                                               max_answer_length=1))
    assert short.text == "Rollo"  # the 2-token "911." is too long


def test_train_few_steps_end_to_end(trained_reader: Path, squad_file: Path) -> None:
    meta = json.loads((trained_reader / "reader.json").read_text())
    assert meta["reader"]["max_seq_length"] == 32 and meta["summary"]["steps"] == 3
    assert meta["summary"]["features"] > 6 and meta["summary"]["examples"] == 6
    reader = Reader.load(trained_reader, device="cpu", precision="fp32")
    examples = examples_of(load(squad_file))
    preds = reader.predict(examples)
    assert [p.id for p in preds] == [e.id for e in examples]
    for p, e in zip(preds, examples, strict=True):
        assert p.text and e.context[p.start:p.end] == p.text
        assert len(reader.tokenizer(p.text, add_special_tokens=False)["input_ids"]) <= 30


def test_training_resumes_from_checkpoint(tiny_encoder_dir: Path, squad_file: Path,
                                          tmp_path: Path) -> None:
    out = tmp_path / "m"
    cfg = TrainConfig(**{**FAST.__dict__, "max_steps": 4})
    first = train_reader(load(squad_file), str(tiny_encoder_dir), out,
                         ReaderConfig(max_seq_length=32), cfg, quiet=True, keep_checkpoints=True)
    assert first.resumed_from is None and (out / "checkpoints" / "checkpoint-4").is_dir()
    again = train_reader(load(squad_file), str(tiny_encoder_dir), out,
                         ReaderConfig(max_seq_length=32), cfg, quiet=True)
    assert again.skipped and again.steps == 4
    (out / "reader.json").unlink()  # as if killed before the end
    resumed = train_reader(load(squad_file), str(tiny_encoder_dir), out,
                           ReaderConfig(max_seq_length=32), cfg, quiet=True)
    assert resumed.resumed_from and resumed.resumed_from.endswith("checkpoint-4")


def test_same_seed_same_reader_even_with_a_fresh_qa_head(tiny_encoder_dir: Path,
                                                          squad_file: Path, tmp_path: Path) -> None:
    """The QA head added to a plain encoder is drawn after seeding: two runs with one seed give
    the same weights, another seed other weights."""
    import torch
    from safetensors.torch import load_file

    def weights(seed: int, name: str) -> dict[str, torch.Tensor]:
        torch.manual_seed(1000 + len(name))  # whatever the RNG held before must not matter
        cfg = TrainConfig(**{**FAST.__dict__, "max_steps": 1, "seed": seed})
        train_reader(load(squad_file), str(tiny_encoder_dir), tmp_path / name,
                     ReaderConfig(max_seq_length=32), cfg, quiet=True)
        return load_file(tmp_path / name / "model.safetensors")

    a, b, c = weights(7, "a"), weights(7, "bb"), weights(8, "ccc")
    head = next(k for k in a if "qa_outputs.weight" in k)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a[head], c[head])


def test_cli_train_evaluate_and_score_file(tiny_encoder_dir: Path, squad_file: Path,
                                           tmp_path: Path) -> None:
    out = tmp_path / "cli-model"
    res = runner.invoke(app, ["train-reader", str(squad_file), "--init",
                              str(tiny_encoder_dir), "--out", str(out), "--max-seq-length", "32",
                              "--max-steps", "2", "--batch-size", "4", "--precision", "fp32",
                              "--device", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["steps"] == 2
    res = runner.invoke(app, ["evaluate", "--model", str(out), "--data", str(squad_file),
                              "--out", str(tmp_path / "ev"), "--device", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    preds = json.loads((tmp_path / "ev" / "predictions.json").read_text())
    assert sorted(preds) == ["q1", "q2", "q3", "q4", "q5", "q6"]
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert 0 <= metrics["exact_match"] <= metrics["f1"] <= 100 and metrics["total"] == 6
    # scoring a predictions file alone: all right -> 100
    golden = {qa.id: qa.answers[0].text for _, _, qa in load(squad_file).iter_qas()}
    (tmp_path / "gold.json").write_text(json.dumps(golden))
    res = runner.invoke(app, ["evaluate", "--data", str(squad_file), "--predictions",
                              str(tmp_path / "gold.json")])
    assert res.exit_code == 0 and json.loads(res.stdout)["exact_match"] == 100.0
    half = tmp_path / "half.json"
    write_squad(load(squad_file).limit(3), half)
    for extra, total, missing in (([], 3, 0), (["--all-gold"], 6, 0)):
        res = runner.invoke(app, ["evaluate", "--data", str(half), "--gold", str(squad_file),
                                  "--predictions", str(tmp_path / "gold.json"), *extra])
        assert res.exit_code == 0, res.output
        scored = json.loads(res.stdout[: res.stdout.rindex("}") + 1])
        assert (scored["total"], scored["missing"]) == (total, missing)
    (tmp_path / "bad.json").write_text(json.dumps({"q1": 3}))
    res = runner.invoke(app, ["evaluate", "--data", str(squad_file), "--predictions",
                              str(tmp_path / "bad.json")])
    assert res.exit_code == 2 and "id q1" in res.output


def test_cli_bad_input_exits_2(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"title": "t", "paragraphs": [{"context": "abc", "qas": '
                   '[{"id": "z", "question": "q", "answers": [{"text": "zz", '
                   '"answer_start": 0}]}]}]}]}')
    res = runner.invoke(app, ["train-reader", str(bad), "--init",
                              str(tiny_encoder_dir), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "bad.json" in res.output and "z" in res.output
    assert not (tmp_path / "o").exists()


def test_ladder_cells_results_plot_and_resume(tiny_encoder_dir: Path, squad_file: Path,
                                              tmp_path: Path) -> None:
    config = {
        "train": str(squad_file), "dev": str(squad_file), "scorers": ["bm25"],
        "training": {"max_steps": 2, "batch_size": 4, "precision": "fp32", "device": "cpu"},
        "cells": [{"name": "Tiny", "model": str(tiny_encoder_dir), "max_seq_length": 40,
                   "methods": ["ids", "truncate"]}],
    }
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "ladder"
    res = runner.invoke(app, ["ladder", str(path), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    with (out / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["method"], r["max_seq_length"]) for r in rows] == [("ids", "40"), ("truncate", "40")]
    assert rows[0]["level"] == "tokens:40" and float(rows[0]["train_features"]) >= 6
    assert (out / "f1_vs_length.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (extracted_file,) = (out / "data").glob("*/dev/tokens40.json")  # keyed by what made it
    extracted = load(extracted_file)
    assert {qa.id for _, _, qa in extracted.iter_qas()} == {f"q{i}" for i in range(1, 7)}
    stamp = (out / "cells" / "Tiny-40-ids" / "metrics.json").stat().st_mtime_ns
    res = runner.invoke(app, ["ladder", str(path), "--out", str(out), "--quiet"])
    assert res.exit_code == 0
    assert (out / "cells" / "Tiny-40-ids" / "metrics.json").stat().st_mtime_ns == stamp
    path.write_text(json.dumps({**config, "cells": [{"max_seq_length": 40, "methods": ["x"]}]}))
    res = runner.invoke(app, ["ladder", str(path)])
    assert res.exit_code == 2 and "unknown methods" in res.output


def _train_cli(squad_file: Path, encoder: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(app, ["train-reader", str(squad_file), "--init", str(encoder),
                               "--out", str(out), "--max-steps", "2", "--batch-size", "4",
                               "--precision", "fp32", "--device", "cpu", "--save-steps", "1",
                               "--quiet", *extra])


def test_a_changed_config_is_refused_not_silently_ignored(tiny_encoder_dir: Path,
                                                          squad_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert _train_cli(squad_file, tiny_encoder_dir, out, "--max-seq-length", "32").exit_code == 0
    # the same run again: nothing to do
    again = _train_cli(squad_file, tiny_encoder_dir, out, "--max-seq-length", "32")
    assert again.exit_code == 0 and "already trained" in again.output
    # another length into the finished folder: refused, and the folder is untouched
    res = _train_cli(squad_file, tiny_encoder_dir, out, "--max-seq-length", "24")
    assert res.exit_code == 2 and "max_seq_length: 32 -> 24" in res.output
    assert json.loads((out / "reader.json").read_text())["reader"]["max_seq_length"] == 32
    # --overwrite trains the new run, and the record is the run that happened
    res = _train_cli(squad_file, tiny_encoder_dir, out, "--max-seq-length", "24", "--overwrite")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "reader.json").read_text())["reader"]["max_seq_length"] == 24


def test_a_killed_run_resumes_only_with_its_own_config(tiny_encoder_dir: Path, squad_file: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "k"
    assert _train_cli(squad_file, tiny_encoder_dir, out, "--max-seq-length", "32",
                      "--keep-checkpoints").exit_code == 0
    (out / "reader.json").unlink()  # as if killed after the last checkpoint
    res = _train_cli(squad_file, tiny_encoder_dir, out, "--max-seq-length", "24",
                     "--learning-rate", "1e-3")
    assert res.exit_code == 2 and "unfinished run with other settings" in res.output
    assert "learning_rate: 5e-05 -> 0.001" in res.output
    assert not (out / "reader.json").exists()  # no record of a run that did not happen
    res = _train_cli(squad_file, tiny_encoder_dir, out, "--max-seq-length", "32")
    assert res.exit_code == 0 and json.loads(res.stdout)["resumed_from"].endswith("checkpoint-2")


def test_checkpoints_go_on_success_and_files_follow_the_umask(tiny_encoder_dir: Path,
                                                             squad_file: Path,
                                                             tmp_path: Path) -> None:
    from ids_extract.files import umask

    out = tmp_path / "c"
    assert _train_cli(squad_file, tiny_encoder_dir, out, "--max-seq-length", "32").exit_code == 0
    assert not (out / "checkpoints").exists()
    expected = 0o666 & ~umask()
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir() if p.is_file()}
    assert "model.safetensors" in modes and set(modes.values()) == {expected}, modes
    kept = tmp_path / "kept"
    assert _train_cli(squad_file, tiny_encoder_dir, kept, "--max-seq-length", "32",
                      "--keep-checkpoints").exit_code == 0
    assert (kept / "checkpoints" / "checkpoint-2").is_dir()


def test_ladder_grid_level_ladder_and_config_checks(tiny_encoder_dir: Path, squad_file: Path,
                                                   tmp_path: Path) -> None:
    config = {
        "train": str(squad_file), "dev": str(squad_file), "scorers": ["bm25"],
        "training": {"max_steps": 1, "batch_size": 4, "precision": "fp32", "device": "cpu",
                     "limit": 4},
        "grid": {"sizes": [{"name": "L1", "model": str(tiny_encoder_dir), "init_layers": 1},
                           {"name": "L2", "model": str(tiny_encoder_dir), "init_layers": 2}],
                 "max_seq_lengths": [40], "methods": ["ids", "window"]},
        "levels": {"max_seq_length": 40, "levels": ["ratio:0.5"]},
    }
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "grid"
    res = runner.invoke(app, ["ladder", str(path), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "results.json").read_text())
    got = sorted((r["name"], r["method"], r["level"]) for r in rows)
    assert got == [("L1", "ids", "ratio:0.5"), ("L1", "ids", "tokens:40"), ("L1", "window", ""),
                   ("L2", "ids", "ratio:0.5"), ("L2", "ids", "tokens:40"), ("L2", "window", "")]
    assert all(r["train_examples"] == 4 for r in rows)  # training "limit" applies per cell
    ids = [r for r in rows if r["method"] == "ids"]
    assert all(0 <= r["dev_retention_pct"] <= 100 for r in ids)
    layers = json.loads((out / "cells" / "L1-40-ids" / "model" / "config.json").read_text())
    assert layers["num_hidden_layers"] == 1  # the size family: first layers kept
    assert (out / "f1_vs_level.png").exists() and (out / "f1_vs_length.png").exists()
    # a finished cell whose settings changed is refused, not silently reused
    path.write_text(json.dumps({**config, "training": {**config["training"], "max_steps": 2}}))
    res = runner.invoke(app, ["ladder", str(path), "--out", str(out), "--quiet"])
    assert res.exit_code == 2 and "other settings" in res.output
    # a misspelt key is an error, not a default
    path.write_text(json.dumps({**config, "dev_limt": 3}))
    res = runner.invoke(app, ["ladder", str(path), "--out", str(out)])
    assert res.exit_code == 2 and "unknown keys ['dev_limt']" in res.output
