"""The equal-compute readers' report: learning curves (F1 against training minutes), the Pareto
picture a user chooses from (F1 against milliseconds per question), and the three questions of
the downsizing claim answered in numbers from the rows (never typed in by hand)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .plots import pyplot, save_figure

Row = Mapping[str, Any]


def _key(row: Row) -> str:
    return f"{row['name']}@{row['max_seq_length']} {row['method']}"


def plot_curves(cells: Sequence[Row], runs: Sequence[Row], target: Path) -> None:
    """Every cell's curve (solid: extract-then-read, dashed: windows or truncation) and the long
    runs (thick), F1 on the fixed dev sample against minutes of training."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=120)
    for row in [*cells, *runs]:
        points = row.get("curve") or []
        if not points:
            continue
        long = row in runs
        ax.plot([p["train_minutes"] for p in points], [p["f1"] for p in points],
                linestyle="-" if row["method"] == "ids" else "--", marker="o", markersize=3,
                linewidth=2.5 if long else 1.2, label=_key(row) + (" (to convergence)" if long
                                                                    else ""))
    ax.set_xlabel("minutes of training (scoring the sample excluded)")
    ax.set_ylabel("F1, fixed sample of dev questions")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Learning curves at equal compute")
    fig.tight_layout()
    save_figure(fig, target)


def plot_pareto(measured: Sequence[Row], target: Path, batch: int = 32) -> None:
    """Full-dev F1 against ms per question at one batch size, with the Pareto front drawn."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=120)
    rows = [m for m in measured if m["batch"] == batch]
    for m in rows:
        marker = "s" if m["extraction"] == "none" else "o"
        ax.scatter(m["ms_per_question"], m["f1"], marker=marker)
        ax.annotate(f"{m['cell']} [{m['extraction']}]", (m["ms_per_question"], m["f1"]),
                    fontsize=6, xytext=(3, 3), textcoords="offset points")
    front = pareto(rows)
    ax.plot([m["ms_per_question"] for m in front], [m["f1"] for m in front], color="grey",
            linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel(f"ms per question on this CPU (batch {batch}, extraction included)")
    ax.set_ylabel("full dev-v1.1 F1")
    ax.grid(alpha=0.3)
    ax.set_title("F1 against inference cost (squares: whole contexts in windows)")
    fig.tight_layout()
    save_figure(fig, target)


def pareto(rows: Sequence[Row]) -> list[Row]:
    """The rows no other row beats on both F1 and ms per question, cheapest first."""
    out: list[Row] = []
    for m in sorted(rows, key=lambda r: (r["ms_per_question"], -r["f1"])):
        if not out or m["f1"] > out[-1]["f1"]:
            out.append(m)
    return out


def _f1(cells: Sequence[Row], name: str, length: int, method: str) -> float | None:
    return next((float(r["f1"]) for r in cells
                 if (r["name"], r["max_seq_length"], r["method"]) == (name, length, method)), None)


def answers(cells: Sequence[Row], runs: Sequence[Row],
            measured: Sequence[Row]) -> dict[str, Any]:
    """(a) IDS against windows (and truncation) at 64 and 128 for every size that has both;
    (b) the gain per size; (c) the small cell closest to the converged L6@384, and its share of
    that reader's inference cost."""
    gains: dict[str, dict[str, float]] = {}
    for row in cells:
        if row["method"] != "ids" or row["max_seq_length"] > 128:
            continue
        ids = float(row["f1"])
        for other in ("window", "truncate"):
            base = _f1(cells, row["name"], row["max_seq_length"], other)
            if base is not None:
                gains.setdefault(f"{row['name']}@{row['max_seq_length']}", {})[
                    f"ids_minus_{other}"] = round(ids - base, 2)
    ceiling = next((r for r in runs if r["max_seq_length"] == 384), None)
    ceiling = ceiling or next((r for r in cells if r["max_seq_length"] == 384), None)
    out: dict[str, Any] = {"a_ids_against_baselines": gains,
                           "a_ids_wins_everywhere": all(v > 0 for g in gains.values()
                                                        for v in g.values()) if gains else None,
                           "b_gain_by_size": {k: g.get("ids_minus_window")
                                              for k, g in gains.items()}}
    if ceiling is not None:
        small = [r for r in cells if r["max_seq_length"] <= 128]
        best = max(small, key=lambda r: float(r["f1"]), default=None)
        if best is not None:
            out["c_closest_small_cell"] = {
                "cell": _key(best), "f1": best["f1"], "ceiling": _key(ceiling),
                "ceiling_f1": ceiling["f1"], "f1_gap": round(float(ceiling["f1"]) -
                                                              float(best["f1"]), 2),
                "cost_share": _cost_share(measured, best, ceiling)}
    return out


def _cost_share(measured: Sequence[Row], small: Row, large: Row) -> dict[str, float]:
    """ms per question of the small cell (default extraction) over the large one's, per batch."""
    def ms(row: Row, batch: int) -> float | None:
        ways = ("defaults", "none")
        return next((float(m["ms_per_question"]) for m in measured if m["cell"] == _key(row)
                     and m["batch"] == batch and m["extraction"] in ways), None)

    out = {}
    for batch in (1, 32):
        a, b = ms(small, batch), ms(large, batch)
        if a is not None and b:
            out[f"batch{batch}"] = round(a / b, 3)
    return out
