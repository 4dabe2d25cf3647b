"""The one driver of the selection pipeline: a task's units → every scorer (with the cascade) →
fusion → the selection step at every level → the task's output per level.

Why one: QA extraction, text compression for classification, the ``compress`` request API and
the benches each wired these steps themselves, and each copy drifted (a cascade in one, a filler
rule in another). Now a task says only what is its own, through :class:`Task`:

- ``units``: where its units come from (paragraphs and questions, texts, passages);
- ``rules``: what it adds to the selection step (:class:`~ids_extract.select.step.Rules`: QA's
  keep-gold, classification's markup fillers), per level;
- ``write``: what a level's choice becomes (a SQuAD dataset, shortened texts, a compression);
- ``product`` (a task that writes a folder): what its levels become in an output folder
  (:class:`.product.Product`: file formats with their writers and read-backs, the level's
  manifest entry, the statistics ``stats`` prints), which the one folder engine (:mod:`.run`),
  ``validate`` and ``stats`` use.

How units are scored is a :class:`~.selector.Selector` (scorers, fusion, cascade, segmenter),
built once; which tokenizer counts is a :class:`Tokenizers`. A new task is one class with these
methods and its product (``tests/test_driver.py`` runs a toy third task through it, into a
folder that ``validate`` and ``stats`` read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from ..errors import ConfigError
from ..models.tokenizer import Tokenizers, levels_with_tokenizers
from ..progress import Meter, stage
from ..scorers.base import Scorer
from ..select.budget import check_room
from ..select.cascade import Cascade
from ..select.fusion import Fusion
from ..select.levels import Level
from ..select.segment import Span
from ..select.step import Budget, Choice, Rules, choose
from ..select.units import Units
from .scoring import Scored
from .selector import Selector

# a task's data (D), units (U), rules (R) and output of one level (O); the Protocol has its own,
# marked with their variance (a Protocol's type variables must say it)
U = TypeVar("U", bound=Units)
R = TypeVar("R", bound=Rules)
D = TypeVar("D")
O = TypeVar("O")  # noqa: E741 (the output of one level)
U_ = TypeVar("U_", bound=Units)
R_ = TypeVar("R_", bound=Rules)
D_contra = TypeVar("D_contra", contravariant=True)
O_co = TypeVar("O_co", covariant=True)


@dataclass
class Chosen(Generic[U, R]):
    """One level's selection, what a task's writer reads: the level and its file name
    (``D2-tokens128``), the units, the step's :class:`Choice`, the task's rules for the level
    (which may have counted on the way), every unit counted by the base tokenizer, and the
    scores the step ranked by."""

    name: str
    level: Level
    units: U
    choice: Choice
    rules: R
    counted: Budget
    scored: Scored


class Task(Protocol[D_contra, U_, R_, O_co]):
    """What a task gives the driver (see the module doc): its units, its rules, its writer (and,
    to write a folder, its product: :class:`.product.Producing`)."""

    def units(self, data: D_contra, segmenter: str, *, spans: Sequence[list[Span]] | None,
              quiet: bool) -> U_:
        """The data as units, cut by ``segmenter`` (or along ``spans`` when given: the spans a
        score cache was made with, so no segmenter runs)."""
        ...

    def rules(self, units: U_, level: Level, name: str) -> R_:
        """The rules of the selection step at ``level`` (a fresh object per level)."""
        ...

    def write(self, data: D_contra, chosen: Chosen[U_, R_]) -> O_co:
        """What one level's choice becomes."""
        ...


@dataclass
class Selection(Generic[O]):
    """Every level's output (in level order) and, per item, the ranking the levels used."""

    outputs: list[O]
    orders: list[np.ndarray]


class Driver(Generic[D, U, R, O]):
    """Runs a :class:`Task` through the pipeline: :meth:`units`, :meth:`score` (the expensive
    part, which engines cache per shard), :meth:`select` (every level from the scores), or all
    three with :meth:`run`.

    ``levels``: :class:`Level` objects or their text; their tokenizers are loaded here (base:
    ``stats_tokenizer``) unless ``tokenizers`` are given. ``exact``: the levels are budgets
    (:func:`~ids_extract.select.levels.parse_budget`), and a unit cut to fit is counted again and
    cut tighter until it fits (``compress``'s promise of never exceeding the budget); ``quiet``
    turns the progress bars off. ``room_for``: queries whose room is checked now (``texts``:
    the texts, for ``max-ratio``), as :meth:`check_room` does."""

    def __init__(self, task: Task[D, U, R, O], selector: Selector,
                 levels: str | Sequence[Level | str], tokenizers: Tokenizers | None = None, *,
                 stats_tokenizer: str | None = None, exact: bool = False,
                 room_for: Sequence[str] | None = None, texts: Sequence[str] | None = None,
                 chunk_size: int = 4096, quiet: bool = False) -> None:
        if tokenizers is None:
            parsed, tokenizers = levels_with_tokenizers(levels, stats_tokenizer, budgets=exact,
                                                        room_for=room_for, texts=texts)
        else:
            parsed = [lv for lv in levels if isinstance(lv, Level)]
            if len(parsed) != len(levels) or isinstance(levels, str):
                raise TypeError("levels are Level objects when their tokenizers are given")
        if not parsed:
            raise ConfigError("no levels given")
        self.task, self.selector, self.levels = task, selector, parsed
        self.tokenizers, self.exact = tokenizers, exact
        self.chunk_size, self.quiet = chunk_size, quiet

    def check_room(self, queries: Sequence[str], *, ids: Sequence[str] | None = None,
                   texts: Sequence[str] | None = None) -> None:
        """Refuse, before any work, a level that leaves a query no room for text
        (:func:`~ids_extract.select.budget.check_room`, with the level's own tokenizer)."""
        for level in self.levels:
            check_room(level, queries, self.tokenizers.levels.get(str(level),
                                                                  self.tokenizers.base),
                       ids=ids, texts=texts)

    @property
    def level_names(self) -> list[str]:
        """``D1-ratio0.5``, ``D2-tokens128``, …: the levels' names in the output folder."""
        return [f"D{n}-{lv.name}" for n, lv in enumerate(self.levels, 1)]

    def units(self, data: D, spans: Sequence[list[Span]] | None = None) -> U:
        return self.task.units(data, self.selector.segmenter, spans=spans, quiet=self.quiet)

    def score(self, units: U, meter: Meter | None = None) -> Scored:
        return self.selector.score(units, chunk_size=self.chunk_size, quiet=self.quiet,
                                   meter=meter)

    def select(self, data: D, units: U, scored: Scored,
               only: Sequence[str] | None = None) -> Selection[O]:
        """Every level (or those named in ``only``) from the scores: the selection step with the
        task's rules, then the task's writer."""
        with stage("rank"):
            orders = scored.rankings(self.selector.names)
        with stage("count tokens"):
            counted = Budget.counted(units, self.tokenizers.base)
        outputs = []
        for name, level in zip(self.level_names, self.levels, strict=True):
            if only is not None and name not in only:
                continue
            with stage("select"):
                rules = self.task.rules(units, level, name)
                budget = counted.for_level(level, units, self.tokenizers.levels.get(str(level)))
                choice = choose(units, level, scored.fused, orders, budget, rules,
                                exact=self.exact, progress=f"{name.split('-')[0]} {level}",
                                quiet=self.quiet)
                outputs.append(self.task.write(data, Chosen(name, level, units, choice, rules,
                                                            counted, scored)))
        return Selection(outputs, orders)

    def run(self, data: D) -> Selection[O]:
        """Units, scores and every level of data held in memory."""
        units = self.units(data)
        return self.select(data, units, self.score(units))


class Driven:
    """An extractor built on a driver (QA's, classification's): what it shows of its selector
    and driver under the names its callers have always read."""

    selector: Selector
    driver: Driver[Any, Any, Any, Any]

    def scoring_config(self) -> dict[str, Any]:
        """What the scores depend on, and so the score cache's key: the task's part (its
        ``scoring_fields``) and the whole :meth:`Selector.config` (scorers with their models'
        hashes, fusion, cascade, segmenter, extractor), so that nothing the selector holds can
        drop out of the key."""
        fields = getattr(self.driver.task, "scoring_fields", dict)
        return {**fields(), **self.selector.config()}

    @property
    def scorers(self) -> list[Scorer]:
        return self.selector.scorers

    @property
    def fuser(self) -> Fusion:
        return self.selector.fusion

    @property
    def cascade(self) -> Cascade | None:
        return self.selector.cascade

    @property
    def segmenter(self) -> str:
        return self.selector.segmenter

    @property
    def levels(self) -> list[Level]:
        return self.driver.levels

    @property
    def quiet(self) -> bool:
        return self.driver.quiet

    @quiet.setter
    def quiet(self, value: bool) -> None:
        self.driver.quiet = value
