"""The new-user defects of the classification commands (issue 21, items 1-11): each one now ends in
exit 2 with one error line that names the place, and nothing written; or works as it should."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.files import folder_lock

from .conftest import cls_rows, write_rows

runner = CliRunner()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")) if folder.exists() else []


def _refused(res: object, message: str) -> None:
    out = res.output.replace("\n", "")  # type: ignore[attr-defined]
    assert res.exit_code == 2, res.output  # type: ignore[attr-defined]
    assert out.count("error:") == 1 and message in out, res.output  # type: ignore[attr-defined]
    assert "Traceback" not in out


def _commands(data: Path, model: Path, out: Path) -> dict[str, list[str]]:
    return {
        "split-texts": ["split-texts", str(data), "--out", str(out)],
        "extract-texts": ["extract-texts", str(data), "--out", str(out), "--scorers", "lead"],
        "train-classifier": ["train-classifier", str(data), "--out", str(out)],
        "evaluate-classifier": ["evaluate-classifier", "--model", str(model), "--data", str(data),
                                "--out", str(out)],
        "sanity-check": ["sanity-check", "-m", str(model), "--data", str(data), "--out",
                         str(out), "--sample", "2", "--ig-steps", "2", "--device", "cpu"],
        "explain": ["explain", "-m", str(model), "--text", "One. Two.", "--out",
                    str(out / "page.html"), "--device", "cpu"],
    }


@pytest.mark.parametrize("command", ["split-texts", "extract-texts", "train-classifier",
                                     "evaluate-classifier", "sanity-check", "explain"])
def test_1_out_is_a_file(command: str, cls_file: Path, tmp_path: Path,
                         tiny_classifier_dir: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine", encoding="utf-8")
    before = _files(tmp_path)
    res = runner.invoke(app, _commands(cls_file, tiny_classifier_dir, taken)[command])
    _refused(res, "is a file, not a folder")
    assert str(taken) in res.output.replace("\n", "")
    assert _files(tmp_path) == before and taken.read_text(encoding="utf-8") == "mine"


def test_2_max_seq_length_over_the_backbone(cls_file: Path, tmp_path: Path,
                                            tiny_encoder_dir: Path) -> None:
    out = tmp_path / "clf"
    res = runner.invoke(app, ["train-classifier", str(cls_file), "--out", str(out),
                              "--init", str(tiny_encoder_dir), "--max-seq-length", "10000",
                              "--device", "cpu"])
    _refused(res, "max_seq_length 10000: the backbone")
    assert "at most 128 tokens" in res.output.replace("\n", "")
    assert not out.exists()


@pytest.mark.parametrize("limit", ["0", "-3"])
@pytest.mark.parametrize("command", ["extract-texts", "train-classifier", "evaluate-classifier"])
def test_3_limit_below_one(command: str, limit: str, cls_file: Path, tmp_path: Path,
                           tiny_classifier_dir: Path) -> None:
    out = tmp_path / "out"
    args = _commands(cls_file, tiny_classifier_dir, out)[command]
    res = runner.invoke(app, [*args, "--limit", limit])
    _refused(res, f"--limit {limit}: give a number of texts of 1 or more")
    assert not out.exists()


def test_4_a_label_the_classifier_never_saw(tmp_path: Path, tiny_classifier_dir: Path) -> None:
    rows = cls_rows()[:3]
    rows[1] = {**rows[1], "label": "sports"}
    data = write_rows(tmp_path / "eval.jsonl", rows)
    out = tmp_path / "ev"
    res = runner.invoke(app, ["evaluate-classifier", "--model", str(tiny_classifier_dir),
                              "--data", str(data), "--out", str(out), "--device", "cpu"])
    _refused(res, "eval.jsonl: line 2 (id 'p0'): label 'sports' is not a class of the "
                  "classifier (normans, paris)")
    assert not out.exists()


def test_5_stats_and_validate_read_a_classification_folder(cls_file: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "ext"
    res = runner.invoke(app, ["extract-texts", str(cls_file), "--out", str(out), "--scorers",
                              "lead", "--levels", "tokens:24,top-k:1", "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["stats", str(out)])
    assert res.exit_code == 0 and "D1-tokens24" in res.output and "unchanged" in res.output
    res = runner.invoke(app, ["validate", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.count("ok D") == 2 and "8 texts" in res.output
    level = out / "D2-top-k1.jsonl"
    level.write_text(level.read_text(encoding="utf-8").replace("Normans", "Vikings"),
                     encoding="utf-8")
    res = runner.invoke(app, ["validate", str(out)])
    assert res.exit_code == 1 and "D2-top-k1.jsonl: sha256 differs" in res.output


def test_6_cut_texts_are_not_unchanged(tmp_path: Path) -> None:
    long = " ".join(["word"] * 60) + "."
    data = write_rows(tmp_path / "long.jsonl", [{"id": f"t{i}", "text": long, "label": "a"}
                                                for i in range(3)])
    out = tmp_path / "ext"
    res = runner.invoke(app, ["extract-texts", str(data), "--out", str(out), "--scorers", "lead",
                              "--levels", "tokens:16", "--quiet"])
    assert res.exit_code == 0, res.output
    stats = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["levels"][0]["stats"]
    assert stats["cut"] == 3 and stats["unchanged_pct"] == 0.0 and stats["over_budget"] == 0


@pytest.mark.parametrize("command", ["extract-texts", "train-classifier"])
def test_7_a_folder_being_written_is_refused(command: str, cls_file: Path, tmp_path: Path,
                                             tiny_classifier_dir: Path) -> None:
    out = tmp_path / "busy"
    with folder_lock(out):
        before = _files(out)
        res = runner.invoke(app, _commands(cls_file, tiny_classifier_dir, out)[command])
        _refused(res, "is being written by another ids-extract run")
        assert _files(out) == before
    assert not out.exists()  # the lock left nothing behind


def test_8_label_scorer_labels_from_descriptions_or_classifier(tmp_path: Path,
                                                               tiny_classifier_dir: Path) -> None:
    unlabelled = write_rows(tmp_path / "u.jsonl", [{k: v for k, v in r.items() if k != "label"}
                                                   for r in cls_rows()])
    one_class = write_rows(tmp_path / "one.jsonl", [r for r in cls_rows()
                                                    if r["label"] == "paris"])
    base = ["--scorers", "label", "--levels", "top-k:1", "--device", "cpu", "--quiet"]
    res = runner.invoke(app, ["extract-texts", str(unlabelled), "--out", str(tmp_path / "a"),
                              *base])
    _refused(res, "needs at least two labels")
    assert not (tmp_path / "a").exists()
    res = runner.invoke(app, ["extract-texts", str(unlabelled), "--out", str(tmp_path / "b"),
                              *base, "--label-descriptions", "normans=vikings,paris=france"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["extract-texts", str(one_class), "--out", str(tmp_path / "c"),
                              *base, "--classifier-model", str(tiny_classifier_dir)])
    assert res.exit_code == 0, res.output
    config = json.loads((tmp_path / "c" / "manifest.json").read_text(encoding="utf-8"))["config"]
    assert sorted(config["scorers"][0]["descriptions"]) == ["normans", "paris"]


def test_9_budgets_count_with_the_classifiers_tokenizer(cls_file: Path, tmp_path: Path,
                                                        tiny_classifier_dir: Path) -> None:
    from ids_extract.models.hub import load_tokenizer
    from ids_extract.select.budget import count_tokens
    from ids_extract.textcls import load

    out = tmp_path / "ext"
    res = runner.invoke(app, ["extract-texts", str(cls_file), "--out", str(out), "--scorers",
                              "lead", "--levels", "tokens:12", "--classifier-model",
                              str(tiny_classifier_dir), "--quiet"])
    assert res.exit_code == 0, res.output
    texts = load(out / "D1-tokens12.jsonl").texts
    theirs, default = load_tokenizer(str(tiny_classifier_dir)), load_tokenizer(None)
    assert max(count_tokens(texts, theirs)) <= 10  # [CLS] text [SEP] in 12 of its tokens
    assert list(count_tokens(texts, theirs)) != list(count_tokens(texts, default))


def test_10_an_evaluation_is_not_replaced_silently(cls_file: Path, tmp_path: Path,
                                                   tiny_classifier_dir: Path) -> None:
    out = tmp_path / "ev"
    args = ["evaluate-classifier", "--model", str(tiny_classifier_dir), "--data", str(cls_file),
            "--out", str(out), "--device", "cpu", "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    written = {p: p.read_bytes() for p in _files(out) if p.is_file()}
    _refused(runner.invoke(app, [*args, "--limit", "3"]), "already holds an output of another "
                                                          "input or config")
    (tmp_path / "sub").mkdir()
    other = write_rows(tmp_path / "sub" / cls_file.name, cls_rows()[:4])
    _refused(runner.invoke(app, [*args[:4], str(other), *args[5:]]), "another input or config")
    assert {p: p.read_bytes() for p in _files(out) if p.is_file()} == written
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "read back" in res.output
    res = runner.invoke(app, [*args, "--limit", "3", "--overwrite"])
    assert res.exit_code == 0 and json.loads(res.stdout.splitlines()[-1])["texts"] == 3


def test_11_sanity_check_speaks_of_texts_for_a_classifier() -> None:
    res = runner.invoke(app, ["sanity-check", "--help"])
    assert "or texts (a classifier)" in " ".join(res.output.split())


def test_11_sanity_check_does_less_work(tiny_classifier_dir: Path, cls_file: Path) -> None:
    """The slow sanity check: the step both schedules share (the head alone) is attributed once,
    IG runs in bf16 where that is native, and a classifier's windows do not overlap."""
    from ids_extract.analysis.jobs import ig_scorer
    from ids_extract.analysis.sanity import run_sanity, sample_text_batch
    from ids_extract.models.runtime import cpu_has_native_bf16, ig_precision
    from ids_extract.textcls import load

    assert ig_precision("auto", "cpu") == ("bf16" if cpu_has_native_bf16() else "fp32")
    assert ig_precision("fp32", "cpu") == "fp32"
    with pytest.raises(ConfigError, match="`precision` 'fp16'"):
        ig_precision("fp16", "cpu")
    scorer = ig_scorer(str(tiny_classifier_dir), 2, None, "cpu", precision="fp32", overlap=0)
    assert scorer.windows.window_overlap == 0
    calls = []
    score = scorer.score
    scorer.score = lambda batch: calls.append(1) or score(batch)  # type: ignore[method-assign]
    result = run_sanity(scorer, sample_text_batch(load(cls_file, labels="optional"), 2))
    per_schedule = len(result.steps) // 2
    assert len(calls) == 1 + 2 * per_schedule - 1  # the trained pass, then all but one step
    assert result.steps[0] == dataclasses.replace(result.steps[per_schedule],
                                                  schedule="cascading")


def test_deprecated_spellings_warn_and_work(cls_file: Path, tmp_path: Path,
                                           tiny_classifier_dir: Path) -> None:
    res = runner.invoke(app, ["evaluate-classifier", "--model", str(tiny_classifier_dir),
                              "--data", str(cls_file), "--out", str(tmp_path / "ev"), "--windows",
                              "--device", "cpu", "-q"])
    assert res.exit_code == 0 and "--windows is deprecated" in res.output
    assert json.loads(res.stdout.splitlines()[-1])["mode"] == "windows"
    res = runner.invoke(app, ["explain", "-m", str(tiny_classifier_dir), "--text", "One. Two.",
                              "--ig-target", "start", "--out", str(tmp_path / "p.html")])
    _refused(res, "--ig-target start: a classifier explains its predicted class")
    assert not (tmp_path / "p.html").exists()


def test_evaluate_says_windows_one_way(squad_file: Path, tmp_path: Path) -> None:
    base = ["evaluate", "--data", str(squad_file), "--model", str(tmp_path / "none")]
    _refused(runner.invoke(app, [*base, "--mode", "sideways"]), "--mode 'sideways'")
    res = runner.invoke(app, [*base, "--truncate", "--mode", "window"])
    _refused(res, "give --mode only")
    assert "--truncate is its old spelling" in res.output


def test_one_hf_split_rule_training_data_reads_train_the_rest_validation(tmp_path: Path) -> None:
    """--hf-split defaults the same way in every command: train for training data, else
    validation."""
    import datasets

    from ids_extract.tabular import hf_split_for

    assert hf_split_for(None, True) == "train" and hf_split_for(None, False) == "validation"
    assert hf_split_for("test", True) == "test"
    rows = {"train": [{"text": f"Train text {i}. More.", "label": "a" if i % 2 else "b"}
                      for i in range(4)],
            "validation": [{"text": f"Dev text {i}. More.", "label": "a"} for i in range(3)]}
    folder = tmp_path / "hf"
    datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in rows.items()}
                         ).save_to_disk(str(folder))
    for split, expected in (("eval", 3), ("train", 4)):
        out = tmp_path / f"out-{split}"
        res = runner.invoke(app, ["extract-texts", str(folder), "--out", str(out), "--scorers",
                                  "lead", "--levels", "top-k:1", "--split", split, "--quiet"])
        assert res.exit_code == 0, res.output
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["input"]["texts"] == expected
