"""QA extraction: segment → score → fuse → select at each level → remap answers.

:class:`Extractor` is the Python API behind ``ids-extract extract``. It works on a whole
:class:`~ids_extract.squad.model.SquadDataset` and returns, per level, the compressed dataset, the
kept sentence indices of every question and the statistics; :mod:`.engine` streams it over large
files and puts the results on disk. The steps are the one driver's (:mod:`.driver`); what is QA
here is :class:`QATask`: where the units come from (paragraphs, with answers guiding
segmentation on a training split), the lost-answer policy (:class:`QARules`), and the level
written as a SQuAD dataset with its answer offsets moved.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .. import defaults
from ..errors import ConfigError
from ..progress import Meter, stage
from ..scorers import Scorer
from ..select.budget import count_tokens
from ..select.cascade import Cascade
from ..select.join import Joined, with_cut
from ..select.levels import Level, add_gold, parse_levels
from ..select.segment import Span, span_of
from ..select.stats import LevelStats, RankingStats
from ..select.step import Budget, Choice, Rules
from ..squad.model import QA, Answer, Article, Paragraph, SquadDataset
from ..squad.units import SPLITS, SquadUnits, gold_units, squad_units
from ..squad.write import output_version
from .driver import Chosen, Driven, Driver
from .output import QA_PRODUCT, ranking_of
from .product import Product
from .scoring import Scored
from .selector import Selector
from .trained import TrainedExtractor

Split = Literal["train", "eval"]
LostPolicy = Literal["keep-gold", "drop", "unanswerable"]
LOST_POLICIES: tuple[str, ...] = ("keep-gold", "drop", "unanswerable")
DEFAULT_LEVELS, DEFAULT_SCORERS = defaults.LEVELS, defaults.SCORERS


@dataclass
class LevelResult:
    """One level: the compressed dataset, ``kept[q]`` the kept unit indices of item ``q`` of the
    units (in original order; also for a question the ``drop`` policy left out), ``cuts[q]`` the
    (unit, character span) it was cut to when its one unit was over a token budget, and the
    statistics."""

    level: Level
    dataset: SquadDataset
    stats: LevelStats
    kept: list[list[int]] = field(default_factory=list)
    cuts: list[tuple[int, Span] | None] = field(default_factory=list)

    def spans(self, units: SquadUnits, q: int) -> list[Span]:
        """Item ``q``'s unit spans as this level used them (a unit cut to the budget narrowed:
        see :func:`~ids_extract.select.join.with_cut`)."""
        return with_cut(units.spans[units.owner[q]], self.cuts[q] if self.cuts else None)


@dataclass
class ExtractionResult:
    levels: list[LevelResult]
    ranking: RankingStats
    config: dict[str, Any] = field(default_factory=dict)


class Extractor(Driven):
    """Keep the sentences of each context that matter for its question, at several levels.

    >>> ex = Extractor(scorers=["bm25", "sbert"], levels="ratio:0.5,tokens:128", split="eval")
    >>> result = ex.run(ids_extract.load("dev-v1.1.json"))   # doctest: +SKIP

    ``split="train"`` allows gold answers to be used (answer-crossing sentences are merged, and
    ``lost="keep-gold"`` puts a dropped answer sentence back); ``split="eval"`` never looks at
    gold answers while selecting: they are only remapped, and counted for the statistics.

    The work is the one driver's (:class:`.driver.Driver` with :class:`QATask`); ``selector``
    (a built :class:`.selector.Selector`) replaces ``scorers``, ``weights``, ``fusion``,
    ``cascade`` and ``segmenter``.
    """

    def __init__(
        self,
        scorers: Sequence[str | Scorer] = DEFAULT_SCORERS,
        levels: str | Sequence[str] | Sequence[Level] = DEFAULT_LEVELS,
        *,
        split: Split = "eval",
        lost: LostPolicy | None = None,
        weights: Mapping[str, float] | str | None = None,
        segmenter: str = defaults.SEGMENTER,
        stats_tokenizer: str | None = None,
        scorer_options: Mapping[str, Mapping[str, Any]] | None = None,
        chunk_size: int = 4096,
        quiet: bool = False,
        fusion: str = "weighted",
        fusion_model: Any = None,
        cascade: Cascade | int | None = None,
        selector: Selector | None = None,
    ) -> None:
        self.split: Split = _choice(split, SPLITS, "split")  # type: ignore[assignment]
        self.lost: LostPolicy = _choice(  # type: ignore[assignment]
            lost or ("keep-gold" if split == "train" else "unanswerable"), LOST_POLICIES,
            "lost-answer policy")
        if self.lost == "keep-gold" and split != "train":
            raise ConfigError("keep-gold uses gold answers: only allowed with split='train'")
        levels = _levels(levels)
        self.selector = selector or Selector.build(
            scorers, options=scorer_options, weights=weights, fusion=fusion,
            fusion_model=fusion_model, cascade=cascade, segmenter=segmenter)
        self.stats_tokenizer = stats_tokenizer
        # the levels' tokenizers are loaded now: a bad name fails before any work
        self.driver = Driver(QATask(self.split, self.lost), self.selector, levels,
                             stats_tokenizer=stats_tokenizer, chunk_size=chunk_size, quiet=quiet)

    @classmethod
    def from_pretrained(cls, where: str | Path | TrainedExtractor,
                        levels: str | Sequence[str] = DEFAULT_LEVELS, *,
                        device: str | None = None, profile: str | None = None,
                        **options: Any) -> Extractor:
        """The extractor of a ``train-extractor`` folder (or of an ``extractor.json``, or a
        loaded :class:`~.trained.TrainedExtractor`): its scorers, models (checked by content
        hash), fusion and segmenter, or those of one of its ``profile``s (``fast``, ``best``);
        ``options`` are the other constructor arguments (``split``, ``lost``, ``quiet``, …).

        >>> ex = Extractor.from_pretrained("models/extractor", "tokens:128")  # doctest: +SKIP
        """
        selector = TrainedExtractor.of(where).selector(profile, device)
        return cls(levels=levels, selector=selector, **options)

    # ------------------------------------------------------------------ configuration

    def config(self) -> dict[str, Any]:
        """Everything that determines the output (manifest and cache key)."""
        scoring = self.selector.config()
        return {
            "split": self.split,
            "lost": self.lost,
            "segmenter": self.segmenter,
            "scorers": scoring["scorers"],
            "fusion": scoring["fusion"],
            "levels": [str(lv) for lv in self.levels],
            "stats_tokenizer": self.stats_tokenizer or "default",
            **({"cascade": scoring["cascade"]} if "cascade" in scoring else {}),
            **({"extractor": scoring["extractor"]} if "extractor" in scoring else {}),
        }


    # ------------------------------------------------------------------ pipeline stages

    def to_units(self, dataset: SquadDataset,
                 spans_given: Sequence[list[Span]] | None = None) -> SquadUnits:
        """Units of every paragraph (see :func:`ids_extract.squad.units.squad_units`)."""
        return self.driver.units(dataset, spans_given)

    def segment(self, dataset: SquadDataset,
                spans_given: Sequence[list[Span]] | None = None) -> SquadUnits:
        """Deprecated name of :meth:`to_units` (``segment`` is the sentence splitter's module)."""
        warnings.warn("Extractor.segment is deprecated: use Extractor.to_units",
                      DeprecationWarning, stacklevel=2)
        return self.to_units(dataset, spans_given)

    def score(self, units: SquadUnits, meter: Meter | None = None) -> Scored:
        """Every scorer over the questions in batches of whole paragraphs, then fused (progress
        on ``meter`` when the caller has one)."""
        return self.driver.score(units, meter)

    def select_all(self, dataset: SquadDataset, units: SquadUnits, scored: Scored,
                   only: Sequence[str] | None = None) -> ExtractionResult:
        """Apply every level (or those named in ``only``, e.g. ``"D2-tokens128"``); returns the
        datasets, kept indices and statistics."""
        selected = self.driver.select(dataset, units, scored, only)
        with stage("rank"):
            ranking = ranking_of(units, scored.per_scorer, selected.orders)
        return ExtractionResult(selected.outputs, ranking, self.config())

    def run(self, dataset: SquadDataset) -> ExtractionResult:
        """Every level of a dataset held in memory (:func:`.engine.extract_to_dir` streams a
        file to disk instead)."""
        self.check_questions([(qa.id, qa.question) for _, _, qa in dataset.iter_qas()])
        units = self.to_units(dataset)
        return self.select_all(dataset, units, self.score(units))

    def check_questions(self, questions: Sequence[tuple[str, str]]) -> None:
        """Refuse, before any work, a ``tokens:L`` level that leaves a question (id, text) no
        room for context at all: the level could not be made for that model size."""
        self.driver.check_room([q for _, q in questions], ids=[i for i, _ in questions])


@dataclass
class QATask:
    """QA as a task of the driver (:class:`.driver.Task`): units from paragraphs (answers guide
    segmentation on a training split), the lost-answer policy as rules of the selection step,
    and each level written as a SQuAD dataset with its answers remapped."""

    split: Split
    lost: LostPolicy

    def scoring_fields(self) -> dict[str, Any]:
        """What of the task its units depend on (the split guides segmentation)."""
        return {"split": self.split}

    @property
    def product(self) -> Product[Any]:
        """Its levels on disk: SQuAD files, the ranking recall tallied (:data:`.output.QA_PRODUCT`)."""
        return QA_PRODUCT

    def units(self, data: SquadDataset, segmenter: str, *,
              spans: Sequence[list[Span]] | None = None, quiet: bool = True) -> SquadUnits:
        return squad_units(data, self.split, segmenter, spans_given=spans, quiet=quiet)

    def rules(self, units: SquadUnits, level: Level, name: str) -> QARules:
        return QARules(units, self.lost, LevelStats(name=name, level=str(level)))

    def write(self, data: SquadDataset, chosen: Chosen[SquadUnits, QARules]) -> LevelResult:
        """The level's dataset (one paragraph per question, articles kept) and statistics."""
        rules, choice = chosen.rules, chosen.choice
        for q, cut in enumerate(choice.cuts):
            if cut is not None:
                rules.count_cut(q, *cut)
        articles = self._assemble(chosen.units, choice, chosen.counted, rules.stats)
        rules.stats.finish()
        version = output_version(data.version, data.is_v2 or self.lost == "unanswerable")
        return LevelResult(chosen.level, SquadDataset(version, articles, source=data.source),
                           rules.stats, choice.kept, choice.cuts)

    def _assemble(self, units: SquadUnits, choice: Choice, base: Budget,
                  stats: LevelStats) -> list[Article]:
        """One paragraph per question (each question now has its own context), articles kept."""
        articles: list[Article] = []
        comps = [choice.joined(units, q) for q in range(len(units))]
        cut_items = [q for q, c in enumerate(choice.cuts) if c is not None]
        cut_tokens = dict(zip(cut_items, count_tokens([comps[q].context for q in cut_items],
                                                      base.tokenizer), strict=True))
        for q, (p, qa) in enumerate(zip(units.owner, units.qas, strict=True)):
            kept, spans, comp = choice.kept[q], choice.spans(units, q), comps[q]
            answers = _remap_all(comp, spans, qa.answers)
            plausible = _remap_all(comp, spans, qa.plausible_answers)
            answerable = not qa.is_impossible and bool(qa.answers)
            lost = answerable and not answers
            lengths = base.lengths[p]
            kept_tokens = int(cut_tokens[q]) if q in cut_tokens else int(lengths[kept].sum())
            stats.add_output(lost=lost, policy=self.lost, kept_tokens=kept_tokens,
                             total_tokens=int(lengths.sum()), kept_sentences=len(kept),
                             total_sentences=len(units.spans[p]))
            if lost and self.lost == "drop":
                continue
            new_qa = QA(qa.id, qa.question, answers, qa.is_impossible or lost, plausible)
            if not articles or articles[-1].title != units.titles[p]:
                articles.append(Article(units.titles[p], []))
            articles[-1].paragraphs.append(Paragraph(comp.context, [new_qa]))
        return articles


class QARules(Rules):
    """QA's additions to the selection step: under ``keep-gold`` (a training split) the answer's
    units are put back after the level's rule and never dropped to fit a budget, and a cut keeps
    the answer inside; the level's statistics are counted on the way."""

    def __init__(self, units: SquadUnits, lost: str, stats: LevelStats) -> None:
        self.units, self.lost, self.stats = units, lost, stats

    def _gold(self, q: int) -> list[tuple[int, ...]]:
        return gold_units(self.units.spans[self.units.owner[q]], self.units.qas[q])

    def after_level(self, q: int, kept: list[int], order: np.ndarray, lengths: np.ndarray,
                    room: int | None) -> list[int]:
        """Count the selection; under keep-gold put a dropped answer's units back."""
        qa, gold = self.units.qas[q], self._gold(q)
        retained = _answer_kept(kept, gold)
        if self.lost == "keep-gold" and gold and not retained:
            kept = add_gold(kept, sorted({i for g in gold for i in g}), order, lengths, room)
        self.stats.add_selection(answerable=bool(gold) and not qa.is_impossible,
                                 retained=retained, over_budget=room is not None and room < 0)
        return kept

    def protected(self, q: int) -> set[int]:
        if self.lost != "keep-gold":
            return set()
        return {i for g in self._gold(q) for i in g}

    def cut_target(self, q: int, kept: list[int], order: np.ndarray) -> tuple[int, Span | None]:
        """The best kept unit, or under keep-gold the unit of the first answer, with that answer
        kept inside the cut."""
        qa = self.units.qas[q]
        answer = qa.answers[0] if qa.answers and not qa.is_impossible else None
        if self.lost == "keep-gold" and answer is not None:
            spans = self.units.spans[self.units.owner[q]]
            found = span_of(spans, answer.answer_start, answer.end)
            if found is not None and found[0] == found[1]:
                return found[0], (answer.answer_start, answer.end)
            return kept[0], None
        if len(kept) > 1:  # several protected units over budget: keep the best one
            return super().cut_target(q, kept, order)
        return kept[0], None

    def count_cut(self, q: int, unit: int, cut: Span) -> None:
        """A cut that lost an answer the whole unit held counts as lost by the cut."""
        qa, spans = self.units.qas[q], self.units.spans[self.units.owner[q]]
        held = [a for a in qa.answers if spans[unit][0] <= a.answer_start < spans[unit][1]]
        lost = bool(held) and not any(cut[0] <= a.answer_start and a.end <= cut[1] for a in held)
        whole = any(set(g) <= {unit} for g in self._gold(q))
        self.stats.add_cut(lost_answer=lost and whole and not qa.is_impossible)


def _remap_all(comp: Joined, spans: Sequence[Span], answers: Sequence[Answer]) -> list[Answer]:
    out = []
    for a in answers:
        start = comp.remap(spans, a.answer_start, a.end)
        if start is not None:
            out.append(Answer(a.text, start))
    return out


def _answer_kept(kept: Sequence[int], gold: Sequence[tuple[int, ...]]) -> bool:
    chosen = set(kept)
    return any(set(g) <= chosen for g in gold)


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{what} {value!r}: choose from {', '.join(allowed)}")
    return value


def _levels(levels: str | Sequence[str] | Sequence[Level]) -> list[Level]:
    if isinstance(levels, str):
        return parse_levels(levels)
    items = list(levels)
    if items and all(isinstance(x, Level) for x in items):
        return items  # type: ignore[return-value]
    return parse_levels([str(x) for x in items])
