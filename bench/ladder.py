"""The size ladder (issue 12): readers of three sizes made offline from all-MiniLM-L6-v2 by keeping
its first 2, 4 or 6 layers, at max_seq_length 64/128/256, trained with a sliding window, with
truncation and on IDS-extracted contexts (tokens:L), the same optimiser-step budget for every cell;
the L6 reader with a window at 384 as the reference; per size, IDS readers on a ladder of extraction
levels at 128 tokens (Figure 2); then the inference cost of each size at its matched length.

    python bench/ladder.py                      # everything; every cell resumes
    python bench/ladder.py --parts cost,report  # only re-measure cost and rewrite the report
    python bench/ladder.py --smoke              # one tiny L2 cell at 64 tokens, one step

Config: ``bench/ladder.json`` (the grid, the data subsets, the training budget). Results:
``bench/results/ladder.json``, ``ladder.csv``, ``ladder-f1_vs_length.png``,
``ladder-f1_vs_level.png`` and ``ladder-cost.png``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke, timed

MATCHED = {"L2": 64, "L4": 128, "L6": 256}  # each size at the length the paper pairs it with
REFERENCE = ("L6", 384, "window")


def run_grid(bench: Bench, config: Path, work: Path) -> None:
    start = time.perf_counter()
    subprocess.run([bench.cli, "ladder", str(config), "--out", str(work), "--quiet"], check=True)
    print(f"grid: {time.perf_counter() - start:.0f} s", flush=True)


def cost_configs(rows: list[dict[str, Any]], work: Path) -> list[dict[str, Any]]:
    """Per size at its matched length: extract-then-read with the IDS reader, and the window
    reader on whole contexts; plus the reference."""
    wanted = [(s, n, m) for s, n in MATCHED.items() for m in ("ids", "window")] + [REFERENCE]
    out = []
    for size, length, method in wanted:
        row = next((r for r in rows if (r["name"], r["max_seq_length"], r["method"]) ==
                    (size, length, method) and (method != "ids" or r["level"] == f"tokens:{length}")),
                   None)
        if row is None:
            continue
        folder = work / "cells" / f"{size}-{length}-{method}" / "model"
        out.append({"name": size, "max_seq_length": length, "method": method,
                    "model": str(folder), "f1": row["f1"]})
    return out


def measure(bench: Bench, model: str, method: str, questions: int, batch: int,
            data: str) -> dict[str, Any]:
    """Latency per question of one configuration, in its own process (peak RSS is its own; in
    this one, without it, in a smoke run)."""
    if bench.smoke:
        return {**measured(model, method, questions, batch, data), "peak_rss_mb": None}
    cmd = [sys.executable, __file__, "--measure-one", model, "--method", method, "--questions",
           str(questions), "--batch", str(batch), "--data", data]
    _, stdout, rss = timed(cmd)
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = rss
    return result


def measured(model: str, method: str, questions: int, batch: int, data: str) -> dict[str, Any]:
    """Load once, warm up, then time answering the sample (the child's work)."""
    from ids_extract import load
    from ids_extract.apps.answer import ExtractThenRead, Question
    from ids_extract.models.qa.reader import Reader

    dev = load(data).spread(questions)
    items = [Question(qa.question, p.context, qa.id) for _, p, qa in dev.iter_qas()]
    reader = Reader.load(model)
    pipeline = ExtractThenRead(reader, extract=method == "ids")
    pipeline.answer_many(items[:4], batch_size=batch)  # warm-up: models loaded, caches hot
    start = time.perf_counter()
    for lo in range(0, len(items), batch):
        pipeline.answer_many(items[lo: lo + batch], batch_size=batch)
    seconds = time.perf_counter() - start
    return {"questions": len(items), "batch": batch,
            "ms_per_question": round(1000 * seconds / len(items), 2)}


def run_cost(bench: Bench, rows: list[dict[str, Any]], work: Path,
             questions: int) -> list[dict[str, Any]]:
    """Latency of every matched cell (:func:`cost_configs`) at batch 1 and 32 (1 in a smoke
    run)."""
    found = []
    for cfg in cost_configs(rows, work):
        for batch in (1,) if bench.smoke else (1, 32):
            m = measure(bench, cfg["model"], cfg["method"], questions, batch, str(bench.dev))
            entry = {**cfg, **m, "f1_per_ms": round(cfg["f1"] / m["ms_per_question"], 3)}
            found.append(entry)
            print(f"{cfg['name']}@{cfg['max_seq_length']} {cfg['method']:>6} batch {batch:>2}: "
                  f"{m['ms_per_question']:8.1f} ms/q  peak {m['peak_rss_mb']} MB  "
                  f"F1 {cfg['f1']}", flush=True)
    return found


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The acceptance comparisons: per size and length, IDS against window and truncation."""
    def f1(size: str, length: int, method: str) -> float | None:
        return next((r["f1"] for r in rows if (r["name"], r["max_seq_length"], r["method"]) ==
                     (size, length, method) and (method != "ids"
                                                 or r["level"] == f"tokens:{length}")), None)

    table = {}
    for size in ("L2", "L4", "L6"):
        for length in (64, 128, 256):
            ids, win, trunc = f1(size, length, "ids"), f1(size, length, "window"), f1(
                size, length, "truncate")
            if None in (ids, win, trunc):
                continue
            assert ids is not None and win is not None and trunc is not None
            table[f"{size}@{length}"] = {
                "ids": ids, "window": win, "truncate": trunc,
                "ids_minus_window": round(ids - win, 2), "ids_minus_truncate": round(ids - trunc, 2),
                "meets_acceptance": ids >= win and ids >= trunc + 5 if length <= 128 else None}
    return table


def plot_cost(measured: list[dict[str, Any]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120, sharey=True)
    for ax, batch in zip(axes, (1, 32), strict=True):
        for m in (x for x in measured if x["batch"] == batch):
            marker = "o" if m["method"] == "ids" else "s"
            ax.scatter(m["ms_per_question"], m["f1"], marker=marker)
            ax.annotate(f"{m['name']}@{m['max_seq_length']} {m['method']}",
                        (m["ms_per_question"], m["f1"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel(f"ms per question on CPU (batch {batch}, extraction included)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("dev F1")
    fig.suptitle("F1 against inference cost (circles: extract-then-read; squares: windows)")
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)


def smoke_config(bench: Bench) -> Path:
    """One tiny L2 cell at 64 tokens (window and IDS, bm25), one step on a few questions."""
    config = {"train": str(bench.squad_slice(bench.train, 40)),
              "dev": str(bench.squad_slice(bench.dev, 20)), "train_limit": 16, "dev_limit": 8,
              "scorers": ["bm25"], "training": {"max_steps": 1, "batch_size": 4},
              "cells": [{"name": "L2", "model": str(bench.tiny_models()["encoder"]),
                         "max_seq_length": 64, "methods": ["window", "ids"]}]}
    path = bench.work / "ladder-smoke.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=None, help="[default: bench/ladder.json]")
    ap.add_argument("--work", type=Path, default=None, help="[default: bench/work/ladder]")
    ap.add_argument("--parts", default="grid,cost,report")
    ap.add_argument("--cost-questions", type=int, default=200)
    ap.add_argument("--measure-one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--method", default="ids", help=argparse.SUPPRESS)
    ap.add_argument("--questions", type=int, default=200, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--data", default="", help=argparse.SUPPRESS)
    args = add_smoke(ap).parse_args()
    if args.measure_one:
        print(json.dumps(measured(args.measure_one, args.method, args.questions, args.batch,
                                  args.data)))
        return
    bench = Bench.of(__file__, args.smoke)
    bench.work.mkdir(parents=True, exist_ok=True)
    if bench.smoke:
        args.config, args.cost_questions = smoke_config(bench), 4
    args.config = args.config or bench.root / "bench" / "ladder.json"
    args.work = args.work or bench.work
    parts = args.parts.split(",")
    if "grid" in parts:
        run_grid(bench, args.config, args.work)
    rows = json.loads((args.work / "results.json").read_text(encoding="utf-8"))
    cost_file = args.work / "cost.json"
    if "cost" in parts:
        cost_file.write_text(json.dumps(run_cost(bench, rows, args.work, args.cost_questions),
                                        indent=1))
    costs = json.loads(cost_file.read_text()) if cost_file.exists() else []
    if "report" in parts:
        report(bench, rows, costs, args)


def report(bench: Bench, rows: list[dict[str, Any]], measured: list[dict[str, Any]],
           args: argparse.Namespace) -> None:
    """The figures and tables of the grid copied beside the result, the cost plot, the
    comparisons, and ``ladder.json``."""
    from ids_extract.models.runtime import cpu_flags

    bench.results.mkdir(parents=True, exist_ok=True)
    for name in ("f1_vs_length.png", "f1_vs_level.png"):
        if (args.work / name).exists():
            shutil.copyfile(args.work / name, bench.results / f"ladder-{name}")
    shutil.copyfile(args.work / "results.csv", bench.results / "ladder.csv")
    if measured:
        plot_cost(measured, bench.results / "ladder-cost.png")
    table = summary(rows)
    for key, row in table.items():
        print(f"{key:>8}: IDS {row['ids']:6.2f}  window {row['window']:6.2f}  trunc "
              f"{row['truncate']:6.2f}  (IDS-window {row['ids_minus_window']:+.2f}, "
              f"IDS-trunc {row['ids_minus_truncate']:+.2f})")
    flags = sorted(cpu_flags() & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni"})
    path = bench.write_result("ladder.json", {
        "config": json.loads(args.config.read_text()), "cpu_flags": flags,
        "comparisons": table, "rows": [{k: v for k, v in r.items() if k != "metrics"}
                                       for r in rows], "cost": measured})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
