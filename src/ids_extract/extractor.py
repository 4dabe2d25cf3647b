"""The extraction pipeline: segment → score → fuse → select at each level → remap answers.

:class:`Extractor` is the Python API behind ``ids-extract extract``. It works on a whole
:class:`~ids_extract.data.SquadDataset` and returns one compressed dataset per level plus the
statistics; :mod:`ids_extract.writer` puts them on disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import fusion
from .data import QA, Answer, Article, Paragraph, SquadDataset
from .errors import ConfigError
from .fusion import parse_weights
from .levels import Compressed, Level, add_gold, compress, parse_levels, select
from .progress import track
from .scorers import Scorer, ScoringBatch, build_scorer
from .segment import Span, merge_spans, span_of, split_sentences
from .stats import LevelStats, RankingStats
from .tokens import count_tokens, load_tokenizer, pair_overhead

Split = Literal["train", "eval"]
LostPolicy = Literal["keep-gold", "drop", "unanswerable"]
LOST_POLICIES: tuple[str, ...] = ("keep-gold", "drop", "unanswerable")
DEFAULT_LEVELS = "ratio:0.5,tokens:128,tokens:64"
DEFAULT_SCORERS = ("bm25", "sbert")


@dataclass
class Segmented:
    """Per paragraph: its sentence spans; per question: (paragraph index, QA, article)."""

    contexts: list[str]
    spans: list[list[Span]]
    titles: list[str]
    questions: list[tuple[int, QA]]


@dataclass
class Scored:
    """Raw scores per scorer and the fused scores, one array per question."""

    per_scorer: dict[str, list[np.ndarray]]
    fused: list[np.ndarray]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat form for the on-disk cache (``np.savez``)."""
        lengths = np.array([len(f) for f in self.fused], dtype=np.int64)
        arrays = {"lengths": lengths, "fused": _flat(self.fused)}
        arrays.update({f"scorer:{k}": _flat(v) for k, v in self.per_scorer.items()})
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Scored:
        bounds = np.cumsum(np.concatenate([[0], arrays["lengths"]]))

        def split(flat: np.ndarray) -> list[np.ndarray]:
            return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

        per_scorer = {k.split(":", 1)[1]: split(v) for k, v in arrays.items()
                      if k.startswith("scorer:")}
        return cls(per_scorer, split(arrays["fused"]))


def _flat(parts: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)


@dataclass
class LevelResult:
    level: Level
    dataset: SquadDataset
    stats: LevelStats


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
        if split not in ("train", "eval"):
            raise ConfigError(f"split must be 'train' or 'eval', not {split!r}")
        self.split = split
        self.lost: LostPolicy = lost or ("keep-gold" if split == "train" else "unanswerable")
        if self.lost not in LOST_POLICIES:
            raise ConfigError(f"lost-answer policy {self.lost!r}: choose from {LOST_POLICIES}")
        if self.lost == "keep-gold" and split != "train":
            raise ConfigError("keep-gold uses gold answers: only allowed with split='train'")
        self.levels = _levels(levels)
        options = scorer_options or {}
        self.scorers = [s if isinstance(s, Scorer) else build_scorer(s, **options.get(s, {}))
                        for s in scorers]
        if not self.scorers:
            raise ConfigError("no scorers given")
        names = [s.name for s in self.scorers]
        self.weights = (parse_weights(weights, names) if isinstance(weights, str) or
                        weights is None else {n: float(weights.get(n, 1.0)) for n in names})
        self.fusion, self.learned = _fusion(fusion, fusion_model, names)
        self.segmenter = segmenter
        self.stats_tokenizer = stats_tokenizer
        self.chunk_size = chunk_size
        self.quiet = quiet

    # ------------------------------------------------------------------ configuration

    def config(self) -> dict[str, Any]:
        """Everything that determines the output (manifest and cache key)."""
        return {
            "split": self.split,
            "lost": self.lost,
            "segmenter": self.segmenter,
            "scorers": [s.config() for s in self.scorers],
            "fusion": (self.learned.config() if self.learned is not None
                       else {"method": "weighted", "weights": self.weights}),
            "levels": [str(lv) for lv in self.levels],
            "stats_tokenizer": self.stats_tokenizer or "default",
        }

    def scoring_config(self) -> dict[str, Any]:
        """The part of the config the scores depend on (key of the score cache)."""
        cfg = self.config()
        return {k: cfg[k] for k in ("split", "segmenter", "scorers", "fusion")}

    # ------------------------------------------------------------------ pipeline stages

    def segment(self, dataset: SquadDataset,
                spans_given: Sequence[list[Span]] | None = None) -> Segmented:
        """Split every paragraph once; on a training split, merge sentences an answer crosses.

        ``spans_given`` (one list per paragraph, as a previous call returned them) skips the
        segmenter: a resumed run rebuilds its units from the cache."""
        seg = Segmented([], [], [], [])
        cache: dict[str, list[Span]] = {}
        paragraphs = [(a, p) for a in dataset.articles for p in a.paragraphs]
        for n, (article, paragraph) in enumerate(
                track(paragraphs, "segmenting", len(paragraphs), self.quiet)):
            spans = (list(spans_given[n]) if spans_given is not None
                     else self._units(paragraph, cache))
            index = len(seg.contexts)
            seg.contexts.append(paragraph.context)
            seg.spans.append(spans)
            seg.titles.append(article.title)
            seg.questions.extend((index, qa) for qa in paragraph.qas)
        return seg

    def _units(self, paragraph: Paragraph, cache: dict[str, list[Span]]) -> list[Span]:
        if paragraph.context not in cache:
            cache[paragraph.context] = split_sentences(paragraph.context, self.segmenter)
        spans = cache[paragraph.context]
        if self.split == "train":
            cuts = [(a.answer_start, a.end) for qa in paragraph.qas
                    for a in qa.answers + qa.plausible_answers]
            spans = merge_spans(spans, cuts)
        return spans

    def score(self, seg: Segmented) -> Scored:
        """Run every scorer over the questions in chunks of contexts, then fuse."""
        per_scorer: dict[str, list[np.ndarray]] = {s.name: [] for s in self.scorers}
        chunks = list(self._chunks(seg))
        for batch in track(chunks, "scoring", len(chunks), self.quiet):
            for scorer in self.scorers:
                per_scorer[scorer.name].extend(scorer.score(batch))
        fused = [self.fuse({n: v[q] for n, v in per_scorer.items()})
                 for q in range(len(seg.questions))]
        return Scored(per_scorer, fused)

    def fuse(self, per_scorer: Mapping[str, np.ndarray]) -> np.ndarray:
        """One question's fused sentence scores (``weighted`` or ``learned``)."""
        if self.learned is not None:
            return self.learned.score(per_scorer)
        return fusion.weighted(per_scorer, self.weights)

    def _chunks(self, seg: Segmented) -> Any:
        """Batches of whole paragraphs holding about ``chunk_size`` sentences + questions."""
        owners = [p for p, _ in seg.questions]
        q = 0
        while q < len(owners):
            first = owners[q]
            end, size = q, 0
            while end < len(owners) and (size < self.chunk_size or owners[end] == owners[end - 1]):
                if end == q or owners[end] != owners[end - 1]:
                    size += len(seg.spans[owners[end]])
                size += 1
                end += 1
            last = owners[end - 1]
            contexts = [[seg.contexts[p][s:e] for s, e in seg.spans[p]]
                        for p in range(first, last + 1)]
            yield ScoringBatch(contexts, [qa.question for _, qa in seg.questions[q:end]],
                               [o - first for o in owners[q:end]])
            q = end

    def select_all(self, dataset: SquadDataset, seg: Segmented, scored: Scored,
                   only: Sequence[str] | None = None) -> ExtractionResult:
        """Apply every level (or those named in ``only``, e.g. ``"D2-tokens128"``); returns the
        datasets and their statistics."""
        names = [s.name for s in self.scorers]
        orders = [fusion.ranking(f, *(fusion.zscore(scored.per_scorer[n][q]) for n in names))
                  for q, f in enumerate(scored.fused)]
        ranking = RankingStats.measure(seg, {**scored.per_scorer, "fused": orders})
        stats_tok = load_tokenizer(self.stats_tokenizer)
        base_lengths = self._sentence_lengths(seg, stats_tok)
        results = []
        for n, level in enumerate(self.levels, 1):
            if only is not None and f"D{n}-{level.name}" not in only:
                continue
            results.append(self._apply_level(dataset, seg, orders, scored.fused, level,
                                             base_lengths, stats_tok, f"D{n}"))
        return ExtractionResult(results, ranking, self.config())

    def run(self, dataset: SquadDataset) -> ExtractionResult:
        seg = self.segment(dataset)
        return self.select_all(dataset, seg, self.score(seg))

    # ------------------------------------------------------------------ one level

    def _sentence_lengths(self, seg: Segmented, tokenizer: Any) -> list[np.ndarray]:
        texts = [seg.contexts[p][s:e] for p in range(len(seg.contexts)) for s, e in seg.spans[p]]
        flat = count_tokens(texts, tokenizer)
        bounds = np.cumsum([0] + [len(s) for s in seg.spans])
        return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def _apply_level(self, dataset: SquadDataset, seg: Segmented, orders: list[np.ndarray],
                     fused: list[np.ndarray], level: Level, base_lengths: list[np.ndarray],
                     stats_tok: Any, tag: str) -> LevelResult:
        lengths = base_lengths
        budgets: list[int | None] = [None] * len(seg.questions)
        tokenizer = stats_tok
        if level.kind == "tokens":
            tokenizer = load_tokenizer(level.tokenizer) if level.tokenizer else stats_tok
            if tokenizer is not stats_tok:
                lengths = self._sentence_lengths(seg, tokenizer)
            q_len = count_tokens([qa.question for _, qa in seg.questions], tokenizer)
            room = int(level.value) - pair_overhead(tokenizer)
            budgets = [int(room - n) for n in q_len]
        stats = LevelStats(name=f"{tag}-{level.name}", level=str(level))
        kept_by_q: list[list[int]] = []
        for q, (p, qa) in enumerate(track(seg.questions, f"{tag} {level}", len(seg.questions),
                                          self.quiet)):
            kept = select(level, fused[q], orders[q], lengths[p], budgets[q])
            gold = self._gold_units(seg.spans[p], qa)
            retained = _answer_kept(kept, gold)
            if self.lost == "keep-gold" and gold and not retained:
                kept = add_gold(kept, sorted({i for g in gold for i in g}), orders[q], lengths[p],
                                budgets[q])
            budget = budgets[q]
            stats.add_selection(answerable=bool(gold) and not qa.is_impossible, retained=retained,
                                over_budget=budget is not None and budget < 0)
            kept_by_q.append(kept)
        if level.kind == "tokens":
            kept_by_q = self._enforce_budget(seg, orders, kept_by_q, budgets, tokenizer)
        articles = self._assemble(seg, kept_by_q, base_lengths, stats)
        out = SquadDataset(dataset.version, articles, source=dataset.source)
        stats.finish()
        return LevelResult(level, out, stats)

    @staticmethod
    def _gold_units(spans: Sequence[Span], qa: QA) -> list[tuple[int, ...]]:
        """For each gold answer, the sentence indices it covers (used only for keep-gold and for
        statistics, never for selection on an evaluation split)."""
        units = []
        for a in qa.answers:
            found = span_of(spans, a.answer_start, a.end)
            if found is not None:
                units.append(tuple(range(found[0], found[1] + 1)))
        return units

    def _enforce_budget(self, seg: Segmented, orders: list[np.ndarray],
                        kept_by_q: list[list[int]], budgets: Sequence[int | None],
                        tokenizer: Any) -> list[list[int]]:
        """Sentence token counts add up to the joined text's count for BERT-style tokenizers, but
        not always for others: check the real joined text and drop the lowest-ranked sentences
        (never the gold ones under keep-gold) until it fits."""
        texts = [compress(seg.contexts[p], seg.spans[p], k).context
                 for (p, _), k in zip(seg.questions, kept_by_q, strict=True)]
        actual = count_tokens(texts, tokenizer)
        for q, budget in enumerate(budgets):
            if budget is None or int(actual[q]) <= budget or len(kept_by_q[q]) == 1:
                continue
            p, qa = seg.questions[q]
            protected = ({i for g in self._gold_units(seg.spans[p], qa) for i in g}
                         if self.lost == "keep-gold" else set())
            kept = list(kept_by_q[q])
            for i in orders[q][::-1]:
                if int(i) in kept and int(i) not in protected and len(kept) > 1:
                    kept.remove(int(i))
                    text = compress(seg.contexts[p], seg.spans[p], kept).context
                    if count_tokens([text], tokenizer)[0] <= budget:
                        break
            kept_by_q[q] = kept
        return kept_by_q

    def _assemble(self, seg: Segmented, kept_by_q: list[list[int]],
                  lengths: list[np.ndarray], stats: LevelStats) -> list[Article]:
        """One paragraph per question (each question now has its own context), articles kept."""
        articles: list[Article] = []
        for q, (p, qa) in enumerate(seg.questions):
            kept = kept_by_q[q]
            comp = compress(seg.contexts[p], seg.spans[p], kept)
            answers = _remap_all(comp, seg.spans[p], qa.answers)
            plausible = _remap_all(comp, seg.spans[p], qa.plausible_answers)
            answerable = not qa.is_impossible and bool(qa.answers)
            lost = answerable and not answers
            stats.add_output(lost=lost, policy=self.lost, kept_tokens=int(lengths[p][kept].sum()),
                             total_tokens=int(lengths[p].sum()), kept_sentences=len(kept),
                             total_sentences=len(seg.spans[p]))
            if lost and self.lost == "drop":
                continue
            new_qa = QA(qa.id, qa.question, answers, qa.is_impossible or lost, plausible)
            if not articles or articles[-1].title != seg.titles[p]:
                articles.append(Article(seg.titles[p], []))
            articles[-1].paragraphs.append(Paragraph(comp.context, [new_qa]))
        return articles


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


def _fusion(method: str, model: Any, names: Sequence[str]) -> tuple[str, Any]:
    """``weighted`` (no model) or ``learned`` (a :class:`LearnedFusion`, a path or a name)."""
    if method == "weighted":
        if model is not None:
            raise ConfigError("a fusion model is only used with fusion='learned'")
        return method, None
    if method != "learned":
        raise ConfigError(f"fusion {method!r}: choose weighted or learned")
    from .fusion_learned import LearnedFusion, load_fusion

    if model is None:
        raise ConfigError("fusion='learned' needs a fusion model (--fusion-model PATH or NAME, "
                          "from 'ids-extract fit-fusion')")
    learned = model if isinstance(model, LearnedFusion) else load_fusion(model)
    missing = [n for n in learned.scorers if n not in names]
    if missing:
        raise ConfigError(f"the learned fusion was fitted on scorers {learned.scorers}: add "
                          f"{missing} to the scorers")
    return method, learned


def _levels(levels: str | Sequence[str] | Sequence[Level]) -> list[Level]:
    if isinstance(levels, str):
        return parse_levels(levels)
    items = list(levels)
    if items and all(isinstance(x, Level) for x in items):
        return items  # type: ignore[return-value]
    return parse_levels([str(x) for x in items])
