"""Downstream benchmark (issue 4): does a small max_seq_length reader do better on IDS-extracted
contexts than with a sliding window or plain truncation, and at what training cost?

The all-MiniLM-L6-v2 backbone (a fresh QA head) is trained on a fixed subset of
``train-v1.1-subset44.json`` and scored on a fixed subset of ``dev-v1.1.json`` against the
ORIGINAL dev answers (an answer cut by extraction costs what it should). Rows, all with the same
training questions, budget (``--max-steps`` steps, or ``--epochs``), batch size and learning rate:

    a_window384    sliding window, max_seq_length 384 (the usual setting)
    b_window128    sliding window at 128          c_truncate128   truncation at 128
    d_ids128       IDS-extracted (bm25+sbert, tokens:128; keep-gold on train only) at 128
    e_window64     sliding window at 64           g_truncate64    truncation at 64
    f_ids64        IDS-extracted at tokens:64, at 64

Each row runs in its own process (so its peak memory is its own) and writes
``bench/work/downstream/rows/<row>/result.json``; re-running skips finished rows. The
extraction of train and dev is timed once and shared by the IDS rows.

    python bench/downstream.py --train-n 3000 --dev-n 1000 --max-steps 300 \
        --work bench/work/downstream-steps300                  # the reported run (same steps)
    python bench/downstream.py --train-n 3000 --dev-n 1000 --epochs 1 \
        --result downstream-epochs.json                        # same passes over the data
    python bench/downstream.py --smoke    # a tiny reader, 16/8 questions, one step, two rows
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke
from ids_extract.files import write_json
from ids_extract.squad.read import load
from ids_extract.squad.write import write_squad

WORK = Path()  # set by main(): --work, or bench/work/downstream
ROWS: dict[str, dict[str, Any]] = {  # in the order they run (the most telling first)
    "d_ids128": {"max_seq_length": 128, "mode": "window", "data": "tokens:128"},
    "b_window128": {"max_seq_length": 128, "mode": "window", "data": "original"},
    "c_truncate128": {"max_seq_length": 128, "mode": "truncate", "data": "original"},
    "a_window384": {"max_seq_length": 384, "mode": "window", "data": "original"},
    "e_window64": {"max_seq_length": 64, "mode": "window", "data": "original"},
    "f_ids64": {"max_seq_length": 64, "mode": "window", "data": "tokens:64"},
    "g_truncate64": {"max_seq_length": 64, "mode": "truncate", "data": "original"},
}
LEVELS = "tokens:128,tokens:64"
LEVEL_FILES = {"tokens:128": "D1-tokens128.json", "tokens:64": "D2-tokens64.json"}


def prepare(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """Write the subsets and extract them (train: split=train, keep-gold; dev: split=eval)."""
    from ids_extract.pipeline.extractor import Extractor

    info: dict[str, Any] = {}
    for name, source, n in (("train", bench.train, args.train_n), ("dev", bench.dev, args.dev_n)):
        path = WORK / f"{name}-subset.json"
        if not path.exists():
            write_squad(load(source).spread(n), path)
        info[f"{name}_questions"] = load(path).num_questions
    timing_path = WORK / "extraction.json"
    if timing_path.exists():
        info.update(json.loads(timing_path.read_text()))
        return info
    for name, split in (("train", "train"), ("dev", "eval")):
        start = time.perf_counter()
        ex = Extractor(args.scorers.split(","), LEVELS, split=split,  # type: ignore[arg-type]
                       quiet=True)
        result = ex.run(load(WORK / f"{name}-subset.json"))
        for level in result.levels:
            write_squad(level.dataset, WORK / f"ids-{name}" / f"{level.stats.name}.json")
            info[f"{name} {level.stats.name} retention_pct"] = level.stats.summary.get(
                "retention_pct")
        info[f"extract_{name}_seconds"] = round(time.perf_counter() - start, 1)
    write_json({k: v for k, v in info.items() if not k.endswith("_questions")}, timing_path)
    return info


def row_inputs(row: dict[str, Any]) -> tuple[Path, Path]:
    if row["data"] == "original":
        return WORK / "train-subset.json", WORK / "dev-subset.json"
    name = LEVEL_FILES[row["data"]]
    return WORK / "ids-train" / name, WORK / "ids-dev" / name


def run_row(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train, predict and score one row (called in a child process)."""
    from ids_extract.models.qa.features import ReaderConfig, examples_of
    from ids_extract.models.qa.reader import Reader
    from ids_extract.models.qa.train import TrainConfig, train_reader
    from ids_extract.squad.evaluate import evaluate, headline

    row = ROWS[name]
    train_path, dev_path = row_inputs(row)
    folder = WORK / "rows" / name
    cfg = ReaderConfig(max_seq_length=row["max_seq_length"], mode=row["mode"])
    tcfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size,
                       learning_rate=args.lr, seed=args.seed, precision=args.precision,
                       max_steps=args.max_steps or -1, save_steps=10_000, logging_steps=50)
    summary = train_reader(load(train_path), args.model, folder / "model", cfg, tcfg,
                           quiet=True)
    start = time.perf_counter()
    reader = Reader.load(folder / "model", precision=args.precision)
    dev_input = load(dev_path)
    predictions = reader.predict(examples_of(dev_input), batch_size=64)
    eval_seconds = time.perf_counter() - start
    metrics = evaluate(load(WORK / "dev-subset.json"),  # the ORIGINAL answers, by id
                       {p.id: p.text for p in predictions})
    em, f1 = headline(metrics)
    result = {
        "row": name, **row, "doc_stride": cfg.stride, "train_file": str(train_path),
        "dev_file": str(dev_path), "exact_match": round(em, 2),
        "f1": round(f1, 2), "train_seconds": round(summary.train_seconds, 1),
        "eval_seconds": round(eval_seconds, 1), "train_examples": summary.examples,
        "train_features": summary.features, "steps": summary.steps,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_gpu_mb": summary.peak_gpu_mb, "precision": summary.precision,
        "device": summary.device, "resumed": summary.resumed_from is not None or summary.skipped,
        "metrics": metrics, "reader": asdict(cfg),
    }
    write_json(result, folder / "result.json")
    return result


def count_features(args: argparse.Namespace) -> dict[str, Any]:
    """Per row, the features and padded tokens one training epoch and one dev pass process (no
    training): the cost side of the comparison, cheap enough to run anywhere."""
    from ids_extract.models.hub import load_tokenizer
    from ids_extract.models.qa.features import (
        ReaderConfig,
        eval_features,
        examples_of,
        train_features,
    )

    tokenizer = load_tokenizer(args.model)
    rows = {}
    for name, row in ROWS.items():
        cfg = ReaderConfig(max_seq_length=row["max_seq_length"], mode=row["mode"])
        train_path, dev_path = row_inputs(row)
        cols = train_features(tokenizer, examples_of(load(train_path)), cfg)
        dev = eval_features(tokenizer, examples_of(load(dev_path)), cfg)
        lengths = [len(ids) for ids in cols["input_ids"]]
        rows[name] = {"train_features": len(lengths), "train_tokens": sum(lengths),
                      "dev_features": len(dev.inputs),
                      "dev_tokens": sum(len(f["input_ids"]) for f in dev.inputs)}
        print(f"{name:14} {rows[name]}", flush=True)
    return rows


def comparisons(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def get(name: str, key: str) -> float | None:
        return rows[name][key] if name in rows else None

    out: dict[str, Any] = {}
    for ids, window, trunc in (("d_ids128", "b_window128", "c_truncate128"),
                               ("f_ids64", "e_window64", "g_truncate64")):
        f_ids, f_win, f_tr = get(ids, "f1"), get(window, "f1"), get(trunc, "f1")
        if f_ids is not None and f_win is not None:
            out[f"{ids} F1 >= {window} F1"] = {"holds": f_ids >= f_win, "margin": round(f_ids - f_win, 2)}
        if f_ids is not None and f_tr is not None:
            out[f"{ids} F1 >= {trunc} F1 + 5"] = {"holds": f_ids >= f_tr + 5,
                                                  "margin": round(f_ids - f_tr - 5, 2)}
    t_ids, t_a = get("d_ids128", "train_seconds"), get("a_window384", "train_seconds")
    if t_ids is not None and t_a is not None:
        out["d_ids128 train time <= 1/2 a_window384"] = {"holds": t_ids <= t_a / 2,
                                                         "ratio": round(t_ids / t_a, 3)}
    return out


def main() -> None:
    global WORK
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-n", type=int, default=4000, help="training questions (subset)")
    parser.add_argument("--dev-n", type=int, default=1000, help="dev questions (subset)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=None,
                        help="the same number of optimiser steps for every row (overrides "
                             "--epochs): rows with more features per question (windows) then "
                             "see fewer epochs, rows with one feature per question more")
    parser.add_argument("--result", default="downstream.json", help="file in bench/results/")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--precision", default="auto", help="auto: bf16 on CPUs with native bf16")
    parser.add_argument("--model", default=None, help="reader init [default: all-MiniLM-L6-v2]")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--work", default=None, help="work folder (subsets, models) [default: "
                        "bench/work/downstream]")
    parser.add_argument("--features-only", action="store_true",
                        help="only count training/dev features and tokens per row (no training)")
    parser.add_argument("--scorers", default="bm25,sbert", help="the extraction's scorers")
    parser.add_argument("--one-row", default=None, help=argparse.SUPPRESS)
    args = add_smoke(parser).parse_args()
    bench = Bench.of(__file__, args.smoke)
    if bench.smoke:  # a tiny reader, a few questions, one step, the two 128-token window rows
        vars(args).update(train_n=16, dev_n=8, max_steps=1, batch_size=4, scorers="bm25",
                          rows="d_ids128,b_window128", model=str(bench.tiny_models()["encoder"]))
    WORK = Path(args.work or bench.work).resolve()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.one_row:
        print(json.dumps(run_row(args.one_row, args)))
        return
    info = prepare(bench, args)
    print(json.dumps(info), flush=True)
    if args.features_only:
        counts = count_features(args)
        base = counts["a_window384"]["train_tokens"]
        for r in counts.values():
            r["train_tokens_vs_a"] = round(r["train_tokens"] / base, 3)
        print("wrote", bench.write_result("downstream-features.json", {
            "setup": {"train_questions": info["train_questions"],
                      "dev_questions": info["dev_questions"],
                      "subset": "every k-th question of the file"},
            "extraction_retention": {k: v for k, v in info.items() if "retention" in k},
            "rows": counts}))
        return
    rows: dict[str, dict[str, Any]] = {}
    child = list(sys.argv[1:])
    for name in args.rows.split(","):
        path = WORK / "rows" / name / "result.json"
        if not path.exists():
            start = time.perf_counter()
            bench.child([sys.executable, __file__, *child, "--one-row", name],
                        lambda name=name: run_row(name, args))
            print(f"{name}: {time.perf_counter() - start:.0f}s", flush=True)
        rows[name] = json.loads(path.read_text())
        r = rows[name]
        print(f"{name:14} EM {r['exact_match']:6.2f} F1 {r['f1']:6.2f} train {r['train_seconds']:7.1f}s "
              f"features {r['train_features']:6d} peak {r['peak_rss_mb']:.0f} MB", flush=True)
    import ids_extract

    head = subprocess.run(["git", "-C", str(bench.root), "rev-parse", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    result = {
        "code": {"ids_extract": ids_extract.__file__, "git_head_at_finish": head},
        "environment": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "PYTHONPATH",
                                                       "OMP_NUM_THREADS")},
        "setup": {"train_file": str(bench.train), "dev_file": str(bench.dev), "train_questions":
                  info["train_questions"], "dev_questions": info["dev_questions"],
                  "subset": "every k-th question of the file (fixed, spread over all articles)",
                  "epochs": args.epochs, "max_steps": args.max_steps,
                  "budget": (f"{args.max_steps} optimiser steps per row" if args.max_steps
                             else f"{args.epochs} epoch(s) per row"),
                  "batch_size": args.batch_size, "learning_rate": args.lr,
                  "seed": args.seed, "precision": args.precision,
                  "model": args.model or "all-MiniLM-L6-v2 backbone + fresh QA head",
                  "scored_against": "original dev answers, by id",
                  "extraction": {k: v for k, v in info.items() if not k.endswith("_questions")}},
        "rows": rows,
        "acceptance": comparisons(rows),
    }
    print(json.dumps(result["acceptance"], indent=1))
    print("wrote", bench.write_result(args.result, result))


if __name__ == "__main__":
    main()
