"""A scorer from outside the package, for the test that a new scorer is one file plus a
registry line (tests/test_scorer_plugin.py)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ids_extract.scorers import Scorer, ScoringBatch


class ToyScorer(Scorer):
    """Prefers the last units (the opposite of ``lead``), ``scale`` times their position."""

    name: ClassVar[str] = "toy"
    #: its declaration: the command's --device reaches it, and `ids-extract scorers` lists it
    reads: ClassVar[dict[str, str]] = {"device": "device"}
    option_help: ClassVar[dict[str, str]] = {"scale": "how much later units are preferred"}

    def __init__(self, scale: float = 1.0, device: str = "auto") -> None:
        self.scale, self.device = scale, device

    def config(self) -> dict[str, object]:
        return {"name": self.name, "scale": self.scale, "device": self.device}

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        return [self.scale * np.arange(len(batch.contexts[c]), dtype=np.float64)
                for c in batch.owner]
