"""Classification metrics (scikit-learn's): accuracy, macro-F1, the per-class table and the
confusion matrix, and the confusion-matrix picture (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..files import atomic_path


def classification_metrics(gold: Sequence[str], predicted: Sequence[str],
                           labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy and macro-F1 in percent, per class precision/recall/F1/support, and the
    confusion matrix (rows: gold, columns: predicted, in ``labels`` order)."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    names = list(labels)
    p, r, f, s = precision_recall_fscore_support(gold, predicted, labels=names, zero_division=0)
    return {
        "texts": len(gold),
        "accuracy": round(100 * float(accuracy_score(gold, predicted)), 2),
        "macro_f1": round(100 * float(f1_score(gold, predicted, labels=names, average="macro",
                                               zero_division=0)), 2),
        "per_class": {n: {"precision": round(100 * float(p[i]), 2),
                          "recall": round(100 * float(r[i]), 2),
                          "f1": round(100 * float(f[i]), 2), "support": int(s[i])}
                      for i, n in enumerate(names)},
        "labels": names,
        "confusion_matrix": confusion_matrix(gold, predicted, labels=names).tolist(),
    }


def confusion_png(metrics: dict[str, Any], target: str | Path, title: str = "") -> Path:
    """The confusion matrix as a PNG (counts in the cells), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import ConfusionMatrixDisplay

    names = metrics["labels"]
    size = 2.5 + 0.7 * len(names)
    fig, ax = plt.subplots(figsize=(size, size), dpi=110)
    ConfusionMatrixDisplay(np.array(metrics["confusion_matrix"]), display_labels=names).plot(
        ax=ax, colorbar=False, cmap="Blues", xticks_rotation=45)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("gold label")
    ax.set_title(title or f"accuracy {metrics['accuracy']:.2f} %, macro-F1 {metrics['macro_f1']:.2f}")
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(target)
