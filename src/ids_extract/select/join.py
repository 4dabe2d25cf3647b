"""A document cut down to its kept units, and offsets moved by arithmetic through them.

Kept units are joined in their original order; where two kept units were not adjacent and no white
space stands between them, one space is put between them. A position of the original text maps to
the shorter one (:meth:`Joined.remap`) and back by the offsets of the kept units, never by
searching for a string (which finds the wrong occurrence of a repeated answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .segment import Span


@dataclass(frozen=True)
class Joined:
    """A context cut down to ``kept`` sentences; ``offsets[i]`` is where kept sentence ``i``
    starts in the new context."""

    context: str
    kept: tuple[int, ...]
    offsets: tuple[int, ...]

    def remap(self, spans: Sequence[Span], start: int, end: int) -> int | None:
        """New start of the original ``[start, end)``, or None if any part was dropped.

        Pure offset arithmetic: the answer is never searched for in the new text."""
        where = {k: n for n, k in enumerate(self.kept)}
        first = next((i for i, (s, e) in enumerate(spans) if s <= start < e), None)
        if first is None or first not in where:
            return None
        last = first
        while spans[last][1] < end:
            last += 1
            if last >= len(spans) or last not in where or where[last] != where[first] + last - first:
                return None
        return self.offsets[where[first]] + start - spans[first][0]


def join(context: str, spans: Sequence[Span], kept: Sequence[int]) -> Joined:
    """Join the kept sentences in original order. Where two kept sentences were not adjacent and
    no white space stands between them, one space is put between them."""
    parts: list[str] = []
    offsets: list[int] = []
    length = 0
    previous = None
    for i in kept:
        s, e = spans[i]
        if (previous is not None and previous + 1 != i and not parts[-1][-1:].isspace()
                and not context[s:s + 1].isspace()):
            parts.append(" ")
            length += 1
        offsets.append(length)
        parts.append(context[s:e])
        length += e - s
        previous = i
    return Joined("".join(parts), tuple(kept), tuple(offsets))


def with_cut(spans: Sequence[Span], cut: tuple[int, Span] | None) -> list[Span]:
    """``spans`` with unit ``cut[0]`` narrowed to the character span ``cut[1]`` (a unit cut to a
    token budget by :func:`ids_extract.select.cut.cut_span`); the spans then no longer tile the
    text, which :func:`join` and :meth:`Joined.remap` do not need."""
    out = list(spans)
    if cut is not None:
        out[cut[0]] = cut[1]
    return out
