"""The ladder's results on disk: ``results.csv``, ``results.json`` and two figures — F1 against
``max_seq_length`` per size and method, and F1 against the extraction level at one length with the
level's retention beside it (the paper's Figure 2). Every file is written atomically."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...files import atomic_path, write_json

COLUMNS = ("name", "model", "init_layers", "max_seq_length", "method", "level", "exact_match",
           "f1", "dev_retention_pct", "dev_compression", "train_seconds", "eval_seconds",
           "train_examples", "train_features", "steps", "peak_rss_mb", "peak_gpu_mb")
LABELS = {"ids": "IDS-extracted", "window": "sliding window", "truncate": "truncation"}


def write_results(rows: Sequence[dict[str, Any]], out: Path) -> None:
    """``results.csv``, ``results.json`` and the figures (all atomic)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(out / "results.csv") as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    write_json(list(rows), out / "results.json")
    f1_vs_length(rows, out / "f1_vs_length.png")
    if any(r["method"] == "ids" and not _matched(r) for r in rows):
        f1_vs_level(rows, out / "f1_vs_level.png")


def _matched(row: dict[str, Any]) -> bool:
    """An IDS row at the level named for its own length (``tokens:L``)."""
    return row["level"] == f"tokens:{row['max_seq_length']}"


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, target: Path) -> None:
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    pyplot().close(fig)


def f1_vs_length(rows: Sequence[dict[str, Any]], target: Path) -> None:
    """One panel per model size: F1 against max_seq_length, one line per method (IDS at the
    level matched to the length)."""
    plt = pyplot()
    sizes = list(dict.fromkeys(r["name"] for r in rows))
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 3.8), dpi=120,
                             sharey=True, squeeze=False)
    for ax, size in zip(axes[0], sizes, strict=True):
        for method, label in LABELS.items():
            points = sorted((r["max_seq_length"], r["f1"]) for r in rows
                            if r["name"] == size and r["method"] == method
                            and (method != "ids" or _matched(r)))
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=label)
        lengths = sorted({r["max_seq_length"] for r in rows if r["name"] == size})
        ax.set_xscale("log", base=2)
        ax.set_xticks(lengths, [str(v) for v in lengths])
        ax.set_title(size)
        ax.set_xlabel("max_seq_length (tokens)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("dev F1")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Reader F1 by size, max_seq_length and method (same step budget)")
    fig.tight_layout()
    save_figure(fig, target)


def f1_vs_level(rows: Sequence[dict[str, Any]], target: Path) -> None:
    """Figure 2: per size, F1 of readers trained on each extraction level at one length (mild to
    strong: the levels by how much of the context they keep), with the level's retention."""
    plt = pyplot()
    ids = [r for r in rows if r["method"] == "ids" and r.get("dev_compression") is not None]
    length = max(({r["max_seq_length"] for r in ids if not _matched(r)}), default=None)
    fig, ax = plt.subplots(figsize=(7.0, 4.0), dpi=120)
    right = ax.twinx()
    for size in dict.fromkeys(r["name"] for r in ids):
        points = sorted(((r["dev_compression"], r["f1"], r["dev_retention_pct"], r["level"])
                         for r in ids if r["name"] == size and r["max_seq_length"] == length),
                        reverse=True)
        if not points:
            continue
        xs = range(len(points))
        ax.plot(xs, [p[1] for p in points], marker="o", label=f"{size} F1")
        right.plot(xs, [p[2] for p in points], linestyle=":", color="grey")
        ax.set_xticks(list(xs), [f"D{i + 1}\n{p[3]}\n{p[0]:.2f}" for i, p in enumerate(points)],
                      fontsize=7)
    ax.set_xlabel("extraction level, mild to strong (level, kept share of the context)")
    ax.set_ylabel("dev F1")
    right.set_ylabel("dev retention % (dotted)")
    ax.set_title(f"F1 against extraction level at max_seq_length {length}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    save_figure(fig, target)
