"""Reading the inputs every data format comes in, each problem a
:class:`~ids_extract.errors.DataError` with its place: a text file as UTF-8 (the byte offset and
line of a bad byte; a byte-order mark accepted; an empty file refused), JSON Lines, a Parquet
table, a ``datasets`` ``save_to_disk`` folder or hub dataset; and the check every reader makes of
the strings it hands on (:func:`check_text`, :func:`check_strings`): a lone surrogate, which JSON
can spell (``"\\ud800"``) but which is no Unicode text, is refused with its field, instead of
crashing a tokenizer or the writer far from the input, or coming out as ``?``.

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
#: a UTF-16 surrogate code point: in a ``str`` always a lone one (JSON joins escaped pairs)
SURROGATE = re.compile("[\ud800-\udfff]")


def hf_split_for(value: str | None, training: bool) -> str:
    """The split of a ``datasets`` folder or hub name to read: ``value`` as given, else one rule
    for every command: ``train`` for training data (``train-*``, ``split-texts``, ``split
    train``), ``validation`` for everything else."""
    return value or ("train" if training else "validation")


def looks_like_hub_name(name: str) -> bool:
    """``squad`` or ``org/name``: no data-file suffix, not a path from here (a missing
    ``data/train.json`` is "no such file", not a hub dataset that could not be reached)."""
    path = Path(name)
    return (HUB_DATASET.match(name) is not None and path.suffix.lower() not in DATA_SUFFIXES
            and not (len(path.parts) > 1 and path.parent.exists()))


def read_utf8(path: Path) -> str:
    """The file as text; invalid UTF-8 is a DataError with the byte offset and the line, and a
    file with nothing but white space in it one that says it is empty."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise bad_bytes(str(path), data, err) from None
    if not text.strip():
        raise DataError(str(path), "", "empty file")
    return text


def bad_bytes(path: str, data: bytes, err: UnicodeDecodeError, base: int = 0,
              line: int = 1) -> DataError:
    """The DataError of invalid UTF-8 in ``data``: its byte offset in the file (``data`` starts
    at byte ``base``, on line ``line``) and its line."""
    at = base + err.start
    line += data[: err.start].count(b"\n")
    return DataError(path, f"byte {at} (line {line})", f"invalid UTF-8 ({err.reason})")


def check_text(value: str, path: str, where: str, name: str) -> str:
    """``value`` itself, or a DataError naming field ``name`` when it holds a lone surrogate."""
    found = SURROGATE.search(value)
    if found is not None:
        raise DataError(path, where, f"field {name!r} holds a lone surrogate "
                        f"(U+{ord(found.group()):04X}) at character {found.start()}: that is not "
                        "Unicode text (half of an escaped pair such as \\ud83d\\ude00, or bytes "
                        "decoded with errors='surrogateescape'); fix it in the file")
    return value


def check_strings(value: Any, path: str, where: str, name: str = "") -> None:
    """:func:`check_text` on every string in ``value`` (a parsed JSON row: keys, values, nested
    lists and objects), the field named by its path (``answers[0].text``)."""
    if isinstance(value, str):
        check_text(value, path, where, name)
    elif isinstance(value, dict):
        for key, item in value.items():
            field = f"{name}.{key}" if name else str(key)
            check_text(str(key), path, where, f"{field} (its name)")
            check_strings(item, path, where, field)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_strings(item, path, where, f"{name}[{i}]")


def read_json(path: Path) -> Any:
    """A JSON file (a config, a manifest, predictions), every string in it checked: no such file,
    a bad byte, an empty file, a JSON error and a lone surrogate are DataErrors with their place."""
    try:
        text = read_utf8(path)
    except (FileNotFoundError, IsADirectoryError):
        raise DataError(str(path), "", "no such file") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(str(path), f"line {err.lineno} column {err.colno}",
                        f"not JSON: {err.msg}") from None
    check_strings(raw, str(path), "")
    return raw


def text_given(text: str | None, path: str | Path | None, option: str = "context") -> str:
    """A text given on the command line or in a file (exactly one of ``option`` and
    ``option-file``); a missing file or invalid UTF-8 is a DataError with its place."""
    if (text is None) == (path is None):
        raise ConfigError(f"give exactly one of `{option}` and `{option}_file`")
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
            raise DataError(name, "", f"no split {split!r} (has {sorted(loaded)}); use `hf_split`")
        loaded = loaded[split]
    return loaded
