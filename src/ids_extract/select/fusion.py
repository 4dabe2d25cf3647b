"""Fusion: several scorers' sentence scores for one question -> one score per sentence.

The paper sums raw scores (IDS = IG + DPR + SBERT); their scales differ by orders of magnitude, so
``weighted`` first standardises each scorer within the context (z-score), then takes a weighted sum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ..errors import ConfigError


class Fusion(Protocol):
    """Several scorers' sentence scores for one item -> one fused score per sentence."""

    scorers: list[str]

    def score(self, per_scorer: Mapping[str, np.ndarray]) -> np.ndarray: ...

    def config(self) -> dict[str, Any]: ...


def zscore(scores: np.ndarray) -> np.ndarray:
    """Standardise within one context; a constant vector (or one sentence) maps to zeros."""
    scores = np.asarray(scores, dtype=np.float64)
    std = scores.std()
    if scores.size < 2 or std < 1e-12:
        return np.zeros_like(scores)
    return (scores - scores.mean()) / std


def weighted(per_scorer: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Weighted sum of per-context z-scores."""
    total: np.ndarray | None = None
    for name, scores in per_scorer.items():
        part = weights.get(name, 1.0) * zscore(scores)
        total = part if total is None else total + part
    if total is None:
        raise ValueError("no scores to fuse")
    return total


class WeightedFusion:
    """The default: a weighted sum of per-context z-scores (equal weights unless given)."""

    def __init__(self, scorers: Sequence[str], weights: Mapping[str, float] | None = None) -> None:
        self.scorers = list(scorers)
        self.weights = {n: float((weights or {}).get(n, 1.0)) for n in self.scorers}
        for name, w in self.weights.items():
            if not math.isfinite(w) or w <= 0:
                raise ConfigError(f"weight of {name!r} is {w}: weights must be positive numbers "
                                  "(leave a scorer out of the scorers rather than weigh it 0)")

    def score(self, per_scorer: Mapping[str, np.ndarray]) -> np.ndarray:
        return weighted(per_scorer, self.weights)

    def config(self) -> dict[str, Any]:
        return {"method": "weighted", "weights": self.weights}


def ranking(scores: np.ndarray, *tiebreakers: np.ndarray) -> np.ndarray:
    """Sentence indices best first.

    Exact ties are common after z-scoring: in a two-sentence context every z-score is +1 or -1,
    so two scorers that disagree sum to 0 and 0. They are broken by ``tiebreakers`` in order
    (the scorers' own z-scores, in the order the scorers were given), then by position.
    """
    keys: list[np.ndarray] = [np.arange(len(scores), dtype=np.float64)]
    keys += [-np.round(np.asarray(t, dtype=np.float64), 9) for t in reversed(tiebreakers)]
    keys.append(-np.round(np.asarray(scores, dtype=np.float64), 9))
    return np.lexsort(keys)


def parse_weights(spec: str | None, names: Sequence[str]) -> dict[str, float]:
    """``"bm25=1,sbert=0.5"`` or ``"1,0.5"`` (in scorer order) -> weights; default all 1."""
    weights = dict.fromkeys(names, 1.0)
    if not spec:
        return weights
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    try:
        if all("=" in p for p in parts):
            for p in parts:
                key, value = p.split("=", 1)
                if key not in weights:
                    raise ConfigError(f"weight for unknown scorer {key!r} (scorers: {names})")
                weights[key] = float(value)
        elif len(parts) == len(names):
            weights = {n: float(v) for n, v in zip(names, parts, strict=True)}
        else:
            raise ConfigError(f"`weights` {spec!r}: give one weight per scorer {list(names)}")
    except ValueError:
        raise ConfigError(f"`weights` {spec!r}: weights must be numbers") from None
    return weights
