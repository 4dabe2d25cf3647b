"""Units: documents cut into exact spans, and the items (questions, or none) asked of them.

This is what the selection core works on, whatever the task: a QA dataset gives one item per
question, pointing at its paragraph; a classification file gives one item per text, pointing at
itself, with an empty query. Scorers see the same data as :class:`ScoringBatch` es: whole
documents, so that per-document work (encoding a paragraph's sentences once for all its
questions, building one BM25 index) is done once.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .segment import Span


@dataclass(frozen=True)
class ScoringBatch:
    """``contexts[c]`` is the list of unit texts of document ``c``; item ``q`` asks
    ``queries[q]`` about ``contexts[owner[q]]``: a question in QA, ``""`` for a task that asks no
    query (classification), as in :class:`Units`.

    ``labels[q]``, when given, is the class the item's text is known to have (classification on
    a training split: a scorer may explain that class instead of the predicted one).

    ``candidates[q]``, when given (a cascade, :mod:`.cascade`), are the only units of item ``q``
    whose scores are used: a costly scorer may score just those (the others' scores are
    replaced)."""

    contexts: Sequence[Sequence[str]]
    queries: Sequence[str]
    owner: Sequence[int]
    labels: Sequence[str | None] | None = None
    candidates: Sequence[Any] | None = None  # per item: an int array of unit indices

    def __post_init__(self) -> None:
        if len(self.queries) != len(self.owner):
            raise ValueError("queries and owner must have the same length")
        if self.labels is not None and len(self.labels) != len(self.owner):
            raise ValueError("labels and owner must have the same length")
        if self.candidates is not None and len(self.candidates) != len(self.owner):
            raise ValueError("candidates and owner must have the same length")

    @property
    def questions(self) -> Sequence[str]:
        """Deprecated name of :attr:`queries` (scorers written before 0.4 read it)."""
        warnings.warn("ScoringBatch.questions is deprecated: read ScoringBatch.queries",
                      DeprecationWarning, stacklevel=2)
        return self.queries


@dataclass
class Units:
    """Per document its text and unit spans (tiling the text); per item its document and query.

    Items of one document are consecutive and documents are in order (``owner`` never goes
    back), which is how both QA files and classification files come."""

    texts: list[str]
    spans: list[list[Span]]
    owner: list[int]
    queries: list[str]
    labels: list[str | None] | None = None
    #: False when the task asks no query (classification: every query is ``""``, and a text is
    #: read alone, ``[CLS] text [SEP]``, so a token budget leaves room for no query)
    has_queries: ClassVar[bool] = True

    def __len__(self) -> int:
        return len(self.owner)

    def unit_texts(self, doc: int) -> list[str]:
        text = self.texts[doc]
        return [text[s:e] for s, e in self.spans[doc]]

    def batches(self, chunk_size: int) -> Iterator[tuple[range, ScoringBatch]]:
        """Batches of whole documents holding about ``chunk_size`` units + items, with the range
        of items each batch covers."""
        owners = self.owner
        q = 0
        while q < len(owners):
            first = owners[q]
            end, size = q, 0
            while end < len(owners) and (size < chunk_size or owners[end] == owners[end - 1]):
                if end == q or owners[end] != owners[end - 1]:
                    size += len(self.spans[owners[end]])
                size += 1
                end += 1
            last = owners[end - 1]
            labels = self.labels[q:end] if self.labels is not None else None
            batch = ScoringBatch([self.unit_texts(d) for d in range(first, last + 1)],
                                 self.queries[q:end], [o - first for o in owners[q:end]], labels)
            yield range(q, end), batch
            q = end


def unit_of(spans: Sequence[Span], position: int) -> int | None:
    """Index of the unit holding character ``position``, or None outside the text."""
    return next((i for i, (s, e) in enumerate(spans) if s <= position < e), None)


__all__ = ["ScoringBatch", "Span", "Units", "unit_of"]
