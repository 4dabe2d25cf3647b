"""Reading the inputs every data format comes in, each problem a
:class:`~ids_extract.errors.DataError` with its place: a text file as UTF-8 (the byte offset and
line of a bad byte; a byte-order mark accepted), JSON Lines, a Parquet table, a ``datasets``
``save_to_disk`` folder or hub dataset.

Shared by the SQuAD reader (:mod:`ids_extract.squad.read`) and the classification reader
(:mod:`ids_extract.textcls.read`), which are siblings and may not import each other. JSON Lines
are split at ``\\n`` only, as the format says: ``str.splitlines`` would also split inside a text
at U+0085 or U+2028.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ConfigError, DataError

DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".parquet", ".csv", ".tsv", ".txt", ".arrow")
HUB_DATASET = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def hf_split_for(value: str | None, training: bool) -> str:
    """The split of a ``datasets`` folder or hub name to read: ``value`` as given, else one rule
    for every command: ``train`` for training data (``train-*``, ``split-texts``, ``--split
    train``), ``validation`` for everything else."""
    return value or ("train" if training else "validation")


def looks_like_hub_name(name: str) -> bool:
    """``squad`` or ``org/name``: no data-file suffix, not a path from here (a missing
    ``data/train.json`` is "no such file", not a hub dataset that could not be reached)."""
    path = Path(name)
    return (HUB_DATASET.match(name) is not None and path.suffix.lower() not in DATA_SUFFIXES
            and not (len(path.parts) > 1 and path.parent.exists()))


def read_utf8(path: Path) -> str:
    """The file as text; invalid UTF-8 is a DataError with the byte offset and the line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(str(path), f"byte {err.start} (line {line})",
                        f"invalid UTF-8 ({err.reason})") from None


def text_given(text: str | None, path: str | Path | None, option: str = "--context") -> str:
    """A text given on the command line or in a file (exactly one of ``option`` and
    ``option-file``); a missing file or invalid UTF-8 is a DataError with its place."""
    if (text is None) == (path is None):
        raise ConfigError(f"give exactly one of {option} and {option}-file")
    if path is None:
        assert text is not None
        return text
    try:
        return read_utf8(Path(path))
    except (FileNotFoundError, IsADirectoryError):
        raise DataError(str(path), "", "no such file") from None


def jsonl_rows(text: str, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line."""
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(path, f"line {lineno}", f"not JSON: {err.msg}") from None
        if not isinstance(row, dict):
            raise DataError(path, f"line {lineno}", "expected one JSON object per line")
        yield lineno, row


def read_parquet(path: Path) -> Any:
    """The whole table (``pyarrow.Table``)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for a broken file
        raise DataError(str(path), "", f"not a readable Parquet file: {err}") from None


def load_hf(name: str, split: str, *, local: bool) -> Any:
    """A ``datasets.Dataset``: a ``save_to_disk`` folder (a Dataset, or the ``split`` of a
    DatasetDict) or, with internet, a hub dataset's ``split``."""
    import datasets

    try:
        loaded = datasets.load_from_disk(name) if local else datasets.load_dataset(name, split=split)
    except Exception as err:  # datasets raises many types (FileNotFound, ConnectionError, …)
        raise DataError(name, "", f"could not load with datasets: {err}") from None
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise DataError(name, "", f"no split {split!r} (has {sorted(loaded)}); use --hf-split")
        loaded = loaded[split]
    return loaded
