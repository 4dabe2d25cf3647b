"""Converged readers at equal compute (issue 28): the paper's downsizing claim with readers trained
for the same wall-clock budget, each with its learning curve, scored on the full dev-v1.1.

    python bench/readers.py --parts costs            # 1. seconds per step and peak memory
    python bench/readers.py --parts grid             # 2. the equal-compute grid (resumable)
    python bench/readers.py --parts long             # 3. the two runs to convergence (resumable)
    python bench/readers.py --parts infer,report     # 4. ms per question; 5. results and plots
    python bench/readers.py --smoke                  # a 1-layer reader's cost, 3 steps; the report

1. **costs**: L2, L4 and L6 (all-MiniLM-L6-v2 cut to its first layers) at 64, 128, 256 and 384
   tokens: 14 real optimiser steps of 16 features (the reader trainer, bf16 where the CPU has
   it), each configuration in its own process; the median of the steps after the 4th, and the
   process's peak RSS → ``bench/results/readers-costs.json`` (with the CPU flags).
2. **grid** (``bench/readers.json``): every cell trains for the same minutes W, as the steps its
   measured cost allows, the learning rate running to zero at the end; all of
   ``train-v1.1-subset44.json`` (windows over the full context, or its ``tokens:L`` level
   extracted with ``--split train``); a learning curve on a fixed sample of 2,000 dev questions
   (6 points); final EM/F1 on the full dev-v1.1 (10,570 questions), official v1.1 metric.
3. **long** (``bench/readers-long.json``): L6 at 384 (windows) and L6 at 64 (IDS) trained until
   two points of the curve are less than 0.5 F1 apart, or three epochs.
4. **infer**: milliseconds per question on this CPU, one process per configuration, 300 dev
   questions spread over the file, batch 1 and 32, models loaded and warmed up first: windowed
   reading, and extract-then-read with extraction by ``bm25``, by the defaults (``bm25,sbert``)
   and by ``--fast`` (``bm25,static``); for each extraction the reader's full-dev F1 too.
5. **report**: ``bench/results/readers.json``, ``readers-curves.png`` (F1 against training
   minutes) and ``readers-pareto.png`` (F1 against ms per question).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke, timed

B = Bench.of(__file__)  # set again in main() for --smoke
WORK = B.root / "bench" / "work"
GRID, LONG = B.root / "bench" / "readers.json", B.root / "bench" / "readers-long.json"
SIZES, LENGTHS = [2, 4, 6], [64, 128, 256, 384]
EXTRACTIONS = {"bm25": "bm25", "defaults": "bm25,sbert", "fast": "bm25,static"}


# ---------------------------------------------------------------------------------- 1. costs

def costs(steps: int) -> None:
    """Each configuration in its own process; each row is kept in ``bench/work/readers-costs/``
    as it lands, so an interrupted run measures only what is missing."""
    done = WORK / "readers-costs"
    done.mkdir(parents=True, exist_ok=True)
    rows = []
    for layers in SIZES:
        for length in LENGTHS:
            path = done / f"L{layers}@{length}.json"
            if not path.is_file():
                row = B.child([sys.executable, __file__, "--probe", f"{layers},{length}",
                               "--probe-steps", str(steps)],
                              lambda s=f"{layers},{length}": measure(s, steps))
                path.write_text(json.dumps(row), encoding="utf-8")
            row = json.loads(path.read_text(encoding="utf-8"))
            rows.append(row)
            print(f"L{layers}@{length}: {row['seconds_per_step']:.3f} s/step "
                  f"({row['precision']}), peak {row['peak_rss_mib']} MiB", flush=True)
    B.write_result("readers-costs.json", {"batch_size": 16, "rows": rows})


def measure(spec: str, steps: int) -> dict[str, Any]:
    """(In the child process.) One configuration's cost; its peak RSS is the process's."""
    from ids_extract import load
    from ids_extract.apps.ladder.compute import probe

    layers, length = (int(x) for x in spec.split(","))
    train = load(B.train).limit(40 if B.smoke else 400)
    return probe(train, None, layers, length, steps=steps)


# ------------------------------------------------------------------------- 2./3. grid, long

def ladder(config: Path) -> None:
    out = WORK / config.stem
    start = time.perf_counter()
    subprocess.run([B.cli, "ladder", str(config), "--out", str(out), "--quiet"], check=True)
    print(f"{config.name}: {time.perf_counter() - start:.0f} s", flush=True)


def rows_of(config: Path) -> list[dict[str, Any]]:
    path = WORK / config.stem / "results.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def committed() -> dict[str, Any]:
    """The last ``bench/results/readers.json``: what earlier sessions finished."""
    path = B.results / "readers.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def restore(config: Path, key: str) -> int:
    """Put every committed row of ``key`` (``cells`` or ``long_runs``) back as its cell's
    ``metrics.json``, with its minutes as recorded, so that the ladder skips the cell.

    Why: ``bench/work/`` does not outlive a session, the committed results do; without this a
    later session's grid would train the finished cells again and its report would replace them.
    The ladder still compares each restored row's ``cell_config`` with the config, so a cell
    whose settings changed is refused, not reused."""
    from ids_extract.files import write_json

    restored = 0
    for row in committed().get(key, []):
        done = folder_of(row, config) / "metrics.json"
        if done.is_file():
            continue
        row = {**row, "train_minutes": row.get("wall_minutes", row.get("train_minutes"))}
        row.pop("wall_minutes", None)
        row["curve"] = [{**{k: v for k, v in p.items() if k != "wall_minutes"},
                         "train_minutes": p.get("wall_minutes", p["train_minutes"])}
                        for p in row.get("curve") or []]
        write_json(row, done)
        restored += 1
    if restored:
        print(f"{config.name}: {restored} finished cell(s) restored from "
              "bench/results/readers.json", flush=True)
    return restored


# ---------------------------------------------------------------------------------- 4. infer

def folder_of(row: dict[str, Any], config: Path) -> Path:
    return WORK / config.stem / "cells" / f"{row['name']}-{row['max_seq_length']}-{row['method']}"


def infer(questions: int, batches: list[int], every_way: list[int]) -> list[dict[str, Any]]:
    """ms/question (at each batch size) and full-dev F1 of every configuration a user chooses
    from; extract-then-read with each extraction for readers of ``every_way`` layers, with the
    defaults' for the others."""
    measured: list[dict[str, Any]] = []
    earlier = committed().get("inference", [])
    for config in (GRID, LONG):
        for row in rows_of(config):
            model = folder_of(row, config) / "model"
            cell = f"{row['name']}@{row['max_seq_length']} {row['method']}"
            if not model.is_dir():  # finished in an earlier session: its timings as committed
                measured += [m for m in earlier
                             if m["cell"] == cell and m["config"] == config.stem]
                continue
            ways = ["none"]
            if row["method"] == "ids":  # every extraction for the sizes named, else the defaults'
                ways = list(EXTRACTIONS) if row["init_layers"] in every_way else ["defaults"]
            for way in ways:
                f1 = row["f1"] if way in ("none", "defaults") else extracted_f1(row, model, way)
                for batch in batches:
                    cmd = [sys.executable, __file__, "--measure-one", str(model), "--way", way,
                           "--questions", str(questions), "--batch", str(batch)]
                    _, out, rss = timed(cmd)
                    m = json.loads(out.strip().splitlines()[-1])
                    entry = {"cell": cell, "config": config.stem, "extraction": way,
                             "batch": batch, "f1": f1, "peak_rss_mib": rss, **m}
                    measured.append(entry)
                    print(f"{entry['cell']:>22} {way:>8} batch {batch:>2}: "
                          f"{m['ms_per_question']:8.2f} ms/q  F1 {f1}", flush=True)
    return measured


def extracted_f1(row: dict[str, Any], model: Path, way: str) -> float:
    """Full-dev F1 of an IDS reader on dev extracted by another extraction (cached per cell)."""
    from ids_extract import Extractor, load
    from ids_extract.files import write_json
    from ids_extract.models.qa.features import examples_of
    from ids_extract.models.qa.reader import Reader
    from ids_extract.squad.evaluate import evaluate, headline

    done = model.parent / f"eval-{way}.json"
    if not done.is_file():
        dev = load(B.dev)
        level = f"tokens:{row['max_seq_length']}"
        extracted = Extractor(EXTRACTIONS[way].split(","), level, split="eval",
                              quiet=True).run(dev).levels[0].dataset
        found = Reader.load(model).predict(examples_of(extracted))
        em, f1 = headline(evaluate(dev, {p.id: p.text for p in found}))
        write_json({"extraction": way, "exact_match": round(em, 2), "f1": round(f1, 2)}, done)
    return float(json.loads(done.read_text(encoding="utf-8"))["f1"])


def measure_one(args: argparse.Namespace) -> None:
    """(In the child process.) Load once, warm up, then time answering the sample."""
    from ids_extract import load
    from ids_extract.apps.answer import ExtractThenRead, Question
    from ids_extract.models.qa.reader import Reader

    dev = load(B.dev).spread(args.questions)
    items = [Question(qa.question, p.context, qa.id) for _, p, qa in dev.iter_qas()]
    reader = Reader.load(args.measure_one)
    extract = args.way != "none"
    scorers = EXTRACTIONS.get(args.way, "bm25").split(",")
    pipeline = ExtractThenRead(reader, extract=extract, scorers=scorers)
    pipeline.answer_many(items[:8], batch_size=args.batch)  # warm-up: models loaded, caches hot
    start = time.perf_counter()
    for lo in range(0, len(items), args.batch):
        pipeline.answer_many(items[lo: lo + args.batch], batch_size=args.batch)
    seconds = time.perf_counter() - start
    print(json.dumps({"questions": len(items),
                      "ms_per_question": round(1000 * seconds / len(items), 2)}))


# --------------------------------------------------------------------------------- 5. report

MINUTES = ("train_minutes: the cell's steps times its measured seconds per step "
           "(readers-costs.json), the budget it was given; wall_minutes: the run's own clock of "
           "its training steps, which also counts the time the grid was stopped (SIGSTOP, see "
           "pauses) while another benchmark had the CPU, and any sharing of the CPU")


def budget_minutes(row: dict[str, Any]) -> dict[str, Any]:
    """The row (and its curve) in minutes of its budget: steps x measured seconds per step; the
    recorded clock kept as ``wall_minutes`` (see :data:`MINUTES`)."""
    costs = json.loads((B.results / "readers-costs.json").read_text(encoding="utf-8"))["rows"]
    cost = next(float(c["seconds_per_step"]) for c in costs
                if (c["init_layers"], c["max_seq_length"]) ==
                (row["init_layers"], row["max_seq_length"]))
    row["wall_minutes"] = row.get("train_minutes")
    row["train_minutes"] = round(row["steps"] * cost / 60, 2)
    for point in row.get("curve") or []:
        point["wall_minutes"] = point["train_minutes"]
        point["train_minutes"] = round(point["step"] * cost / 60, 2)
    return row


def report(measured: list[dict[str, Any]]) -> None:
    from ids_extract.apps.ladder.report import answers, plot_curves, plot_pareto

    measured = measured or committed().get("inference", [])  # no infer here: the committed

    grid, long = rows_of(GRID), rows_of(LONG)
    cells = [budget_minutes({k: v for k, v in r.items() if k != "metrics"}) for r in grid]
    runs = [budget_minutes({k: v for k, v in r.items() if k != "metrics"}) for r in long]
    for r in cells + runs:
        r["ms_per_question"] = {f"{m['extraction']}/batch{m['batch']}": m["ms_per_question"]
                                for m in measured if m["cell"] ==
                                f"{r['name']}@{r['max_seq_length']} {r['method']}"}
    if cells or runs:
        plot_curves(cells, runs, B.results / "readers-curves.png")
    if measured:  # at the largest batch size measured
        plot_pareto(measured, B.results / "readers-pareto.png",
                    batch=max(int(m["batch"]) for m in measured))
    found = answers(cells, runs, measured)
    for key, value in found.items():
        print(f"{key}: {value}")
    pauses = WORK / "pauses.log"
    logged = pauses.read_text(encoding="utf-8").splitlines() if pauses.is_file() else []
    B.write_result("readers.json", {"minutes": MINUTES,
                                    "pauses": list(dict.fromkeys(
                                        committed().get("pauses", []) + logged)),
                                    "grid": json.loads(GRID.read_text()),
                                  "long_config": json.loads(LONG.read_text()), "cells": cells,
                                  "long_runs": runs, "inference": measured, "answers": found})


def main() -> None:
    global B, WORK
    ap = add_smoke(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    ap.add_argument("--parts", default="costs,grid,long,infer,report")
    ap.add_argument("--probe-steps", type=int, default=14)
    ap.add_argument("--infer-questions", type=int, default=300)
    ap.add_argument("--batches", default="1,32", help="batch sizes timed in infer")
    ap.add_argument("--every-way", default="2,4,6", help="reader sizes (layers) read after "
                    "each extraction (bm25, defaults, fast) in infer; others after the defaults")
    ap.add_argument("--probe", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--measure-one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--way", default="none", help=argparse.SUPPRESS)
    ap.add_argument("--questions", type=int, default=300, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    B = Bench.of(__file__, args.smoke)
    if args.smoke:  # one 1-layer reader at 32 tokens, 3 steps: the costs and an empty report
        WORK, args.parts, args.probe_steps = B.work, "costs,report", 3
        SIZES[:], LENGTHS[:] = [1], [32]
    if args.probe:
        return print(json.dumps(measure(args.probe, args.probe_steps)))
    if args.measure_one:
        return measure_one(args)
    parts = args.parts.split(",")
    if "costs" in parts:
        costs(args.probe_steps)
    if "grid" in parts:
        restore(GRID, "cells")
        ladder(GRID)
    if "long" in parts:
        restore(LONG, "long_runs")
        ladder(LONG)
    cache = WORK / "readers-infer.json"
    if "infer" in parts:
        measured = infer(args.infer_questions, [int(b) for b in args.batches.split(",")],
                         [int(n) for n in args.every_way.split(",")])
        cache.write_text(json.dumps(measured, indent=1), encoding="utf-8")
    if "report" in parts:
        report(json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else [])


if __name__ == "__main__":
    main()
