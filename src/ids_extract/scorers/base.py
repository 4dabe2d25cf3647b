"""The one small interface every relevance scorer implements.

A scorer sees a batch of contexts (each already split into sentences) and a batch of questions,
each pointing at its context. Grouping by context lets a scorer do per-context work once — encode a
context's sentences once for all its questions, build one BM25 index per context — instead of once
per question.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class ScoringBatch:
    """``contexts[c]`` is the list of sentence texts of context ``c``; question ``q`` asks about
    ``contexts[owner[q]]``."""

    contexts: Sequence[Sequence[str]]
    questions: Sequence[str]
    owner: Sequence[int]

    def __post_init__(self) -> None:
        if len(self.questions) != len(self.owner):
            raise ValueError("questions and owner must have the same length")


class Scorer(ABC):
    """Maps a :class:`ScoringBatch` to one score per sentence per question (higher = more relevant).

    Scores are only compared within one context; fusion standardises them per context, so a scorer
    need not calibrate its scale.
    """

    name: ClassVar[str]

    @abstractmethod
    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """One float array per question, of length ``len(batch.contexts[batch.owner[q]])``."""

    def config(self) -> dict[str, object]:
        """What identifies this scorer's output (written to the manifest and the score cache)."""
        return {"name": self.name}
