"""Tables printed for people (rich), from what the commands return or the manifest holds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .app import err_console


def show(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]],
         console: Console | None = None) -> None:
    """One table: the first column left, the others right (numbers); on stdout, at least 160
    columns wide when piped or captured (not squeezed into 80), unless ``console`` is given."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console.width = 160
    table = Table(title=title)
    for n, col in enumerate(columns):
        table.add_column(col, justify="right" if n else "left")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def print_stats(manifest: dict[str, Any]) -> None:
    """The tables of an output folder that its product's statistics give (QA: the per-level
    table and top-k recall per scorer; classification: its own per-level table)."""
    for table in stats_tables(manifest):
        show(table.title, table.columns, table.rows)


def stats_tables(manifest: dict[str, Any]) -> list[Any]:
    """The tables ``stats`` prints, from the product the manifest's format names (a
    :class:`~ids_extract.errors.DataError` for a folder of no registered product)."""
    from ..pipeline.products import product_of

    return product_of(manifest).statistics.tables(manifest)


def report_run(summary: Any, quiet: bool, timings: bool = False) -> None:
    """What ``extract`` and ``extract-texts`` say when done: the stage times (``timings``: wall
    time per stage and its share, on stderr), the levels already there, the table, the answers
    repaired or skipped, and where it went."""
    if timings:
        total = summary.seconds.get("total", 0.0) or 1.0
        show("wall time per stage", ("stage", "seconds", "share %"),
             [*[(n, f"{v:.2f}", f"{100 * v / total:.1f}") for n, v in
                sorted(summary.seconds.items(), key=lambda kv: -kv[1]) if n != "total"],
              ("total", f"{total:.2f}", "100.0")], Console(stderr=True))
    if quiet:
        return
    if summary.skipped:
        err_console.print(f"already written, skipped: {', '.join(summary.skipped)}")
    print_stats(summary.manifest)
    repairs = summary.manifest["input"].get("answers_repaired_or_skipped")
    if repairs:
        err_console.print(f"[yellow]{len(repairs)} answers or questions repaired or skipped "
                          f"(listed in {summary.out_dir / 'manifest.json'})[/]")
    err_console.print(f"wrote {summary.out_dir}")


def print_checks(checks: list[Any], quiet: bool) -> bool:
    """``validate``'s result on stdout, one line per check (``quiet``: the failures only);
    whether all passed."""
    out = Console(soft_wrap=True)
    for c in checks:
        if not (quiet and c.ok):
            mark = "[green]ok[/]" if c.ok else "[bold red]FAIL[/]"
            out.print(f"{mark} {c.level} {c.file}: {escape(c.message)}", highlight=False)
    return all(c.ok for c in checks)


def print_scorers(task: str, quiet: bool) -> None:
    """The scorers of ``task`` and every option each declares (``quiet``: the names only)."""
    from ..progress import console
    from ..scorers import describe
    from ..scorers.options import task_scorers

    for name in task_scorers(task):
        if quiet:
            console.print(name, highlight=False)
            continue
        table = Table(title=name, title_justify="left", show_edge=False)
        for column in ("option", "default", "flag", "help"):
            table.add_column(column)
        for row in describe(name, task):
            table.add_row(row["option"], repr(row["default"]), row["flag"] or "", row["help"])
        console.print(table)


def print_metrics(metrics: dict[str, Any]) -> None:
    """Accuracy, macro-F1 and the per-class table of a classifier evaluation (stderr)."""
    show(f"accuracy {metrics['accuracy']:.2f} %   macro-F1 {metrics['macro_f1']:.2f}   "
         f"({metrics['texts']} texts, {metrics['mode']} at {metrics['max_seq_length']})",
         ("label", "precision", "recall", "F1", "support"),
         [(label, f"{r['precision']:.2f}", f"{r['recall']:.2f}", f"{r['f1']:.2f}", str(r["support"]))
          for label, r in metrics["per_class"].items()], err_console)


def print_sanity(result: Any, items: str, quiet: bool) -> None:
    """The sanity check's table (mean and median Spearman per step; not when ``quiet``) and its
    verdict line."""
    if not quiet:
        show(f"IG sanity check ({result.questions} {items})",
             ("schedule", "randomised", "mean Spearman", "median", "n"),
             [(s.schedule, s.block, f"{s.mean_spearman:.3f}", f"{s.median_spearman:.3f}",
               str(s.questions)) for s in result.steps], err_console)
    err_console.print(result.verdict(), highlight=False)
