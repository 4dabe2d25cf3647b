"""Reading a classification file: JSON Lines, a JSON list, CSV/TSV, Parquet, a ``datasets``
``save_to_disk`` folder, or a hub dataset name (for users with internet).

Validated as it is read, with the rigour of the SQuAD reader: every problem is a
:class:`~ids_extract.errors.DataError` naming the file and the line (or row) and, once known, the
id: invalid UTF-8 (byte offset and line), an empty file, a line that is not a JSON object, a
missing or empty text, a missing label, a duplicate id, a lone surrogate in any column (named: every
column is written back, and none can be written as UTF-8 with one). A UTF-8 byte-order mark is
accepted. JSON Lines are split at ``\\n`` only, as the format says (``str.splitlines`` would also
split inside a text at U+0085 or U+2028).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..tabular import check_strings, jsonl_rows, load_hf, looks_like_hub_name, read_parquet, read_utf8
from .model import Columns, TextDataset, TextRecord

LABELS = ("required", "optional")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
            ".parquet": "parquet"}
Rows = Iterator[tuple[str, dict[str, Any]]]


def load(source: str | os.PathLike[str], *, columns: Columns | None = None,
         labels: str = "required", hf_split: str = "train") -> TextDataset:
    """Read and validate a classification file (see the module doc).

    ``labels="required"`` (training, evaluation) refuses a text without a label;
    ``"optional"`` also accepts a file with no label column at all (texts to compress or to
    predict), but not one where only some rows have a label."""
    cols = columns or Columns()
    if labels not in LABELS:
        raise ConfigError(f"labels {labels!r}: choose from {', '.join(LABELS)}")
    path = Path(source)
    if path.is_dir() or (not path.exists() and looks_like_hub_name(str(source))):
        return _from_datasets(str(source), cols, labels, hf_split, local=path.is_dir())
    if not path.exists():
        raise DataError(str(source), "", "no such file or folder")
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(str(path), "", f"unknown format {path.suffix!r}: give .jsonl, .json, .csv, "
                        ".tsv, .parquet or a datasets save_to_disk folder")
    if fmt == "parquet":
        table = read_parquet(path)
        rows = list(table.to_pylist())
        return _dataset(_numbered(rows, "row"), str(path), fmt, cols, labels, table, {})
    text = read_utf8(path)
    if fmt == "jsonl":
        parsed = [(f"line {n}", row) for n, row in jsonl_rows(text, str(path))]
        return _dataset(iter(parsed), str(path), fmt, cols, labels, [r for _, r in parsed], {})
    if fmt == "json":
        rows = _json_rows(text, str(path))
        return _dataset(_numbered(rows, "item"), str(path), fmt, cols, labels, rows, {})
    parsed, extra = _csv_rows(text, str(path), "\t" if fmt == "tsv" else ",")
    return _dataset(iter(parsed), str(path), fmt, cols, labels, [r for _, r in parsed], extra)


def _numbered(rows: list[Any], what: str) -> Rows:
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError("", f"{what} {n}", "expected an object")
        yield f"{what} {n}", row


def _json_rows(text: str, path: str) -> list[Any]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, f"line {err.lineno} column {err.colno}", f"not JSON: {err.msg}") from None
    if not isinstance(raw, list):
        raise DataError(path, "", "expected a JSON list of objects (or use JSON Lines)")
    for n, row in enumerate(raw):
        if not isinstance(row, dict):
            raise DataError(path, f"item {n}", "expected an object")
    return raw


def _csv_rows(text: str, path: str,
              delimiter: str) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:
    """Rows of a CSV/TSV file (header first) with the line each starts on; ``extra`` keeps the
    field names and line ending so the writer gives the same layout back."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # reviews can be longer than 128 kB
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[str, dict[str, Any]]] = []
    line = 2
    try:
        fields = list(reader.fieldnames or [])
        for row in reader:
            where = f"line {line}"
            if None in row:
                raise DataError(path, where, f"{len(fields) + len(row[None])} fields, the "
                                f"header has {len(fields)}")
            if any(v is None for v in row.values()):
                raise DataError(path, where, f"fewer fields than the header's {len(fields)}")
            rows.append((where, dict(row)))
            line = reader.line_num + 1
    except csv.Error as err:
        raise DataError(path, f"line {reader.line_num}", f"not CSV: {err}") from None
    if not fields:
        raise DataError(path, "", "no header line")
    ending = "\r\n" if "\r\n" in text[: text.find("\n") + 1] else "\n"
    return rows, {"fieldnames": fields, "delimiter": delimiter, "lineterminator": ending}


def _from_datasets(name: str, cols: Columns, labels: str, split: str, *,
                   local: bool) -> TextDataset:
    """A ``save_to_disk`` folder (a Dataset, or a DatasetDict and its ``split``) or a hub name;
    a ClassLabel column is read as its label names."""
    import datasets

    loaded = load_hf(name, split, local=local)
    feature = loaded.features.get(cols.label)
    names = list(feature.names) if isinstance(feature, datasets.ClassLabel) else None
    rows = loaded.to_list()
    if names is not None:
        rows = [{**r, cols.label: _class_name(r.get(cols.label), names)} for r in rows]
    return _dataset(_numbered(rows, "row"), name, "datasets", cols, labels, loaded,
                    {"split": split})


def _class_name(value: Any, names: list[str]) -> Any:
    return names[value] if isinstance(value, int) and 0 <= value < len(names) else value


def _dataset(rows: Rows, path: str, fmt: str, cols: Columns, labels: str, original: Any,
             extra: dict[str, Any]) -> TextDataset:
    """Records from ``(where, row)`` pairs, every check of the module doc on the way."""
    records: list[TextRecord] = []
    seen: dict[str, str] = {}
    id_column = cols.id
    with_label: bool | None = None
    try:
        for n, (where, row) in enumerate(rows):
            if n == 0 and id_column is None and "id" in row:
                id_column = "id"  # the usual name, taken when the first row has it
            if with_label is None:
                with_label = cols.label in row or labels == "required"
            rid = _id(row, id_column, n, where, path)
            where = f"{where} (id {rid!r})" if id_column else where
            if rid in seen:
                raise DataError(path, where, f"duplicate id (first at {seen[rid]})")
            seen[rid] = where
            check_strings(row, path, where)  # every column is written back
            records.append(TextRecord(rid, _text(row, cols.text, where, path),
                                      _label(row, cols.label, with_label, where, path), where))
    except DataError as err:
        if not err.path:  # raised where the path was not known
            raise DataError(path, err.where, err.problem) from None
        raise
    if not records:
        raise DataError(path, "", "no texts")
    return TextDataset(records, path, fmt, Columns(cols.text, cols.label, id_column), original,
                       extra)


def _id(row: dict[str, Any], column: str | None, n: int, where: str, path: str) -> str:
    if column is None:
        return str(n)
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DataError(path, where, f"missing id (column {column!r})")
    if not isinstance(value, str | int):
        raise DataError(path, where, f"id column {column!r} has type {type(value).__name__}")
    return str(value)


def _text(row: dict[str, Any], column: str, where: str, path: str) -> str:
    if column not in row:
        raise DataError(path, where, f"no text column {column!r} (columns: {', '.join(map(str, row))}"
                        "; use `text_column`)")
    value = row[column]
    if not isinstance(value, str):
        raise DataError(path, where, f"text column {column!r} has type {type(value).__name__}")
    if not value.strip():
        raise DataError(path, where, "empty text")
    return value


def _label(row: dict[str, Any], column: str, wanted: bool, where: str, path: str) -> str | None:
    """The label as a string; missing is an error when labels are required, or when the file
    has a label column that this row lacks."""
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        if wanted:
            raise DataError(path, where, f"missing label (column {column!r}; use `label_column`)")
        return None
    if not wanted:
        raise DataError(path, where, f"a label in column {column!r}, but the first row has none")
    if not isinstance(value, str | int | bool):
        raise DataError(path, where, f"label column {column!r} has type {type(value).__name__}")
    return str(value)
