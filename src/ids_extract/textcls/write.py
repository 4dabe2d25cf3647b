"""Writing a classification file back in the format it was read, with new texts: ids, labels and
every other column unchanged. Files are written atomically; a ``datasets`` folder is saved to a
temporary folder beside the target and moved into place.

JSON Lines are written as the shared data files are: UTF-8, ``\\n`` line ends, characters as they
are except U+0085, U+2028 and U+2029, which are escaped (``str.splitlines`` would break a line at
them).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..files import atomic_path
from .model import TextDataset

SUFFIX = {"jsonl": ".jsonl", "json": ".json", "csv": ".csv", "tsv": ".tsv", "parquet": ".parquet",
          "datasets": ""}
_LINE_BREAKS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def target_name(dataset: TextDataset, stem: str) -> str:
    """``stem`` with the suffix of the dataset's format (a folder for ``datasets``)."""
    return stem + SUFFIX[dataset.format]


def write_like(dataset: TextDataset, texts: Sequence[str], target: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` with ``texts[i]`` as the text of record ``i``, in its own format."""
    if len(texts) != len(dataset):
        raise ValueError(f"{len(texts)} texts for {len(dataset)} records")
    out = Path(target)
    column = dataset.columns.text
    if dataset.format == "parquet":
        _write_parquet(dataset.original, column, texts, out)
    elif dataset.format == "datasets":
        _write_datasets(dataset.original, column, texts, out)
    else:
        rows = [{**row, column: text} for row, text in zip(dataset.original, texts, strict=True)]
        if dataset.format == "jsonl":
            _write_jsonl(rows, out)
        elif dataset.format == "json":
            with atomic_path(out) as tmp:
                tmp.write_text(_escape(json.dumps(rows, ensure_ascii=False)) + "\n", encoding="utf-8")
        else:
            _write_csv(rows, dataset.extra, out)
    return out


def _escape(line: str) -> str:
    for char, escaped in _LINE_BREAKS.items():
        line = line.replace(char, escaped)  # only ever inside a JSON string
    return line


def _write_jsonl(rows: list[dict[str, Any]], out: Path) -> None:
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(_escape(json.dumps(row, ensure_ascii=False)) + "\n")


def _write_csv(rows: list[dict[str, Any]], extra: dict[str, Any], out: Path) -> None:
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=extra["fieldnames"], delimiter=extra["delimiter"],
                                lineterminator=extra["lineterminator"])
        writer.writeheader()
        writer.writerows(rows)


def _write_parquet(table: Any, column: str, texts: Sequence[str], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    index = table.schema.get_field_index(column)
    field = table.schema.field(index)
    new = table.set_column(index, field, pa.array(list(texts), type=field.type))
    with atomic_path(out) as tmp:
        pq.write_table(new, tmp)


def _write_datasets(dataset: Any, column: str, texts: Sequence[str], out: Path) -> None:
    """Same features and column order; the new folder replaces the target in one rename."""
    new = dataset.map(lambda _, i: {column: texts[i]}, with_indices=True, keep_in_memory=True,
                      desc=None)
    tmp = out.parent / f".{out.name}.tmpdir"
    shutil.rmtree(tmp, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        new.save_to_disk(str(tmp))
        if out.exists():
            old = out.parent / f".{out.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
