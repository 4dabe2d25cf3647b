"""Tables printed for people (rich), from what the commands return or the manifest holds."""

from __future__ import annotations

from typing import Any


def print_stats(manifest: dict[str, Any]) -> None:
    """The per-level table (and top-k recall per scorer) on the console; a classification
    extraction's own table for its folder."""
    from rich.console import Console
    from rich.table import Table

    from ..pipeline.validate import TEXTS_FORMAT

    if manifest.get("format") == TEXTS_FORMAT:
        print_text_levels(manifest)
        return
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console.width = 160

    table = Table(title=f"ids-extract: {manifest['input']['path']}")
    for col in ("level", "questions", "retention %", "lost", "dropped", "compression",
                "p50", "p90", "kept tokens", "sentences kept/all"):
        table.add_column(col, justify="right" if col != "level" else "left")
    for entry in manifest.get("levels", []):
        s = entry["stats"]
        table.add_row(entry["name"], str(s["questions"]), f"{s['retention_pct']:.2f}",
                      str(s["lost_after_policy"]), str(s["dropped"]),
                      f"{s['compression']['mean']:.3f}", f"{s['compression']['p50']:.3f}",
                      f"{s['compression']['p90']:.3f}", f"{s['kept_tokens']['mean']:.1f}",
                      f"{s['kept_sentences_mean']:.2f}/{s['sentences_mean']:.2f}")
    console.print(table)
    recall = manifest.get("ranking", {}).get("top_k_recall_pct", {})
    if recall:
        rt = Table(title=f"top-k sentence recall % ({manifest['ranking']['answerable']} answerable)")
        for col in ("scorer", "top1", "top2", "top3"):
            rt.add_column(col, justify="left" if col == "scorer" else "right")
        for name, r in recall.items():
            rt.add_row(name, f"{r['top1']:.2f}", f"{r['top2']:.2f}", f"{r['top3']:.2f}")
        console.print(rt)


def print_stages(seconds: dict[str, float]) -> None:
    """Wall time per stage of a run, with its share of the total (stderr: a diagnostic)."""
    from rich.console import Console
    from rich.table import Table

    total = seconds.get("total", 0.0) or 1.0
    table = Table(title="wall time per stage")
    for col in ("stage", "seconds", "share %"):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for name, value in sorted(seconds.items(), key=lambda kv: -kv[1]):
        if name != "total":
            table.add_row(name, f"{value:.2f}", f"{100 * value / total:.1f}")
    table.add_row("total", f"{total:.2f}", "100.0")
    Console(stderr=True).print(table)


def print_text_levels(manifest: dict[str, Any]) -> None:
    """The per-level table of a classification extraction."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = 160
    table = Table(title=f"ids-extract: {manifest['input']['path']} ({manifest['input']['texts']} "
                        "texts)")
    for col in ("level", "unchanged %", "over budget", "tokens", "kept tokens", "p90 kept",
                "compression", "p50", "units kept/all"):
        table.add_column(col, justify="left" if col == "level" else "right")
    for entry in manifest.get("levels", []):
        s = entry["stats"]
        table.add_row(entry["name"], f"{s['unchanged_pct']:.1f}", str(s["over_budget"]),
                      f"{s['tokens']['mean']:.1f}", f"{s['kept_tokens']['mean']:.1f}",
                      f"{s['kept_tokens']['p90']:.0f}", f"{s['compression']['mean']:.3f}",
                      f"{s['compression']['p50']:.3f}",
                      f"{s['kept_units_mean']:.2f}/{s['units_mean']:.2f}")
    console.print(table)
