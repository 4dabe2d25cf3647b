"""QA extraction: segment → score → fuse → select at each level → remap answers.

:class:`Extractor` is the Python API behind ``ids-extract extract``. It works on a whole
:class:`~ids_extract.squad.model.SquadDataset` and returns, per level, the compressed dataset, the
kept sentence indices of every question and the statistics; :mod:`.engine` streams it over large
files and puts the results on disk. The work itself is the task-agnostic core's
(:mod:`ids_extract.select`); what is QA here is where the units come from (paragraphs, with answers
guiding segmentation on a training split), the lost-answer policy, and moving answer offsets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import ConfigError
from ..models.hub import load_tokenizer
from ..progress import track
from ..scorers import Scorer, build_scorer
from ..select import budget
from ..select.compress import Compressed, compress
from ..select.fusion import Fusion, WeightedFusion, parse_weights
from ..select.learned import LearnedFusion
from ..select.levels import Level, add_gold, parse_levels, select
from ..select.segment import Span, check_segmenter
from ..select.stats import LevelStats, RankingStats
from ..squad.model import QA, Answer, Article, Paragraph, SquadDataset
from ..squad.units import SPLITS, SquadUnits, answer_units, gold_units, segment
from .scoring import Scored, score_units

Split = Literal["train", "eval"]
LostPolicy = Literal["keep-gold", "drop", "unanswerable"]
LOST_POLICIES: tuple[str, ...] = ("keep-gold", "drop", "unanswerable")
FUSIONS: tuple[str, ...] = ("weighted", "learned")
DEFAULT_LEVELS = "ratio:0.5,tokens:128,tokens:64"
DEFAULT_SCORERS = ("bm25", "sbert")


@dataclass
class LevelResult:
    """One level: the compressed dataset, ``kept[q]`` the kept unit indices of item ``q`` of the
    units (in original order; also for a question the ``drop`` policy left out), and the
    statistics."""

    level: Level
    dataset: SquadDataset
    stats: LevelStats
    kept: list[list[int]] = field(default_factory=list)


@dataclass
class ExtractionResult:
    levels: list[LevelResult]
    ranking: RankingStats
    config: dict[str, Any] = field(default_factory=dict)


class Extractor:
    """Keep the sentences of each context that matter for its question, at several levels.

    >>> ex = Extractor(scorers=["bm25", "sbert"], levels="ratio:0.5,tokens:128", split="eval")
    >>> result = ex.run(ids_extract.load("dev-v1.1.json"))   # doctest: +SKIP

    ``split="train"`` allows gold answers to be used (answer-crossing sentences are merged, and
    ``lost="keep-gold"`` puts a dropped answer sentence back); ``split="eval"`` never looks at
    gold answers while selecting: they are only remapped, and counted for the statistics.
    """

    def __init__(
        self,
        scorers: Sequence[str | Scorer] = DEFAULT_SCORERS,
        levels: str | Sequence[str] | Sequence[Level] = DEFAULT_LEVELS,
        *,
        split: Split = "eval",
        lost: LostPolicy | None = None,
        weights: Mapping[str, float] | str | None = None,
        segmenter: str = "pysbd",
        stats_tokenizer: str | None = None,
        scorer_options: Mapping[str, Mapping[str, Any]] | None = None,
        chunk_size: int = 4096,
        quiet: bool = False,
        fusion: str = "weighted",
        fusion_model: Any = None,
    ) -> None:
        self.split: Split = _choice(split, SPLITS, "split")  # type: ignore[assignment]
        self.lost: LostPolicy = _choice(  # type: ignore[assignment]
            lost or ("keep-gold" if split == "train" else "unanswerable"), LOST_POLICIES,
            "lost-answer policy")
        if self.lost == "keep-gold" and split != "train":
            raise ConfigError("keep-gold uses gold answers: only allowed with split='train'")
        self.segmenter = check_segmenter(segmenter)
        self.levels = _levels(levels)
        options = scorer_options or {}
        self.scorers = [s if isinstance(s, Scorer) else build_scorer(s, **options.get(s, {}))
                        for s in scorers]
        if not self.scorers:
            raise ConfigError("no scorers given")
        self.fuser = _fusion(fusion, fusion_model, weights, [s.name for s in self.scorers])
        self.stats_tokenizer = stats_tokenizer
        self.chunk_size = chunk_size
        self.quiet = quiet

    @classmethod
    def from_pretrained(cls, where: str | Path, levels: str | Sequence[str] = DEFAULT_LEVELS, *,
                        device: str | None = None, **options: Any) -> Extractor:
        """The extractor of a ``train-extractor`` folder (or of an ``extractor.json``): its
        scorers, models (checked by content hash), fusion and segmenter; ``options`` are the
        other constructor arguments (``split``, ``lost``, ``quiet``, …).

        >>> ex = Extractor.from_pretrained("models/extractor", "tokens:128")  # doctest: +SKIP
        """
        from .pretrained import load_spec

        spec = load_spec(where)
        learned = spec.fusion_model()
        return cls(spec.scorer_names(), levels, segmenter=spec.segmenter,
                   scorer_options=spec.scorer_options(device),
                   fusion="learned" if learned is not None else "weighted",
                   fusion_model=learned, weights=spec.fusion.get("weights"), **options)

    # ------------------------------------------------------------------ configuration

    def config(self) -> dict[str, Any]:
        """Everything that determines the output (manifest and cache key)."""
        return {
            "split": self.split,
            "lost": self.lost,
            "segmenter": self.segmenter,
            "scorers": [s.config() for s in self.scorers],
            "fusion": self.fuser.config(),
            "levels": [str(lv) for lv in self.levels],
            "stats_tokenizer": self.stats_tokenizer or "default",
        }

    def scoring_config(self) -> dict[str, Any]:
        """The part of the config the scores depend on (key of the score cache)."""
        cfg = self.config()
        return {k: cfg[k] for k in ("split", "segmenter", "scorers", "fusion")}

    # ------------------------------------------------------------------ pipeline stages

    def segment(self, dataset: SquadDataset,
                spans_given: Sequence[list[Span]] | None = None) -> SquadUnits:
        """Units of every paragraph (see :func:`ids_extract.squad.units.segment`)."""
        return segment(dataset, self.split, self.segmenter, spans_given=spans_given,
                       quiet=self.quiet)

    def score(self, units: SquadUnits) -> Scored:
        """Every scorer over the questions in batches of whole paragraphs, then fused."""
        return score_units(units, self.scorers, self.fuser, chunk_size=self.chunk_size,
                           quiet=self.quiet)

    def select_all(self, dataset: SquadDataset, units: SquadUnits, scored: Scored,
                   only: Sequence[str] | None = None) -> ExtractionResult:
        """Apply every level (or those named in ``only``, e.g. ``"D2-tokens128"``); returns the
        datasets, kept indices and statistics."""
        orders = scored.rankings([s.name for s in self.scorers])
        ranking = RankingStats.measure(answer_units(units), {**scored.per_scorer, "fused": orders})
        stats_tok = load_tokenizer(self.stats_tokenizer)
        base_lengths = budget.unit_lengths(units.texts, units.spans, stats_tok)
        results = []
        for n, level in enumerate(self.levels, 1):
            if only is not None and f"D{n}-{level.name}" not in only:
                continue
            results.append(self._apply_level(dataset, units, orders, scored.fused, level,
                                             base_lengths, stats_tok, f"D{n}"))
        return ExtractionResult(results, ranking, self.config())

    def run(self, dataset: SquadDataset) -> ExtractionResult:
        units = self.segment(dataset)
        return self.select_all(dataset, units, self.score(units))

    # ------------------------------------------------------------------ one level

    def _apply_level(self, dataset: SquadDataset, units: SquadUnits, orders: list[np.ndarray],
                     fused: list[np.ndarray], level: Level, base_lengths: list[np.ndarray],
                     stats_tok: Any, tag: str) -> LevelResult:
        lengths, rooms, tokenizer = base_lengths, None, stats_tok
        if level.kind == "tokens":
            tokenizer = load_tokenizer(level.tokenizer) if level.tokenizer else stats_tok
            if tokenizer is not stats_tok:
                lengths = budget.unit_lengths(units.texts, units.spans, tokenizer)
            rooms = budget.rooms(int(level.value), units.queries, tokenizer)
        stats = LevelStats(name=f"{tag}-{level.name}", level=str(level))
        kept_by_q: list[list[int]] = []
        for q in track(range(len(units)), f"{tag} {level}", len(units), self.quiet):
            p, qa = units.owner[q], units.qas[q]
            room = rooms[q] if rooms is not None else None
            kept = select(level, fused[q], orders[q], lengths[p], room)
            gold = gold_units(units.spans[p], qa)
            retained = _answer_kept(kept, gold)
            if self.lost == "keep-gold" and gold and not retained:
                kept = add_gold(kept, sorted({i for g in gold for i in g}), orders[q], lengths[p],
                                room)
            stats.add_selection(answerable=bool(gold) and not qa.is_impossible, retained=retained,
                                over_budget=room is not None and room < 0)
            kept_by_q.append(kept)
        if rooms is not None:
            kept_by_q = budget.enforce(kept_by_q, orders, rooms, units_text(units), tokenizer,
                                       self._protected(units))
        articles = self._assemble(units, kept_by_q, base_lengths, stats)
        stats.finish()
        return LevelResult(level, SquadDataset(dataset.version, articles, source=dataset.source),
                           stats, kept_by_q)

    def _protected(self, units: SquadUnits) -> Any:
        """Under keep-gold, the answer's units are never dropped to fit a budget."""
        def protected(q: int) -> set[int]:
            if self.lost != "keep-gold":
                return set()
            return {i for g in gold_units(units.spans[units.owner[q]], units.qas[q]) for i in g}
        return protected

    def _assemble(self, units: SquadUnits, kept_by_q: list[list[int]],
                  lengths: list[np.ndarray], stats: LevelStats) -> list[Article]:
        """One paragraph per question (each question now has its own context), articles kept."""
        articles: list[Article] = []
        for q, (p, qa) in enumerate(zip(units.owner, units.qas, strict=True)):
            kept = kept_by_q[q]
            comp = compress(units.texts[p], units.spans[p], kept)
            answers = _remap_all(comp, units.spans[p], qa.answers)
            plausible = _remap_all(comp, units.spans[p], qa.plausible_answers)
            answerable = not qa.is_impossible and bool(qa.answers)
            lost = answerable and not answers
            stats.add_output(lost=lost, policy=self.lost, kept_tokens=int(lengths[p][kept].sum()),
                             total_tokens=int(lengths[p].sum()), kept_sentences=len(kept),
                             total_sentences=len(units.spans[p]))
            if lost and self.lost == "drop":
                continue
            new_qa = QA(qa.id, qa.question, answers, qa.is_impossible or lost, plausible)
            if not articles or articles[-1].title != units.titles[p]:
                articles.append(Article(units.titles[p], []))
            articles[-1].paragraphs.append(Paragraph(comp.context, [new_qa]))
        return articles


def units_text(units: SquadUnits) -> Any:
    """``joined(q, kept)``: the text item ``q``'s kept units make (for budget checks)."""
    def joined(q: int, kept: list[int]) -> str:
        p = units.owner[q]
        return compress(units.texts[p], units.spans[p], kept).context
    return joined


def _remap_all(comp: Compressed, spans: Sequence[Span], answers: Sequence[Answer]) -> list[Answer]:
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


def _fusion(method: str, model: Any, weights: Mapping[str, float] | str | None,
            names: Sequence[str]) -> Fusion:
    """``weighted`` (z-scores and weights) or ``learned`` (a :class:`LearnedFusion`, a path or a
    name); the learned model must have been fitted on scorers that are all given."""
    _choice(method, FUSIONS, "fusion")
    if method == "weighted":
        if model is not None:
            raise ConfigError("a fusion model is only used with fusion='learned'")
        given = (parse_weights(weights, names) if isinstance(weights, str) or weights is None
                 else {n: float(weights.get(n, 1.0)) for n in names})
        return WeightedFusion(names, given)
    if model is None:
        raise ConfigError("fusion='learned' needs a fusion model (--fusion-model PATH or NAME, "
                          "from 'ids-extract fit-fusion')")
    learned = model if isinstance(model, LearnedFusion) else LearnedFusion.load(model)
    missing = [n for n in learned.scorers if n not in names]
    if missing:
        raise ConfigError(f"the learned fusion was fitted on scorers {learned.scorers}: add "
                          f"{missing} to the scorers")
    return learned


def _levels(levels: str | Sequence[str] | Sequence[Level]) -> list[Level]:
    if isinstance(levels, str):
        return parse_levels(levels)
    items = list(levels)
    if items and all(isinstance(x, Level) for x in items):
        return items  # type: ignore[return-value]
    return parse_levels([str(x) for x in items])
