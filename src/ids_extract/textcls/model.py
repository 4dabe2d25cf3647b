"""The text-classification object model: a :class:`TextDataset` of :class:`TextRecord` s (id, text,
label), with what its writer needs to give the same file back.

A classification file is a table: one row per text, a text column, a label column, an id column,
and any other columns. The records are what the pipeline works on; ``original`` keeps the rows as
they were read (JSON objects, CSV fields, an Arrow table or a ``datasets.Dataset``), so that a
compressed copy keeps every other column, every id and every label unchanged and only the text
differs (:mod:`.write`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import check_limit

#: input formats, by what :mod:`.read` found
FORMATS = ("jsonl", "json", "csv", "tsv", "parquet", "datasets")


@dataclass(frozen=True)
class Columns:
    """Which columns hold the text, the label and the id (``id=None``: the row number)."""

    text: str = "text"
    label: str = "label"
    id: str | None = None


@dataclass(frozen=True)
class TextRecord:
    """One text to classify; ``where`` names its place in the file (``line 12``, ``row 3``)."""

    id: str
    text: str
    label: str | None
    where: str


@dataclass
class TextDataset:
    """Records in file order, the format they came in, and the rows as read (``original``:
    ``list[dict]`` for JSON/CSV, a ``pyarrow.Table`` for Parquet, a ``datasets.Dataset``)."""

    records: list[TextRecord]
    source: str
    format: str
    columns: Columns
    original: Any = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. CSV field names and dialect

    def __len__(self) -> int:
        return len(self.records)

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.records]

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.records]

    @property
    def gold(self) -> list[str | None]:
        return [r.label for r in self.records]

    @property
    def has_labels(self) -> bool:
        return bool(self.records) and all(r.label is not None for r in self.records)

    @property
    def labels(self) -> list[str]:
        """The distinct labels, sorted (the class order of a classifier trained on them)."""
        return sorted({r.label for r in self.records if r.label is not None})

    def label_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(r.label for r in self.records if r.label is not None).items()))

    def select(self, indices: Sequence[int]) -> TextDataset:
        """The records at ``indices`` (in that order), with their original rows: a subset that
        writes back in the same format."""
        chosen = list(indices)
        return replace(self, records=[self.records[i] for i in chosen],
                       original=_take(self.original, chosen))

    def limit(self, n: int | None) -> TextDataset:
        """The first ``n`` texts (all when None); ``n`` below 1 is a :class:`ConfigError`."""
        check_limit(n, "texts")
        return self if n is None or n >= len(self) else self.select(range(n))

    def split_every(self, every: int, offset: int = 0) -> tuple[TextDataset, TextDataset]:
        """(train, dev): text ``i`` goes to dev when ``i % every == offset`` — a fixed,
        documented hold-out spread over the whole file (files sorted by class stay balanced)."""
        dev = [i for i in range(len(self)) if i % every == offset]
        chosen = set(dev)
        return self.select([i for i in range(len(self)) if i not in chosen]), self.select(dev)


def _take(original: Any, indices: list[int]) -> Any:
    """The same rows of whatever ``original`` is (a list, an Arrow table, a datasets.Dataset)."""
    if original is None:
        return None
    if isinstance(original, list):
        return [original[i] for i in indices]
    if hasattr(original, "features"):  # datasets.Dataset (whose take(n) is the first n rows)
        return original.select(indices)
    return original.take(indices)  # pyarrow.Table
