"""What the scorers built on a trained text classifier share: loading it (through
:mod:`ids_extract.models.classifier.folder`, which refuses a random head) and choosing, per text,
the class its units are scored for.

Targets: ``predicted`` — the class the classifier gives the whole text, read in windows with
averaged logits (so no part of the text is ignored); ``gold`` — the known label, only on a
training split (``ScoringBatch.labels``); ``auto`` — gold where the batch carries labels, else
predicted; ``any`` (scorers that allow it) — no class: how decisive a unit is for whichever class
it points at.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..models.classifier.folder import Classifier, load_classifier
from ..models.classifier.predict import text_logits
from ..models.hub import model_id
from .base import Scorer, ScoringBatch

TARGETS: tuple[str, ...] = ("auto", "predicted", "gold", "any")


def log_odds(logits: np.ndarray) -> np.ndarray:
    """``(n, classes)`` logits -> ``(n, classes)`` log-odds of each class against all the others:
    ``logit_c - logsumexp_{k != c} logit_k`` (the logit difference for two classes)."""
    logits = np.asarray(logits, dtype=np.float64)
    out = np.empty_like(logits)
    for c in range(logits.shape[1]):
        others = np.delete(logits, c, axis=1)  # (n, classes - 1)
        top = others.max(axis=1, keepdims=True)
        out[:, c] = logits[:, c] - (top[:, 0] + np.log(np.exp(others - top).sum(axis=1)))
    return out


class ClassifierScorer(Scorer):
    """A scorer that explains a trained classifier's decision for each text."""

    allowed_targets: tuple[str, ...] = ("auto", "predicted", "gold")
    runtime = frozenset({"device", "batch_size"})

    def __init__(self, model: str | None = None, device: str = "auto", precision: str = "fp32",
                 target: str = "auto", batch_size: int = 32) -> None:
        if target not in self.allowed_targets:
            raise ConfigError(f"{self.name} target {target!r}: choose from "
                              f"{', '.join(self.allowed_targets)}")
        if batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be >= 1")
        self.clf: Classifier = load_classifier(model, device, precision)
        self.target, self.batch_size = target, batch_size

    def recorded(self) -> dict[str, object]:
        return {"model": model_id(self.clf.path), "target": self.target,
                "precision": self.clf.precision, "reads": self.clf.config.max_seq_length}

    def item_texts(self, batch: ScoringBatch) -> list[str]:
        """The whole text of every item (units tile their text, so joining gives it back)."""
        return ["".join(batch.contexts[c]) for c in batch.owner]

    def targets(self, batch: ScoringBatch) -> list[int | None]:
        """Per item the class index to explain (None for ``any``)."""
        if self.target == "any":
            return [None] * len(batch.owner)
        gold = self.target == "gold" or (self.target == "auto" and batch.labels is not None)
        if gold:
            if batch.labels is None or any(label is None for label in batch.labels):
                raise ConfigError(f"{self.name} target 'gold' needs the gold labels of a training "
                                  "split (`split` train)")
            return [self.clf.index(str(label)) for label in batch.labels]
        logits, _ = text_logits(self.clf, self.item_texts(batch), "windows", self.batch_size)
        return [int(i) for i in logits.argmax(axis=1)]
