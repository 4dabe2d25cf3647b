"""The selection step, one for every task: ranked units, a level and a token budget in; per item
the kept units, the unit cut when one alone is over the budget, and the shortened text out.

QA extraction, text compression for classification and the ``compress`` request API all call
:func:`choose`; what a task adds goes through :class:`Rules` (QA's keep-gold puts the answer's
units back and never drops them; classification drops markup-only units), never through a copy
of the loop. The steps, per item:

0. the task's view of the ranking (:meth:`Rules.ranked`: classification puts markup last);
1. the level's rule (:func:`.levels.pick`); under a token budget (``tokens:L``, ``max-ratio:R``)
   the best units that fit;
2. the task's adjustment (:meth:`Rules.after_level`);
3. under a token budget, the joined text counted again and the lowest-ranked units dropped until
   it fits (:func:`.budget.enforce`: a tokenizer need not count a join as the sum of its parts);
4. an item still over its room keeps one unit, cut around its most relevant part
   (:func:`.cut.cut_span`); ``exact`` re-counts the cut and cuts tighter until it fits, so the
   budget is never exceeded (``compress``'s promise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..progress import track
from . import budget as tokens
from .cut import cut_span
from .join import Joined, join, with_cut
from .levels import Level, fit, pick
from .segment import Span
from .units import Units


@dataclass
class Budget:
    """How a level measures units: ``tokenizer`` counts, ``lengths[d]`` holds the token count
    of each unit of document ``d``, and ``rooms[q]`` the tokens left for item ``q``'s units
    once its query and the special tokens are in (None: no token budget)."""

    tokenizer: Any
    lengths: list[np.ndarray]
    rooms: list[int] | None = None

    @classmethod
    def counted(cls, units: Units, tokenizer: Any) -> Budget:
        """Every unit counted with ``tokenizer`` (one batched pass)."""
        return cls(tokenizer, tokens.unit_lengths(units.texts, units.spans, tokenizer))

    def for_level(self, level: Level, units: Units, tokenizer: Any = None) -> Budget:
        """This budget as ``level`` counts it: a ``tokens:L`` level gets its rooms, counted with
        its own tokenizer (``tokenizer``; units counted again only when that is another one); a
        ``max-ratio:R`` level the room of R of each text's tokens, the text counted as written
        (not as the sum of its units: a promise of at most R must hold for the real count)."""
        if level.kind == "max-ratio":
            whole = tokens.count_tokens(units.texts, self.tokenizer)
            rooms = [tokens.ratio_room(level.value, int(whole[d])) for d in units.owner]
            return Budget(self.tokenizer, self.lengths, rooms)
        if level.kind != "tokens":
            return self
        tok = self.tokenizer if tokenizer is None else tokenizer
        lengths = self.lengths if tok is self.tokenizer else Budget.counted(units, tok).lengths
        queries = units.queries if units.has_queries else None
        return Budget(tok, lengths, tokens.rooms(int(level.value), queries, tok, items=len(units)))


class Rules:
    """What a task adds to the step; the defaults add nothing."""

    def ranked(self, q: int, fused: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Item ``q``'s fused scores and ranking as the level reads them (unchanged here)."""
        return fused, order

    def after_level(self, q: int, kept: list[int], order: np.ndarray, lengths: np.ndarray,
                    room: int | None) -> list[int]:
        """Item ``q``'s kept units after the level's rule (return them changed or not)."""
        return kept

    def protected(self, q: int) -> set[int]:
        """Units of item ``q`` never dropped to fit the budget."""
        return set()

    def cut_target(self, q: int, kept: list[int], order: np.ndarray) -> tuple[int, Span | None]:
        """The unit to cut when item ``q`` is over its room (the best kept one), and a span
        that must stay inside the cut (None)."""
        return next(int(i) for i in order if int(i) in kept), None


@dataclass
class Choice:
    """Per item its kept units (original order) and its cut: (unit, character span) or None."""

    kept: list[list[int]]
    cuts: list[tuple[int, Span] | None]
    budget: Budget

    def spans(self, units: Units, q: int) -> list[Span]:
        """Item ``q``'s unit spans as the step used them (a cut unit narrowed)."""
        return with_cut(units.spans[units.owner[q]], self.cuts[q])

    def joined(self, units: Units, q: int) -> Joined:
        """Item ``q``'s kept units joined (offsets of each kept unit in the new text)."""
        return join(units.texts[units.owner[q]], self.spans(units, q), self.kept[q])


def choose(units: Units, level: Level, fused: Sequence[np.ndarray], orders: Sequence[np.ndarray],
           budget: Budget, rules: Rules | None = None, *, exact: bool = False,
           progress: str | None = None, quiet: bool = True) -> Choice:
    """The selection step (see the module doc) for every item of ``units``; ``fused[q]`` and
    ``orders[q]`` are item ``q``'s fused scores and ranking, ``budget`` is
    :meth:`Budget.for_level` of ``level``."""
    rules = rules or Rules()
    ranked = [rules.ranked(q, fused[q], orders[q]) for q in range(len(units))]
    fused, orders = [f for f, _ in ranked], [o for _, o in ranked]
    rooms = budget.rooms
    kept_by_q: list[list[int]] = []
    for q in track(range(len(units)), progress or str(level), len(units), quiet):
        lengths = budget.lengths[units.owner[q]]
        room = rooms[q] if rooms is not None else None
        if exact and room is not None and room < 1:
            kept_by_q.append([])
            continue
        kept = (sorted(fit(orders[q], lengths, room)) if room is not None
                else pick(level, fused[q], orders[q], lengths))
        kept_by_q.append(rules.after_level(q, kept, orders[q], lengths, room))
    cuts: list[tuple[int, Span] | None] = [None] * len(units)
    if rooms is None:
        return Choice(kept_by_q, cuts, budget)

    def joined(q: int, kept: list[int]) -> str:
        doc = units.owner[q]
        return join(units.texts[doc], units.spans[doc], kept).context if kept else ""

    kept_by_q, over = tokens.enforce(kept_by_q, orders, rooms, joined, budget.tokenizer,
                                     rules.protected)
    for q in over:
        if not kept_by_q[q]:
            continue
        unit, keep = rules.cut_target(q, kept_by_q[q], orders[q])
        cuts[q] = _cut(units, q, unit, keep, rooms[q], budget.tokenizer, exact)
        kept_by_q[q] = [unit] if cuts[q] is not None else []
    return Choice(kept_by_q, cuts, budget)


def _cut(units: Units, q: int, unit: int, keep: Span | None, room: int, tokenizer: Any,
         exact: bool) -> tuple[int, Span] | None:
    """Unit ``unit`` of item ``q`` cut to ``room`` tokens; ``exact``: counted again and cut
    tighter until the joined text fits (None when not even one token does)."""
    doc = units.owner[q]
    text, spans, query = units.texts[doc], units.spans[doc], units.queries[q]
    if not exact:
        return unit, cut_span(text, spans[unit], max(room, 1), query, tokenizer, keep)
    for target in range(room, 0, -1):  # a tokenizer may count the cut text a little higher
        cut = (unit, cut_span(text, spans[unit], target, query, tokenizer, keep))
        piece = join(text, with_cut(spans, cut), [unit]).context
        if int(tokens.count_tokens([piece], tokenizer)[0]) <= room:
            return cut
    return None
