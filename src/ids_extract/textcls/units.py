"""A classification file as the selection core's :class:`~ids_extract.select.units.Units`: one
document per text, cut into sentences (or clauses), and one item per text with an empty query.

Gold labels go into the units only on a training split, where a scorer may explain the known
class instead of the predicted one; on an evaluation split the labels are never handed on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from .. import defaults
from ..progress import track
from ..select.pieces import fillers, split_text
from ..select.segment import Span
from ..select.units import Units
from .model import TextDataset

SPLITS: tuple[str, ...] = ("train", "eval")


@dataclass
class TextUnits(Units):
    """:class:`Units` with, per text, its id and which of its units are fillers (markup or
    white space only: ranked last by the extractor)."""

    ids: list[str] = field(default_factory=list)
    fillers: list[list[bool]] = field(default_factory=list)
    has_queries: ClassVar[bool] = False


def text_units(dataset: TextDataset, split: str = "eval", unit: str = "sentence",
            segmenter: str = defaults.SEGMENTER, *, spans_given: Sequence[list[Span]] | None = None,
            quiet: bool = True) -> TextUnits:
    """Cut every text into units (``spans_given``, one list per text as a previous call returned
    them, skips the segmenter: a resumed run rebuilds its units from the cache)."""
    out = TextUnits([], [], [], [], [] if split == "train" else None)
    for n, record in enumerate(track(dataset.records, "segmenting", len(dataset), quiet)):
        spans = (list(spans_given[n]) if spans_given is not None
                 else split_text(record.text, unit, segmenter))
        out.texts.append(record.text)
        out.spans.append(spans)
        out.owner.append(n)
        out.queries.append("")
        out.ids.append(record.id)
        out.fillers.append(fillers(record.text, spans))
        if out.labels is not None:
            out.labels.append(record.label)
    return out
