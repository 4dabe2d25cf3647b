"""QA extraction: segment → score → fuse → select at each level → remap answers.

:class:`Extractor` is the Python API behind ``ids-extract extract``. It works on a whole
:class:`~ids_extract.squad.model.SquadDataset` and returns, per level, the compressed dataset, the
kept sentence indices of every question and the statistics; :mod:`.engine` streams it over large
files and puts the results on disk. The work itself is the task-agnostic core's
(:mod:`ids_extract.select`); what is QA here is where the units come from (paragraphs, with answers
guiding segmentation on a training split), the lost-answer policy, and moving answer offsets.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import ConfigError
from ..models.hub import load_tokenizer
from ..progress import Meter, stage
from ..scorers import Scorer, build_scorer
from ..select import budget
from ..select.budget import count_tokens
from ..select.cascade import Cascade
from ..select.fusion import Fusion, WeightedFusion, parse_weights
from ..select.join import Joined, with_cut
from ..select.learned import LearnedFusion
from ..select.levels import Level, add_gold, parse_levels
from ..select.segment import Span, check_segmenter, span_of
from ..select.stats import LevelStats, RankingStats
from ..select.step import Budget, Choice, Rules, choose
from ..squad.model import QA, Answer, Article, Paragraph, SquadDataset
from ..squad.units import SPLITS, SquadUnits, answer_units, gold_units, squad_units
from ..squad.write import output_version
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
        cascade: Cascade | int | None = None,
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
        names = [s.name for s in self.scorers]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ConfigError(f"scorer {', '.join(twice)} given twice: each scorer once")
        self.fuser = _fusion(fusion, fusion_model, weights, [s.name for s in self.scorers])
        # an int k: every scorer that is not cheap reads only the top k of the cheap ones
        self.cascade = (Cascade.over(cascade, names, [s.cheap for s in self.scorers])
                        if isinstance(cascade, int) else
                        cascade.check(names) if cascade is not None else None)
        self.stats_tokenizer = stats_tokenizer
        self.tokenizers = _tokenizers(self.levels, stats_tokenizer)  # resolved before any work
        self.chunk_size = chunk_size
        self.quiet = quiet

    @classmethod
    def from_pretrained(cls, where: str | Path, levels: str | Sequence[str] = DEFAULT_LEVELS, *,
                        device: str | None = None, profile: str | None = None,
                        **options: Any) -> Extractor:
        """The extractor of a ``train-extractor`` folder (or of an ``extractor.json``): its
        scorers, models (checked by content hash), fusion and segmenter, or those of one of its
        ``profile``s (``fast``, ``best``); ``options`` are the other constructor arguments
        (``split``, ``lost``, ``quiet``, …).

        >>> ex = Extractor.from_pretrained("models/extractor", "tokens:128")  # doctest: +SKIP
        """
        from .pretrained import load_spec

        spec = load_spec(where).profile(profile)
        learned = spec.fusion_model()
        return cls(spec.scorer_names(), levels, segmenter=spec.segmenter,
                   scorer_options=spec.scorer_options(device),
                   fusion="learned" if learned is not None else "weighted",
                   fusion_model=learned, weights=spec.fusion.get("weights"),
                   cascade=Cascade.from_config(spec.cascade), **options)

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
            **({"cascade": self.cascade.config()} if self.cascade else {}),
        }

    def scoring_config(self) -> dict[str, Any]:
        """The part of the config the scores depend on (key of the score cache)."""
        cfg = self.config()
        return {k: cfg[k] for k in ("split", "segmenter", "scorers", "fusion", "cascade")
                if k in cfg}

    # ------------------------------------------------------------------ pipeline stages

    def to_units(self, dataset: SquadDataset,
                 spans_given: Sequence[list[Span]] | None = None) -> SquadUnits:
        """Units of every paragraph (see :func:`ids_extract.squad.units.squad_units`)."""
        return squad_units(dataset, self.split, self.segmenter, spans_given=spans_given,
                           quiet=self.quiet)

    def segment(self, dataset: SquadDataset,
                spans_given: Sequence[list[Span]] | None = None) -> SquadUnits:
        """Deprecated name of :meth:`to_units` (``segment`` is the sentence splitter's module)."""
        warnings.warn("Extractor.segment is deprecated: use Extractor.to_units",
                      DeprecationWarning, stacklevel=2)
        return self.to_units(dataset, spans_given)

    def score(self, units: SquadUnits, meter: Meter | None = None) -> Scored:
        """Every scorer over the questions in batches of whole paragraphs, then fused (progress
        on ``meter`` when the caller has one)."""
        return score_units(units, self.scorers, self.fuser, chunk_size=self.chunk_size,
                           quiet=self.quiet, meter=meter, cascade=self.cascade)

    def select_all(self, dataset: SquadDataset, units: SquadUnits, scored: Scored,
                   only: Sequence[str] | None = None) -> ExtractionResult:
        """Apply every level (or those named in ``only``, e.g. ``"D2-tokens128"``); returns the
        datasets, kept indices and statistics."""
        with stage("rank"):
            orders = scored.rankings([s.name for s in self.scorers])
            ranking = RankingStats.measure(answer_units(units),
                                           {**scored.per_scorer, "fused": orders})
        with stage("count tokens"):
            base = Budget.counted(units, load_tokenizer(self.stats_tokenizer))
        results = []
        for n, level in enumerate(self.levels, 1):
            if only is not None and f"D{n}-{level.name}" not in only:
                continue
            with stage("select"):
                results.append(self._apply_level(dataset, units, orders, scored.fused, level,
                                                 base, f"D{n}"))
        return ExtractionResult(results, ranking, self.config())

    def run(self, dataset: SquadDataset) -> ExtractionResult:
        """Every level of a dataset held in memory (:func:`.engine.extract_to_dir` streams a
        file to disk instead)."""
        self.check_questions([(qa.id, qa.question) for _, _, qa in dataset.iter_qas()])
        units = self.to_units(dataset)
        return self.select_all(dataset, units, self.score(units))

    # ------------------------------------------------------------------ one level

    def check_questions(self, questions: Sequence[tuple[str, str]]) -> None:
        """Refuse, before any work, a ``tokens:L`` level that leaves a question (id, text) no
        room for context at all: the level could not be made for that model size."""
        for level in self.levels:
            if level.kind != "tokens":
                continue
            tokenizer = self.tokenizers[str(level)]
            room = budget.rooms(int(level.value), [q for _, q in questions], tokenizer)
            worst = int(np.argmin(room)) if room else 0
            if room and room[worst] < 1:
                qid, text = questions[worst]
                need = int(level.value) - room[worst] + 1
                raise ConfigError(f"level {level}: question id {qid} ({text[:60]!r}) with the "
                                  f"special tokens takes {need - 1} of the {int(level.value)} "
                                  f"tokens, leaving no room for its context; use tokens:{need} or "
                                  "more")

    def _apply_level(self, dataset: SquadDataset, units: SquadUnits, orders: list[np.ndarray],
                     fused: list[np.ndarray], level: Level, base: Budget,
                     tag: str) -> LevelResult:
        """One level: the selection step (:func:`~ids_extract.select.step.choose`) with QA's
        rules, then the answers remapped into the shortened contexts."""
        stats = LevelStats(name=f"{tag}-{level.name}", level=str(level))
        rules = QARules(units, self.lost, stats)
        budget = base.for_level(level, units, self.tokenizers.get(str(level)))
        choice = choose(units, level, fused, orders, budget, rules, progress=f"{tag} {level}",
                        quiet=self.quiet)
        for q, cut in enumerate(choice.cuts):
            if cut is not None:
                rules.count_cut(q, *cut)
        articles = self._assemble(units, choice, base, stats)
        stats.finish()
        version = output_version(dataset.version, dataset.is_v2 or self.lost == "unanswerable")
        return LevelResult(level, SquadDataset(version, articles, source=dataset.source),
                           stats, choice.kept, choice.cuts)

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


def _tokenizers(levels: Sequence[Level], stats_tokenizer: str | None) -> dict[str, Any]:
    """The tokenizer of every ``tokens:L@name`` level and of the statistics, loaded now: a
    name that cannot be loaded is a :class:`ConfigError` before any work, not after scoring."""
    names = {str(lv): lv.tokenizer or stats_tokenizer for lv in levels if lv.kind == "tokens"}
    loaded: dict[str | None, Any] = {}
    for name in {*names.values(), stats_tokenizer}:
        try:
            loaded[name] = load_tokenizer(name)
        except (OSError, ValueError) as err:
            what = f"tokenizer {name!r}" if name else "the default tokenizer"
            raise ConfigError(f"{what} cannot be loaded ({str(err).splitlines()[0]}); give a "
                              "tokenizer folder, or a hub name with internet") from None
    return {level: loaded[name] for level, name in names.items()}


def _levels(levels: str | Sequence[str] | Sequence[Level]) -> list[Level]:
    if isinstance(levels, str):
        return parse_levels(levels)
    items = list(levels)
    if items and all(isinstance(x, Level) for x in items):
        return items  # type: ignore[return-value]
    return parse_levels([str(x) for x in items])
