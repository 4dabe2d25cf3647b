"""Classification files: every input form read to the same records, written back unchanged but for
the text, each bad input a DataError naming the file and the place; units, markup and clauses;
the metrics."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from ids_extract.errors import ConfigError, DataError
from ids_extract.select.pieces import fillers, is_filler, split_text
from ids_extract.textcls import Columns, load, write_like
from ids_extract.textcls.metrics import classification_metrics, confusion_png
from ids_extract.textcls.units import text_units

from .conftest import cls_rows, write_rows


def _csv(path: Path, rows: list[dict[str, str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_every_format_gives_the_same_records(tmp_path: Path) -> None:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = cls_rows()
    paths = {
        "jsonl": write_rows(tmp_path / "a.jsonl", rows),
        "json": tmp_path / "a.json",
        "csv": _csv(tmp_path / "a.csv", rows),
        "tsv": _csv(tmp_path / "a.tsv", rows, "\t"),
        "parquet": tmp_path / "a.parquet",
        "datasets": tmp_path / "folder",
    }
    paths["json"].write_text(json.dumps(rows), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(rows), paths["parquet"])
    datasets.Dataset.from_list(rows).save_to_disk(str(paths["datasets"]))
    expected = [(r["id"], r["text"], r["label"]) for r in rows]
    for fmt, path in paths.items():
        data = load(path)
        assert data.format == fmt
        assert [(r.id, r.text, r.label) for r in data.records] == expected, fmt
        assert data.labels == ["normans", "paris"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "tsv", "parquet", "datasets"])
def test_written_back_in_the_same_format_with_only_the_text_changed(tmp_path: Path,
                                                                    fmt: str) -> None:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = cls_rows()
    source = tmp_path / {"jsonl": "a.jsonl", "csv": "a.csv", "tsv": "a.tsv",
                         "parquet": "a.parquet", "datasets": "folder"}[fmt]
    if fmt == "jsonl":
        write_rows(source, rows)
    elif fmt in ("csv", "tsv"):
        _csv(source, rows, "\t" if fmt == "tsv" else ",")
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), source)
    else:
        datasets.Dataset.from_list(rows).save_to_disk(str(source))
    data = load(source)
    same = write_like(data, data.texts, tmp_path / f"same-{source.name}")
    if fmt in ("jsonl", "csv", "tsv"):
        assert same.read_bytes() == source.read_bytes()  # a round trip changes no byte
    short = [t[:10] for t in data.texts]
    back = load(write_like(data, short, tmp_path / f"short-{source.name}"))
    assert back.texts == short and back.ids == data.ids and back.gold == data.gold
    assert back.format == fmt
    if fmt == "parquet":
        assert pq.read_table(tmp_path / f"short-{source.name}").column("source").to_pylist() == \
            [r["source"] for r in rows]
    assert not list(tmp_path.glob(".*tmp*"))


def test_jsonl_keeps_line_separators_inside_texts(tmp_path: Path) -> None:
    rows = [{"id": "a", "text": "one\u2028two\u0085three", "label": "x"},
            {"id": "b", "text": "four", "label": "y"}]
    path = tmp_path / "odd.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    data = load(path)
    assert data.texts[0] == "one\u2028two\u0085three"
    out = write_like(data, data.texts, tmp_path / "out.jsonl")
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2  # escaped, so one record a line
    assert load(out).texts == data.texts


def test_bom_accepted_and_ids_default_to_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftext,label\nhello there,a\nbye now,b\n")
    data = load(path)
    assert data.ids == ["0", "1"] and data.texts == ["hello there", "bye now"]
    assert data.columns.id is None


def test_other_column_names(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.jsonl", [{"key": 7, "review": "good film", "y": 1},
                                              {"key": 8, "review": "bad film", "y": 0}])
    data = load(path, columns=Columns(text="review", label="y", id="key"))
    assert data.ids == ["7", "8"] and data.gold == ["1", "0"]
    with pytest.raises(DataError, match="no text column 'text'.*`text_column`"):
        load(path)


def test_classlabel_folder_reads_label_names(tmp_path: Path) -> None:
    import datasets

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["neg", "pos"])})
    datasets.Dataset.from_dict({"text": ["bad", "good"], "label": [0, 1]},
                               features=features).save_to_disk(str(tmp_path / "d"))
    data = load(tmp_path / "d")
    assert data.gold == ["neg", "pos"]
    back = datasets.load_from_disk(str(write_like(data, ["b", "g"], tmp_path / "e")))
    assert back["label"] == [0, 1] and back["text"] == ["b", "g"]  # class ids kept as they were


@pytest.mark.parametrize(("content", "where", "problem"), [
    (b'{"id": "a", "text": "ok", "label": "x"}\n{"id": "b", "text": "  ", "label": "x"}\n',
     "line 2 (id 'b')", "empty text"),
    (b'{"id": "a", "text": "ok", "label": "x"}\n{"id": "b", "text": "fine"}\n',
     "line 2 (id 'b')", "missing label"),
    (b'{"id": "a", "text": "ok", "label": "x"}\n{"id": "a", "text": "again", "label": "y"}\n',
     "line 2 (id 'a')", "duplicate id (first at line 1 (id 'a'))"),
    (b'{"id": "a", "text": "ok", "label": "x"}\n{"id": "b", "text": "caf\xe9", "label": "y"}\n',
     "byte 64 (line 2)", "invalid UTF-8"),
    (b'{"id": "a", "text": "ok", "label": "x"}\n[1, 2]\n', "line 2", "one JSON object per line"),
    (b'{"id": "a", "text": "ok", "label": "x"}\n{"id": "b", text}\n', "line 2", "not JSON"),
    (b'{"id": "a", "text": 5, "label": "x"}\n', "line 1 (id 'a')", "has type int"),
])
def test_bad_jsonl_names_file_and_place(tmp_path: Path, content: bytes, where: str,
                                        problem: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load(path)
    assert err.value.path == str(path) and err.value.where == where
    assert problem in err.value.problem


def test_bad_csv_and_other_inputs(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,text,label\na,fine,x\nb,too,many,fields\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.csv: line 3: 4 fields, the header has 3"):
        load(path)
    with pytest.raises(DataError, match="no such file"):
        load(tmp_path / "missing.jsonl")
    (tmp_path / "x.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(DataError, match="unknown format '.txt'"):
        load(tmp_path / "x.txt")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"empty.jsonl.*(empty file|no texts)"):
        load(tmp_path / "empty.jsonl")
    with pytest.raises(ConfigError):
        load(tmp_path / "empty.jsonl", labels="sometimes")


def test_labels_optional_only_for_a_file_without_labels(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "u.jsonl", [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}])
    assert load(path, labels="optional").gold == [None, None]
    with pytest.raises(DataError, match="line 1 \\(id 'a'\\): missing label"):
        load(path)
    mixed = write_rows(tmp_path / "m.jsonl", [{"id": "a", "text": "one"},
                                               {"id": "b", "text": "two", "label": "x"}])
    with pytest.raises(DataError, match="line 2 \\(id 'b'\\): a label in column 'label', but "
                                        "the first row has none"):
        load(mixed, labels="optional")


def test_select_keeps_rows_and_limit(cls_file: Path, tmp_path: Path) -> None:
    data = load(cls_file)
    part = data.select([3, 1])
    assert part.ids == ["p1", "p0"] and part.original[0]["source"] == "t1"
    out = load(write_like(part, part.texts, tmp_path / "part.jsonl"))
    assert out.ids == ["p1", "p0"]
    assert len(data.limit(2)) == 2 and data.limit(None) is data


def test_markup_units_and_clauses() -> None:
    text = "Great film.<br /><br />I loved it, but the end was far too long for me."
    spans = split_text(text)
    assert "".join(text[s:e] for s, e in spans) == text
    pieces = [text[s:e] for s, e in spans]
    assert pieces == ["Great film.", "<br /><br />", "I loved it, but the end was far too long "
                                                    "for me."]
    assert fillers(text, spans) == [False, True, False]
    clauses = [text[s:e] for s, e in split_text(text, "clause")]
    assert clauses[-2:] == ["I loved it, ", "but the end was far too long for me."]
    short = "i feel sad but fine"  # "fine" alone is under MIN_CLAUSE_WORDS: no cut
    assert [short[s:e] for s, e in split_text(short, "clause")] == [short]
    assert is_filler("  <br/> \n") and not is_filler("<b>ok</b>")
    with pytest.raises(ConfigError):
        split_text(text, "word")


def test_units_carry_gold_labels_only_on_train(cls_file: Path) -> None:
    data = load(cls_file)
    train, evaluation = text_units(data, "train"), text_units(data, "eval")
    assert train.labels == data.gold and evaluation.labels is None
    assert train.queries == [""] * len(data) and train.owner == list(range(len(data)))
    assert any(any(f) for f in train.fillers)  # the <br /> text
    _, batch = next(train.batches(10_000))
    assert batch.labels == data.gold


def test_metrics_and_confusion_png(tmp_path: Path) -> None:
    gold = ["a", "a", "b", "b", "c"]
    pred = ["a", "b", "b", "b", "a"]
    m = classification_metrics(gold, pred, ["a", "b", "c"])
    assert m["accuracy"] == 60.0
    # F1 per class: a 0.5, b 0.8, c 0.0 -> macro 43.33
    assert m["macro_f1"] == pytest.approx(43.33, abs=0.01)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert m["per_class"]["b"]["precision"] == pytest.approx(66.67, abs=0.01)
    png = confusion_png(m, tmp_path / "c.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert np.sum(m["confusion_matrix"]) == 5
