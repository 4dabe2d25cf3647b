"""A SQuAD dataset as the selection core's :class:`~ids_extract.select.units.Units`: one document per
paragraph (split into sentences), one item per question.

On a training split the gold answers may guide segmentation: sentences an answer crosses are merged
into one unit, so no answer is ever cut in two. On an evaluation split the answers are never looked
at here. Every step that needs sentence units of a QA file (extraction, the sentence-level dataset,
the dual encoder's training groups, learned-fusion labels) builds them with :func:`segment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import defaults
from ..progress import track
from ..select.segment import Span, merge_spans, span_of, split_sentences
from ..select.units import Units, unit_of
from .model import QA, Paragraph, SquadDataset

SPLITS: tuple[str, ...] = ("train", "eval")


@dataclass
class SquadUnits(Units):
    """:class:`Units` with, per item, its question (``qas``) and, per document, its article's
    title."""

    qas: list[QA] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)


def squad_units(dataset: SquadDataset, split: str = "eval", segmenter: str = defaults.SEGMENTER, *,
            spans_given: Sequence[list[Span]] | None = None, quiet: bool = True) -> SquadUnits:
    """Split every paragraph once (a context repeated in the file is split once).

    ``spans_given`` (one list per paragraph, as a previous call returned them) skips the
    segmenter: a resumed run rebuilds its units from the cache."""
    out = SquadUnits([], [], [], [])
    cache: dict[str, list[Span]] = {}
    paragraphs = [(a.title, p) for a in dataset.articles for p in a.paragraphs]
    for n, (title, paragraph) in enumerate(track(paragraphs, "segmenting", len(paragraphs), quiet)):
        spans = (list(spans_given[n]) if spans_given is not None
                 else _units(paragraph, split, segmenter, cache))
        doc = len(out.texts)
        out.texts.append(paragraph.context)
        out.spans.append(spans)
        out.titles.append(title)
        for qa in paragraph.qas:
            out.owner.append(doc)
            out.queries.append(qa.question)
            out.qas.append(qa)
    return out


def _units(paragraph: Paragraph, split: str, segmenter: str,
           cache: dict[str, list[Span]]) -> list[Span]:
    if paragraph.context not in cache:
        cache[paragraph.context] = split_sentences(paragraph.context, segmenter)
    spans = cache[paragraph.context]
    if split == "train":
        cuts = [(a.answer_start, a.end) for qa in paragraph.qas
                for a in qa.answers + qa.plausible_answers]
        spans = merge_spans(spans, cuts)
    return spans


def gold_units(spans: Sequence[Span], qa: QA) -> list[tuple[int, ...]]:
    """For each gold answer, the units it covers (used for keep-gold and for statistics, never
    for selection on an evaluation split)."""
    units = []
    for a in qa.answers:
        found = span_of(spans, a.answer_start, a.end)
        if found is not None:
            units.append(tuple(range(found[0], found[1] + 1)))
    return units


def answer_start_units(spans: Sequence[Span], qa: QA) -> set[int]:
    """The units that hold the start of a gold answer (empty for an unanswerable question): what
    top-k sentence recall counts, as the reference pipeline does."""
    if qa.is_impossible:
        return set()
    found = (unit_of(spans, a.answer_start) for a in qa.answers)
    return {u for u in found if u is not None}


def answer_units(units: SquadUnits) -> list[set[int]]:
    """Per item, :func:`answer_start_units` (what :class:`~ids_extract.select.stats.RankingStats`
    measures against)."""
    return [answer_start_units(units.spans[p], qa) for p, qa in zip(units.owner, units.qas,
                                                                    strict=True)]
