"""Scoring a classifier on a labelled file: accuracy, macro-F1, the per-class table and the
confusion matrix (:mod:`ids_extract.textcls.metrics`), with the predictions file beside them.

Everything is computed before anything is written, and each file is written atomically, so a
failure leaves no partial evaluation behind.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...files import write_json, write_jsonl
from ...textcls.metrics import classification_metrics, confusion_png
from ...textcls.model import TextDataset
from .folder import Classifier
from .predict import predict

PREDICTIONS, METRICS, CONFUSION = "predictions.jsonl", "metrics.json", "confusion.png"


def evaluate_classifier(clf: Classifier, data: TextDataset, mode: str | None = None,
                        batch_size: int = 32, quiet: bool = True) -> tuple[dict[str, Any],
                                                                            list[dict[str, Any]]]:
    """Metrics and one prediction row per text (id, gold, predicted, probabilities, windows).
    A gold label the classifier does not know is scored (always as a miss) and listed."""
    if not data.has_labels:
        raise ConfigError(f"{data.source}: evaluation needs a label for every text")
    unseen = sorted(set(data.labels) - set(clf.labels))  # counted, never predicted
    start = time.perf_counter()
    found = predict(clf, data.texts, mode, batch_size, quiet)
    seconds = time.perf_counter() - start
    gold = [str(g) for g in data.gold]
    metrics = classification_metrics(gold, found.labels, clf.labels + unseen)
    metrics.update({"labels_unknown_to_the_classifier": unseen,
                    "mode": mode or clf.config.mode, "max_seq_length": clf.config.max_seq_length,
                    "data": data.source, "model": clf.path, "seconds": round(seconds, 2),
                    "features": int(found.features.sum())})
    rows = [{"id": r.id, "label": g, "predicted": p, "windows": int(n),
             "probs": {c: round(float(x), 5) for c, x in zip(clf.labels, probs, strict=True)}}
            for r, g, p, n, probs in zip(data.records, gold, found.labels, found.features,
                                         found.probs, strict=True)]
    return metrics, rows


def write_evaluation(metrics: dict[str, Any], rows: list[dict[str, Any]],
                     out: str | Path) -> dict[str, Path]:
    """``metrics.json``, ``predictions.jsonl`` and ``confusion.png`` in ``out``."""
    folder = Path(out)
    paths = {"metrics": folder / METRICS, "predictions": folder / PREDICTIONS,
             "confusion": folder / CONFUSION}
    write_jsonl(rows, paths["predictions"])
    confusion_png(metrics, paths["confusion"])
    write_json(metrics, paths["metrics"])
    return paths
