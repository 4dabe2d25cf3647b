"""Statistics of a level (retention, compression, losses) and of a ranking (top-k recall)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .fusion import ranking

TOP_K = (1, 2, 3)


@dataclass
class LevelStats:
    """Counters filled while a level is applied; :meth:`finish` turns them into a summary."""

    name: str
    level: str
    questions: int = 0
    answerable: int = 0
    retained: int = 0
    over_budget: int = 0
    lost: int = 0
    dropped: int = 0
    made_unanswerable: int = 0
    cut: int = 0
    lost_by_cut: int = 0
    ratios: list[float] = field(default_factory=list)
    kept_tokens: list[int] = field(default_factory=list)
    kept_sentences: list[int] = field(default_factory=list)
    total_sentences: list[int] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def add_selection(self, *, answerable: bool, retained: bool, over_budget: bool) -> None:
        """Selection outcome before any lost-answer policy."""
        self.questions += 1
        self.answerable += answerable
        self.retained += answerable and retained
        self.over_budget += over_budget

    def add_cut(self, *, lost_answer: bool) -> None:
        """One example whose best unit alone was over the token budget and was cut; whether
        the answer it held was cut away."""
        self.cut += 1
        self.lost_by_cut += lost_answer
        self.retained -= lost_answer  # retention counts what the output holds

    def add_output(self, *, lost: bool, policy: str, kept_tokens: int, total_tokens: int,
                   kept_sentences: int, total_sentences: int) -> None:
        """What went into the output dataset, after the policy."""
        self.lost += lost
        self.dropped += lost and policy == "drop"
        self.made_unanswerable += lost and policy == "unanswerable"
        self.ratios.append(kept_tokens / max(total_tokens, 1))
        self.kept_tokens.append(kept_tokens)
        self.kept_sentences.append(kept_sentences)
        self.total_sentences.append(total_sentences)

    def merge(self, other: LevelStats) -> None:
        """Add another shard's counts (streaming runs measure shard by shard)."""
        for name in ("questions", "answerable", "retained", "over_budget", "lost", "dropped",
                     "made_unanswerable", "cut", "lost_by_cut"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("ratios", "kept_tokens", "kept_sentences", "total_sentences"):
            getattr(self, name).extend(getattr(other, name))

    def finish(self) -> dict[str, Any]:
        """The summary the manifest and the table show (means and percentiles of what was
        counted)."""
        ratios = np.array(self.ratios or [0.0])
        kept = np.array(self.kept_tokens or [0])
        self.summary = {
            "name": self.name,
            "level": self.level,
            "questions": self.questions,
            "answerable": self.answerable,
            "retention_pct": _pct(self.retained, self.answerable),
            "retained": self.retained,
            "lost_after_policy": self.lost,
            "dropped": self.dropped,
            "made_unanswerable": self.made_unanswerable,
            "question_over_budget": self.over_budget,
            "cut": self.cut,
            "lost_by_cut": self.lost_by_cut,
            "compression": {
                "mean": round(float(ratios.mean()), 4),
                **{f"p{q}": round(float(np.percentile(ratios, q)), 4) for q in (10, 50, 90)},
            },
            "kept_tokens": {
                "mean": round(float(kept.mean()), 2),
                **{f"p{q}": float(np.percentile(kept, q)) for q in (50, 90, 99)},
                "max": int(kept.max()),
            },
            "kept_sentences_mean": round(float(np.mean(self.kept_sentences or [0])), 3),
            "sentences_mean": round(float(np.mean(self.total_sentences or [0])), 3),
        }
        return self.summary


@dataclass
class RankingStats:
    """Top-k sentence recall per scorer: the answer's start lies in one of the k best sentences
    (the reference pipeline's definition)."""

    answerable: int
    hits: dict[str, dict[int, int]]

    @property
    def recall_pct(self) -> dict[str, dict[str, float]]:
        return {name: {f"top{k}": _pct(h[k], self.answerable) for k in TOP_K}
                for name, h in self.hits.items()}

    def merge(self, other: RankingStats) -> None:
        self.answerable += other.answerable
        for name, h in other.hits.items():
            mine = self.hits.setdefault(name, dict.fromkeys(TOP_K, 0))
            for k in TOP_K:
                mine[k] += h[k]

    @classmethod
    def measure(cls, gold: Sequence[set[int]],
                scores: Mapping[str, Sequence[np.ndarray]]) -> RankingStats:
        """``gold[q]``: the units holding an answer start of item ``q`` (empty: the item is not
        counted); ``scores[name][q]``: a score per unit (ranked by :func:`.fusion.ranking`), or
        (name ``fused``) the ranking itself."""
        return cls.of_rankings(gold, {
            name: per_q if name == "fused" else [ranking(np.asarray(s)) for s in per_q]
            for name, per_q in scores.items()})

    @classmethod
    def of_rankings(cls, gold: Sequence[set[int]],
                    rankings: Mapping[str, Sequence[np.ndarray]]) -> RankingStats:
        """:meth:`measure` of rankings (``rankings[name][q]``: item ``q``'s units best first,
        e.g. :meth:`ids_extract.pipeline.scoring.Scored.rankings`)."""
        hits = {name: dict.fromkeys(TOP_K, 0) for name in rankings}
        n = 0
        for q, units in enumerate(gold):
            if not units:
                continue
            n += 1
            for name, orders in rankings.items():
                for k in TOP_K:
                    hits[name][k] += bool(units & set(orders[q][:k].tolist()))
        return cls(n, hits)

    def to_dict(self) -> dict[str, Any]:
        return {"answerable": self.answerable, "top_k_recall_pct": self.recall_pct}


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0
