"""Position baselines as scorers, so that they go through the same levels and budgets as every
other scorer: ``lead`` (the text's first units first: head truncation at unit granularity) and
``headtail`` (units from both ends, about ``head_ratio`` of the kept text from the head and the
rest from the tail, as head+tail truncation does with tokens).

``headtail`` scores unit ``i`` by ``-min(a_i / r, b_i / (1 - r))`` where ``a_i`` is the share of
the text's characters before the unit and ``b_i`` the share after it: taking units best first then
grows the head and the tail at the rate ``r : 1 - r``.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .base import Scorer, ScoringBatch


class LeadScorer(Scorer):
    name = "lead"
    cheap = True

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        return [-np.arange(len(batch.contexts[c]), dtype=np.float64) for c in batch.owner]


class HeadTailScorer(Scorer):
    name = "headtail"
    cheap = True

    def __init__(self, head_ratio: float = 0.25) -> None:
        if not 0 <= head_ratio <= 1:
            raise ConfigError(f"headtail head_ratio {head_ratio}: must be in [0, 1]")
        self.head_ratio = head_ratio

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """Character shares before and after each unit (see the module doc for the rule)."""
        out = []
        r = self.head_ratio
        for c in batch.owner:
            bounds = np.cumsum([0] + [len(u) for u in batch.contexts[c]], dtype=np.float64)
            total = max(bounds[-1], 1.0)
            before, after = bounds[:-1] / total, (total - bounds[1:]) / total
            head = before / r if r > 0 else np.full_like(before, np.inf)
            tail = after / (1 - r) if r < 1 else np.full_like(after, np.inf)
            out.append(-np.minimum(head, tail))
        return out
