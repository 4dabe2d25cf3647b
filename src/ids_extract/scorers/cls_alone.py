"""``alone``: how decisive each unit is when the classifier reads it on its own — the cheap signal
from the same classifier as ``ig`` (one forward pass over short inputs, no gradients).

A unit's score is the log-odds of the target class when the unit alone is classified:
``logit_t - logsumexp_{c != t} logit_c`` (for two classes, the logit difference). So a sentence
that argues for the target scores high, a neutral one near zero, one that argues against it low.
With ``target="any"`` no class is chosen: a unit scores by the largest log-odds of any class (how
strongly it points somewhere), which needs no prediction of the whole text. Every distinct unit
text of a batch is classified once.
"""

from __future__ import annotations

import numpy as np

from ..models.classifier.predict import text_logits
from .base import ScoringBatch, unique_texts
from .cls_base import ClassifierScorer, log_odds


class SentenceAloneScorer(ClassifierScorer):
    name = "alone"
    reads = {"model": "classifier_model", "device": "device", "target": "target",
             "precision": "precision"}
    option_help = {"model": "classifier folder (required)",
                   "target": "auto (gold on a training split), predicted, gold or any"}
    allowed_targets = ("auto", "predicted", "gold", "any")

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """Every distinct unit classified once; per item its units' log-odds of the target."""
        targets = self.targets(batch)
        flat = [u.strip() or u for ctx in batch.contexts for u in ctx]
        unique, inverse = unique_texts(flat)
        logits, _ = text_logits(self.clf, unique, "head", self.batch_size)  # (unique, classes)
        odds = log_odds(logits)[inverse]  # (units of the batch, classes)
        bounds = np.cumsum([0] + [len(ctx) for ctx in batch.contexts])
        out = []
        for q, c in enumerate(batch.owner):
            units = odds[bounds[c]: bounds[c + 1]]  # (units of this text, classes)
            t = targets[q]
            out.append(units.max(axis=1) if t is None else units[:, t])
        return out
