"""The sentence-level ("crashed") dataset: rows, labels, balancing, files and the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ids_extract import load
from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.pipeline.sentences import balance_rows, sentence_rows, write_rows
from ids_extract.select.segment import split_sentences

from .conftest import CONTEXT, CONTEXT2, squad_dict


@pytest.fixture
def rows(squad_file: Path) -> list[dict]:
    return list(sentence_rows(load(squad_file)))


def test_one_row_per_question_and_sentence(rows: list[dict]) -> None:
    n1, n2 = len(split_sentences(CONTEXT)), len(split_sentences(CONTEXT2))
    assert len(rows) == 3 * n1 + 3 * n2
    per_question = Counter(r["id"] for r in rows)
    assert per_question == {"q1": n1, "q2": n1, "q3": n1, "q4": n2, "q5": n2, "q6": n2}
    contexts = {"Normans": CONTEXT, "Paris": CONTEXT2}
    for r in rows:
        assert contexts[r["title"]][r["start"]:r["end"]] == r["text"]
        assert r["num_sentences"] == per_question[r["id"]]
    # the spans of one question tile its context
    q1 = [r for r in rows if r["id"] == "q1"]
    assert [r["sentence_index"] for r in q1] == list(range(n1))
    assert "".join(r["text"] for r in q1) == CONTEXT


def test_label_is_the_answer_start_inside_its_sentence(rows: list[dict]) -> None:
    answers = {q["id"]: q["answers"][0] for a in squad_dict()["data"] for p in a["paragraphs"]
               for q in p["qas"]}
    labelled = [r for r in rows if r["label"] is not None]
    assert sorted(r["id"] for r in labelled) == sorted(answers)   # exactly one per question
    for r in labelled:
        answer = answers[r["id"]]
        assert r["start"] + r["label"] == answer["answer_start"]
        assert r["text"][r["label"]:r["label"] + len(answer["text"])] == answer["text"]
        assert r["answer_text"] == answer["text"]
    assert all(r["answer_text"] is None for r in rows if r["label"] is None)
    rollo = next(r for r in labelled if r["id"] == "q1")
    assert rollo["text"].startswith("They were descended") and rollo["sentence_index"] == 1


def test_train_split_merges_sentences_an_answer_crosses(tmp_path: Path) -> None:
    context = "The war ended. In 1945 peace came. Later more happened."
    data = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": [
        {"id": "a", "question": "When?", "answers": [{"text": "ended. In 1945",
                                                      "answer_start": context.index("ended")}]}]}]}]}
    path = tmp_path / "cross.json"
    path.write_text(json.dumps(data))
    train = list(sentence_rows(load(path), split="train"))
    evaluation = list(sentence_rows(load(path), split="eval"))
    assert len(train) < len(evaluation)
    hit = next(r for r in train if r["label"] is not None)
    assert "ended. In 1945" in hit["text"]


def test_drop_empty_keeps_only_answer_rows(rows: list[dict]) -> None:
    kept = balance_rows(rows, "drop-empty")
    assert len(kept) == 6 and all(r["label"] is not None for r in kept)


def test_neg_ratio_samples_negatives_per_question(rows: list[dict]) -> None:
    kept = balance_rows(rows, neg_ratio=1, seed=3)
    by_q = Counter((r["id"], r["label"] is None) for r in kept)
    for qid in ("q1", "q2", "q3", "q4", "q5", "q6"):
        assert by_q[(qid, False)] == 1 and by_q[(qid, True)] == 1
    assert kept == balance_rows(rows, neg_ratio=1, seed=3)           # seeded
    assert [r for r in kept if r in rows] == kept                    # original order
    assert balance_rows(rows, neg_ratio=0) == balance_rows(rows, "drop-empty")
    assert balance_rows(rows, neg_ratio=100) == rows                  # fewer negatives than asked
    with pytest.raises(ConfigError):
        balance_rows(rows, "drop-empty", neg_ratio=1)
    with pytest.raises(ConfigError):
        balance_rows(rows, "sometimes")


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_files_round_trip(rows: list[dict], tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"rows{suffix}"
    write_rows(rows, path)
    if suffix == ".parquet":
        back = pq.read_table(path).to_pylist()
    else:
        back = [json.loads(line) for line in path.read_text().splitlines()]
    assert back == rows
    with pytest.raises(ConfigError):
        write_rows(rows, tmp_path / "rows.csv")


def test_parquet_of_only_negatives_keeps_integer_labels(rows: list[dict], tmp_path: Path) -> None:
    path = tmp_path / "neg.parquet"
    write_rows([r for r in rows if r["label"] is None], path)
    assert str(pq.read_schema(path).field("label").type) == "int64"


def test_cli_sentences(squad_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "s.parquet"
    done = runner.invoke(app, ["sentences", str(squad_file), "--out", str(out), "--balance",
                               "drop-empty", "--quiet"])
    assert done.exit_code == 0, done.output
    table = pq.read_table(out).to_pylist()
    assert [r["id"] for r in table] == ["q1", "q2", "q3", "q4", "q5", "q6"]
    bad = runner.invoke(app, ["sentences", str(squad_file), "--out", str(tmp_path / "b.jsonl"),
                              "--balance", "drop-empty", "--neg-ratio", "2"])
    assert bad.exit_code == 2 and not (tmp_path / "b.jsonl").exists()
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [{"title": "t", "paragraphs": [{"context": "abc", "qas": '
                      '[{"id": "z", "question": "q?", "answers": [{"text": "x", '
                      '"answer_start": 0}]}]}]}]}')
    failed = runner.invoke(app, ["sentences", str(broken), "--out", str(tmp_path / "c.jsonl")])
    assert failed.exit_code == 2 and "broken.json" in failed.output
    assert not (tmp_path / "c.jsonl").exists()
