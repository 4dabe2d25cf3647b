"""Units of a text read without a question (classification): sentences, or finer clauses, with
markup runs as units of their own so that a selection can leave them out.

QA contexts are cut by :func:`~.segment.split_sentences` alone. Texts to classify need two more
cuts, both task-agnostic:

- **markup**: IMDB reviews hold ``<br /><br />`` between paragraphs (8 WordPiece tokens each); as
  the leading part of the next sentence they would cost every kept sentence budget. A run of
  ``<br>`` tags (with the white space around it) becomes its own unit, and such a unit is a
  *filler* (:func:`is_filler`): no word character once tags are removed. The pipeline ranks
  fillers last.
- **clauses** (``unit="clause"``): one-sentence texts (tweets) have nothing to drop at sentence
  level; a sentence is cut after ``, ; :`` and before a contrast or cause conjunction (``but``,
  ``because``, ``although`` …), where both sides keep at least :data:`MIN_CLAUSE_WORDS` words.

The spans still tile the text, so offsets move by arithmetic as everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from .. import defaults
from ..errors import ConfigError
from .segment import Span, split_sentences

UNITS: tuple[str, ...] = ("sentence", "clause")
MIN_CLAUSE_WORDS = 3
_MARKUP = re.compile(r"\s*(?:<br\s*/?>\s*)+", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")
_CONJUNCTIONS = ("but", "because", "although", "though", "while", "whereas", "yet", "however",
                 "since", "unless", "cause")
_CLAUSE = re.compile(r"(?<=[,;:])\s+|\s+(?=(?:" + "|".join(_CONJUNCTIONS) + r")\b)",
                     re.IGNORECASE)


def check_unit(unit: str) -> str:
    """The unit name if known, else a :class:`ConfigError` (before any work)."""
    if unit not in UNITS:
        raise ConfigError(f"unit {unit!r}: choose from {', '.join(UNITS)}")
    return unit


def split_text(text: str, unit: str = "sentence", segmenter: str = defaults.SEGMENTER) -> list[Span]:
    """Spans tiling ``text``: sentences (markup runs cut out as units of their own), or clauses."""
    check_unit(unit)
    spans = _cut_all(split_sentences(text, segmenter), lambda s, e: _markup_cuts(text, s, e))
    if unit == "clause":
        spans = _cut_all(spans, lambda s, e: _clause_cuts(text, s, e))
    return spans


def is_filler(piece: str) -> bool:
    """A unit with no word character once markup tags are removed (white space, ``<br />``)."""
    return _WORD.search(_TAG.sub(" ", piece)) is None


def fillers(text: str, spans: Sequence[Span]) -> list[bool]:
    """Per unit, :func:`is_filler`."""
    return [is_filler(text[s:e]) for s, e in spans]


def _cut_all(spans: Sequence[Span], cuts: Callable[[int, int], Iterator[int]]) -> list[Span]:
    """Cut every span at the positions ``cuts(start, end)`` gives (strictly inside it)."""
    out: list[Span] = []
    for s, e in spans:
        last = s
        for c in sorted(set(cuts(s, e))):
            if last < c < e:
                out.append((last, c))
                last = c
        out.append((last, e))
    return out


def _markup_cuts(text: str, s: int, e: int) -> Iterator[int]:
    for m in _MARKUP.finditer(text, s, e):
        yield m.start()
        yield m.end()


def _clause_cuts(text: str, s: int, e: int) -> Iterator[int]:
    """Clause boundaries where both sides keep enough words (else the cut is not made)."""
    last = s
    for m in _CLAUSE.finditer(text, s, e):
        c = m.end()
        if (len(_WORD.findall(text, last, c)) >= MIN_CLAUSE_WORDS
                and len(_WORD.findall(text, c, e)) >= MIN_CLAUSE_WORDS):
            yield c
            last = c
