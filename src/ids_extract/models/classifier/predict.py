"""Prediction: logits of every text in the classifier's reading mode (or another one), batched by
length; a text read in several windows gets the mean of its windows' logits (the standard
long-document baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...progress import track
from ..runtime import autocast, length_batches, softmax
from .features import encode
from .folder import Classifier


@dataclass
class Predictions:
    """Per text: the predicted label, the class probabilities (softmax of the mean logits) and
    the number of features (windows) read."""

    labels: list[str]
    probs: np.ndarray
    logits: np.ndarray
    features: np.ndarray


def pad(clf: Classifier, rows: Sequence[dict[str, list[int]]]) -> dict[str, Any]:
    """Pad features into tensors on the classifier's device."""
    padded = clf.tokenizer.pad(list(rows), return_tensors="pt")
    return {k: v.to(clf.device) for k, v in padded.items()}


def feature_logits(clf: Classifier, rows: Sequence[dict[str, list[int]]], batch_size: int = 32,
                   quiet: bool = True) -> np.ndarray:
    """Logits of every feature, ``(features, classes)`` float32, in the order given."""
    import torch

    out = np.zeros((len(rows), len(clf.labels)), dtype=np.float32)
    batches = list(length_batches([len(r["input_ids"]) for r in rows], batch_size))
    for batch in track(batches, "classifying", len(batches), quiet):
        with torch.inference_mode(), autocast(clf.device, clf.precision):
            logits = clf.model(**pad(clf, [rows[i] for i in batch])).logits  # (batch, classes)
        out[batch] = logits.float().cpu().numpy()
    return out


def text_logits(clf: Classifier, texts: Sequence[str], mode: str | None = None,
                batch_size: int = 32, quiet: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Mean logits per text ``(texts, classes)`` and the number of features each text gave."""
    enc = encode(clf.tokenizer, texts, clf.config, mode)
    per_feature = feature_logits(clf, enc.inputs, batch_size, quiet)
    index = np.asarray(enc.text_index, dtype=np.int64)
    counts = np.bincount(index, minlength=len(texts))
    total = np.zeros((len(texts), len(clf.labels)), dtype=np.float64)
    np.add.at(total, index, per_feature)
    return total / np.maximum(counts, 1)[:, None], counts


def predict(clf: Classifier, texts: Sequence[str], mode: str | None = None, batch_size: int = 32,
            quiet: bool = True) -> Predictions:
    """Labels and probabilities of ``texts`` (``mode``: head, headtail, windows; default the
    classifier's own)."""
    logits, counts = text_logits(clf, texts, mode, batch_size, quiet)
    return Predictions([clf.labels[i] for i in logits.argmax(axis=1)], softmax(logits), logits,
                       counts)
