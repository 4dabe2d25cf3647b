from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ids_extract.errors import DataError
from ids_extract.files import atomic_path, write_jsonl
from ids_extract.squad.read import load
from ids_extract.squad.write import to_rows, to_squad_dict, write_parquet, write_squad

from .conftest import CONTEXT, squad_dict


def write(tmp_path: Path, obj: Any, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def test_load_v11_round_trip(squad_file: Path, tmp_path: Path) -> None:
    ds = load(squad_file)
    assert ds.version == "1.1" and ds.num_questions == 6 and not ds.is_v2
    out = tmp_path / "out.json"
    write_squad(ds, out)
    assert json.loads(out.read_text()) == json.loads(squad_file.read_text()) | {"version": "1.1"}


def test_load_v2_keeps_impossible_and_plausible(tmp_path: Path) -> None:
    raw = squad_dict()
    raw["version"] = "v2.0"
    raw["data"][0]["paragraphs"][0]["qas"].append({
        "id": "imp", "question": "Who ruled Mars?", "answers": [], "is_impossible": True,
        "plausible_answers": [{"text": "Rollo", "answer_start": CONTEXT.index("Rollo")}]})
    ds = load(write(tmp_path, raw))
    assert ds.is_v2
    imp = [qa for _, _, qa in ds.iter_qas() if qa.id == "imp"][0]
    assert imp.is_impossible and imp.answers == [] and imp.plausible_answers[0].text == "Rollo"
    out = to_squad_dict(ds)
    assert out["version"] == "v2.0"
    assert out["data"][0]["paragraphs"][0]["qas"][-1]["is_impossible"] is True


def test_jsonl_parquet_and_hf_folder_load_the_same(squad_file: Path, tmp_path: Path) -> None:
    import datasets

    ds = load(squad_file)
    rows = to_rows(ds)
    write_jsonl(rows, tmp_path / "d.jsonl")
    write_parquet(ds, tmp_path / "d.parquet")
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))
    for source in ("d.jsonl", "d.parquet", "hf"):
        loaded = load(tmp_path / source)
        assert [qa.id for _, _, qa in loaded.iter_qas()] == [f"q{i}" for i in range(1, 7)]
        assert [a.title for a in loaded.articles] == ["Normans", "Paris"]
        assert to_rows(loaded) == rows


def test_json_list_of_rows(squad_file: Path, tmp_path: Path) -> None:
    rows = to_rows(load(squad_file))
    path = write(tmp_path, rows, "rows.json")
    assert to_rows(load(path)) == rows
    from ids_extract.squad import stream

    assert stream.scan(str(path)).questions == 6


def test_jsonl_with_list_of_answers(tmp_path: Path) -> None:
    row = {"id": "a", "question": "Who?", "context": "Bob ran.",
           "answers": [{"text": "Bob", "answer_start": 0}]}
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(row) + "\n\n", encoding="utf-8")
    assert load(path).articles[0].paragraphs[0].qas[0].answers[0].text == "Bob"


def mutate(tmp_path: Path, change: Any) -> Path:
    raw = squad_dict()
    change(raw)
    return write(tmp_path, raw)


def qa0(raw: dict[str, Any], a: int = 0, p: int = 0, q: int = 0) -> dict[str, Any]:
    return raw["data"][a]["paragraphs"][p]["qas"][q]  # type: ignore[no-any-return]


BAD_CASES = [
    (lambda r: qa0(r)["answers"][0].update(answer_start=3), "question id q1",
     "does not match the context"),
    (lambda r: qa0(r, q=1).update(id="q1"), "question id q1", "duplicate question id"),
    (lambda r: qa0(r).update(question="  "), "question id q1", "empty question"),
    (lambda r: qa0(r).pop("question"), "question id q1", "missing field 'question'"),
    (lambda r: r["data"][1]["paragraphs"][0].update(context=""), "article 1 ('Paris') paragraph 0",
     "empty context"),
    (lambda r: qa0(r).update(answers=[]), "question id q1", "no answers"),
    (lambda r: qa0(r)["answers"][0].update(text=""), "question id q1", "empty answer text"),
    (lambda r: r["data"][0].pop("paragraphs"), "article 0 ('Normans')",
     "missing field 'paragraphs'"),
    (lambda r: qa0(r)["answers"][0].update(answer_start="7"), "question id q1",
     "'answer_start' has type str"),
]


@pytest.mark.parametrize(("change", "where", "problem"), BAD_CASES)
def test_bad_input_names_file_and_place(tmp_path: Path, change: Any, where: str,
                                        problem: str) -> None:
    path = mutate(tmp_path, change)
    with pytest.raises(DataError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message and where in message and problem in message


def test_not_squad_not_json_and_invalid_utf8(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a SQuAD file"):
        load(write(tmp_path, {"rows": []}))
    with pytest.raises(DataError, match="not a SQuAD file"):
        load(write(tmp_path, [1, 2]))
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [', encoding="utf-8")
    with pytest.raises(DataError, match="not JSON"):
        load(bad)
    raw = json.dumps(squad_dict()).encode()
    (tmp_path / "latin.json").write_bytes(raw[:100] + b"\xff\xfe" + raw[100:])
    with pytest.raises(DataError, match=r"byte 100 \(line 1\).*invalid UTF-8"):
        load(tmp_path / "latin.json")
    with pytest.raises(DataError, match="no such file"):
        load(tmp_path / "nope.json")


def test_repair_and_skip_bad_answers(tmp_path: Path) -> None:
    def shift(raw: dict[str, Any]) -> None:
        qa0(raw)["answers"][0]["answer_start"] += 2  # 'Rollo' moved by two characters
        qa0(raw, q=1)["answers"].append({"text": "Atlantis", "answer_start": 5})

    path = mutate(tmp_path, shift)
    repaired = load(path, on_bad_answer="repair")
    first = repaired.articles[0].paragraphs[0].qas[0].answers[0]
    assert CONTEXT[first.answer_start : first.end] == "Rollo"
    assert len(repaired.articles[0].paragraphs[0].qas[1].answers) == 1
    assert any("repaired 'Rollo'" in r for r in repaired.repairs)
    assert any("skipped" in r and "Atlantis" in r for r in repaired.repairs)
    skipped = load(path, on_bad_answer="skip")
    assert len(skipped.repairs) == 3 and skipped.num_questions == 5
    assert "question id q1: question skipped" in skipped.repairs[1]


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_limit_keeps_nesting(squad_file: Path) -> None:
    ds = load(squad_file).limit(4)
    assert ds.num_questions == 4 and [len(a.paragraphs) for a in ds.articles] == [1, 1]
