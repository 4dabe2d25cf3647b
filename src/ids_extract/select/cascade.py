"""The retrieve-then-rerank cascade: cheap signals rank every unit, and the expensive ones score
only the top ``k`` units of that cheap ranking per item (the cross-encoder of the trained
extractor, or sbert/dpr/reader behind bm25 and static embeddings on long inputs).

The units an expensive scorer did not read get a score below every unit it did read (the lowest
score it gave minus its spread, at least 1), the same for all of them. So for that signal the
candidates come first, and among the rest no order is invented: a fusion then orders them by the
cheap signals alone (they "keep their cheap rank"). Scores stay finite, so every fusion, cache and
statistic works on them unchanged; a learned fusion is fitted on scores made the same way.

``k`` costs recall: an answer unit outside the cheap top-``k`` cannot be lifted by the expensive
signal; the top-k recall of the cheap fusion at ``k`` is that ceiling (``bench/extractor.py``
reports it against ``k``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import defaults
from ..errors import ConfigError
from .fusion import ranking, weighted

DEFAULT_K = defaults.CASCADE_K


@dataclass(frozen=True)
class Cascade:
    """``expensive`` scorers read only the ``k`` best units of the equal-weight fusion of the
    other (cheap) scorers, per item."""

    k: int
    expensive: tuple[str, ...]

    def check(self, names: Sequence[str]) -> Cascade:
        """A :class:`ConfigError` for a ``k`` below 1, an expensive scorer that is not used, or
        no cheap scorer left to rank with."""
        if self.k < 1:
            raise ConfigError(f"cascade k {self.k}: give 1 or more units per item")
        missing = [n for n in self.expensive if n not in names]
        if missing:
            raise ConfigError(f"cascade: {', '.join(missing)} not among the scorers "
                              f"({', '.join(names)})")
        if not [n for n in names if n not in self.expensive]:
            raise ConfigError("cascade: every scorer is expensive; keep one cheap scorer to rank "
                              "the units first")
        return self

    def config(self) -> dict[str, object]:
        return {"k": self.k, "expensive": list(self.expensive)}

    @classmethod
    def over(cls, k: int | None, names: Sequence[str], cheap: Sequence[bool]) -> Cascade | None:
        """A cascade in which every scorer not marked ``cheap`` is expensive; None when ``k`` is
        None or 0 (off) or there is no cheap and expensive scorer to cascade."""
        check_k(k)
        expensive = tuple(n for n, c in zip(names, cheap, strict=True) if not c)
        if not k or not expensive or len(expensive) == len(names):
            return None
        return cls(k, expensive).check(names)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Cascade | None:
        """Back from :meth:`config` (None stays None: no cascade)."""
        if not config:
            return None
        return cls(int(config["k"]), tuple(str(x) for x in config.get("expensive") or ()))


def check_k(k: int | None) -> None:
    """``cascade_k``: None or 0 is off, K >= 1 the units per item; below 0 is refused (before
    any work, whichever scorers are chosen)."""
    if k is not None and k < 0:
        raise ConfigError(f"`cascade_k` {k}: give 0 (off) or the number of units each item's "
                          "expensive scorers read (1 or more)")


def candidates(cheap: Mapping[str, Sequence[np.ndarray]], k: int) -> list[np.ndarray]:
    """Per item, the (sorted) indices of its ``k`` best units by the equal-weight z-score fusion
    of the ``cheap`` scores (ties by the scorers' own z-scores, then position)."""
    names = list(cheap)
    items = len(next(iter(cheap.values()))) if cheap else 0
    out = []
    for q in range(items):
        per = {n: np.asarray(cheap[n][q], dtype=np.float64) for n in names}
        order = ranking(weighted(per, dict.fromkeys(names, 1.0)), *per.values())
        out.append(np.sort(order[:k]))
    return out


def masked(scores: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """``scores`` where ``chosen`` units keep theirs and every other unit gets one value below
    them all (see the module doc)."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(chosen) >= len(scores):
        return scores
    kept = scores[chosen]
    floor = float(kept.min()) - max(float(kept.max() - kept.min()), 1.0)
    out = np.full(len(scores), floor)
    out[chosen] = kept
    return out


def cascaded(per_signal: Mapping[str, Sequence[np.ndarray]], cascade: Cascade | None
             ) -> tuple[dict[str, list[np.ndarray]], list[np.ndarray] | None]:
    """Scores of signals that each read every unit, turned into what the cascade gives: the
    expensive ones keep only their scores on the cheap top-k (:func:`masked`). Exact, since an
    expensive scorer's score of a unit does not depend on which other units it reads; so one
    scoring pass of every unit serves every cascade (any subset of signals, any k). Returns the
    scores and the units read per item (None without a cascade)."""
    scores = {n: list(v) for n, v in per_signal.items()}
    if cascade is None or not any(n in scores for n in cascade.expensive):
        return scores, None
    chosen = candidates({n: v for n, v in scores.items() if n not in cascade.expensive},
                        cascade.k)
    for name in cascade.expensive:
        if name in scores:
            scores[name] = [masked(s, c) for s, c in zip(scores[name], chosen, strict=True)]
    return scores, chosen
