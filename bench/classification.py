"""Classification benchmark (issues 11, 21): does a classifier reading only L tokens do better on
IDS-extracted texts than with head truncation, head+tail, or windows, at the same step budget,
and at what cost against the windowed reading of the whole text?

The all-MiniLM-L6-v2 backbone with a fresh head, on IMDB (binary sentiment) and BBC (5 topics) at
L = 64 and 128, and on emotion (6 classes, one-sentence texts cut into clauses) at L = 16 and 32.
Rows per dataset and length L (every row the same optimiser-step budget, batch size, learning rate
and seed):

    a_head{L}      head truncation (also scored reading the dev texts in windows: a_head{L}.windows_eval)
    b_headtail{L}  head+tail truncation (Sun et al. 2019; 1/4 head, 3/4 tail)
    c_windows{L}   every window a training example; dev read in windows, logits averaged
    d_full{C}      head at the ceiling C (512; 128 for emotion: every text fits); last, once per dataset
    e_<scorer>{L}  IDS ``tokens:L`` texts (train extracted with split=train, dev with split=eval),
                   for ig, alone, alone_any (``alone`` with ``target="any"``: the same rule on
                   train and dev, no class chosen), label, lead, headtail, and the fusion of the
                   label-free scorers chosen on the tune slice (e_fusion{L})

**Label-free** rows (alone_any, label, lead, headtail, their fusion) choose sentences without
knowing the class; ``ig`` and ``alone`` on dev first read the whole text in windows with the scorer
classifier to choose the class to explain, so they pay for that windowed reading before the short
one (their dev extraction time includes it).

**Cost first.** A cost cell runs before any row: seconds per optimiser step at every L (and the
ceiling), and seconds per text of every scorer, each in a child process
(``bench/results/classification-costs.json``, with the plan's estimate). IG scores only
``--ig-train-sample`` training texts (spread over the file), and the e_ig rows train on those.

Splits, by id, deterministic (the data's test parts are kept aside by the data's owners):
IMDB ``train_<cls>_<N>``: dev N % 5 == 4 (1,000), tune N % 20 == 3 (250), train the rest (3,750);
BBC ``<class>_<NNN>``: dev N % 4 == 3 (445), tune N % 12 == 1 (149), train the rest (1,187);
emotion: dev = the official validation file (2,000), tune = every 20th line of the train file
(800), train the rest (15,200). Nothing is trained or tuned on dev; the tune slice (never trained
on) picks the fusion.

The ``ig`` and ``alone`` scorers use one classifier per dataset, trained on the train part only:
row a_head{S} (S = 128; 32 for emotion). Every row is one child process that writes its own
result; a re-run skips finished rows (resumable cells).

    python bench/classification.py                                   # 300 steps x 16 per row
    python bench/classification.py --max-steps 150 --no-ceiling      # what fits one session
    python bench/classification.py --max-steps 150 --no-ceiling --pipeline-costs   # then, quiet

The IDS rows are those of ``--row-scorers`` (alone, alone_any, label, lead; ig when scored); the
``headtail`` scorer is scored for the fusion but gets no row (its texts are close to the
b_headtail baseline's). ``--steps-of emotion=300`` gives one dataset's rows more steps.
``--smoke``: BBC at 64 tokens, lead and headtail, a tiny backbone, one step a row, a few texts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from _cls_costs import one_cost, pipeline_costs, plan, run_costs
from _cls_parts import (
    DATASETS,
    agreement,
    budget_tag,
    choose_fusion,
    extract_level,
    prepare,
    split_scores,
    steps_of,
    text_profile,
)
from ids_extract.apps.benchkit import Bench, add_smoke
from ids_extract.files import write_json

SCORERS = ("alone", "alone_any", "label", "lead", "headtail")  # ig: --scorers ig,... (costly)
ROW_SCORERS = ("alone", "alone_any", "label", "lead", "ig")  # the rows the issue asks for
LABEL_FREE = ("alone_any", "label", "lead", "headtail")
LENGTHS = {"imdb": [64, 128], "bbc": [64, 128], "emotion": [16, 32]}
CEILING = {"imdb": 512, "bbc": 512, "emotion": 128}
SCORER_LENGTH = {"imdb": 128, "bbc": 128, "emotion": 32}


def base_rows(lengths: list[int], ceiling: int) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for n in lengths:
        rows[f"a_head{n}"] = {"L": n, "mode": "head", "data": "original", "eval": "head"}
        rows[f"b_headtail{n}"] = {"L": n, "mode": "headtail", "data": "original", "eval": "headtail"}
        rows[f"c_windows{n}"] = {"L": n, "mode": "windows", "data": "original", "eval": "windows"}
    rows[f"d_full{ceiling}"] = {"L": ceiling, "mode": "head", "data": "original", "eval": "head",
                                "steps": "ceiling"}
    return rows


def ids_row(folder: str, n: int) -> dict[str, Any]:
    return {"L": n, "mode": "head", "data": folder, "eval": "head"}


def run_row(ds: str, name: str, spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Train and score one row (in a child process: its peak memory is its own)."""
    import resource

    from ids_extract.models.classifier.evaluate import evaluate_classifier
    from ids_extract.models.classifier.features import ClassifierConfig
    from ids_extract.models.classifier.folder import load_classifier
    from ids_extract.models.classifier.train import train_classifier
    from ids_extract.models.training import TrainConfig
    from ids_extract.textcls import load

    work = Path(args.work)
    data = work / "data" if spec["data"] == "original" else work / spec["data"]
    folder = work / "rows" / budget_tag(args, ds) / ds / name
    cfg = ClassifierConfig(spec["L"], spec["mode"])
    steps = args.ceiling_steps if spec.get("steps") == "ceiling" and spec["L"] > 128 else \
        steps_of(args, ds)
    tcfg = TrainConfig(epochs=args.epochs, max_steps=steps or -1,
                       batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
                       precision=args.precision, save_steps=100_000, logging_steps=50)
    summary = train_classifier(load(data / f"{ds}-train.jsonl"), args.model, folder / "model",
                               cfg, tcfg, quiet=True)
    clf = load_classifier(str(folder / "model"), "auto", args.precision)
    dev = load(data / f"{ds}-dev.jsonl")
    metrics, _ = evaluate_classifier(clf, dev, spec["eval"], batch_size=64)
    result = {"row": name, **spec, "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
              "train_seconds": round(summary.train_seconds, 1), "steps": summary.steps,
              "train_texts": summary.examples, "train_features": summary.features,
              "eval_seconds": metrics["seconds"], "eval_features": metrics["features"],
              "dev_texts": len(dev),
              "precision": summary.precision, "device": summary.device,
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "metrics": metrics}
    if name.startswith("a_head"):
        windows, _ = evaluate_classifier(clf, dev, "windows", batch_size=64)
        result["windows_eval"] = {k: windows[k] for k in ("accuracy", "macro_f1", "seconds",
                                                          "features")}
    write_json(result, folder / "result.json")
    return result


def ensure_row(ds: str, name: str, spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    path = Path(args.work) / "rows" / budget_tag(args, ds) / ds / name / "result.json"
    if not path.exists():
        start = time.perf_counter()
        args.bench.child([sys.executable, __file__, *sys.argv[1:], "--one-row",
                          json.dumps([ds, name, spec])], lambda: run_row(ds, name, spec, args))
        print(f"{ds}/{name}: {time.perf_counter() - start:.0f}s", flush=True)
    row = json.loads(path.read_text(encoding="utf-8"))
    print(f"{ds:8} {name:16} acc {row['accuracy']:6.2f}  F1 {row['macro_f1']:6.2f}  "
          f"train {row['train_seconds']:7.1f}s  steps {row['steps']}", flush=True)
    return row


def run_dataset(ds: str, args: argparse.Namespace) -> dict[str, Any]:
    """Baselines, the scorer classifier's scores, the IDS texts and rows of one dataset."""
    lengths, ceiling = args.lengths_of[ds], args.ceiling_of[ds]
    scorer_length = SCORER_LENGTH[ds] if SCORER_LENGTH[ds] in lengths else max(lengths)
    work, tag = Path(args.work), budget_tag(args, ds)
    base = base_rows(lengths, ceiling)
    top = base.pop(f"d_full{ceiling}")  # the slowest row runs last: a cut-short run has the claims
    rows = {n: ensure_row(ds, n, spec, args) for n, spec in base.items()}
    scorer_model = work / "rows" / tag / ds / f"a_head{scorer_length}" / "model"
    names = args.scorers.split(",")
    scores = split_scores(ds, names, scorer_model, work, args)
    fusion_of: dict[int, dict[str, float]] = {}
    for n in lengths:
        for scorer in [x for x in names if x in args.row_scorers.split(",")]:
            folder = f"ids/{tag}/{scorer}-{n}"  # the texts depend on the scorer's model
            stats = extract_level(ds, scores, {scorer: 1.0}, n, folder, work)
            rows[f"e_{scorer}{n}"] = {**ensure_row(ds, f"e_{scorer}{n}", ids_row(folder, n), args),
                                      "extraction": stats}
        free = [x for x in names if x in LABEL_FREE]
        weights, tried = choose_fusion(ds, scores, n, work / "rows" / tag / ds / f"a_head{n}" /
                                       "model", free, args)
        chosen = "+".join(k for k, w in weights.items() if w)
        fusion_of[n] = weights
        folder = f"ids/{tag}/fusion-{chosen}-{n}"
        stats = extract_level(ds, scores, weights, n, folder, work)
        rows[f"e_fusion{n}"] = {**ensure_row(ds, f"e_fusion{n}", ids_row(folder, n), args),
                                "extraction": {**stats, "weights": weights, "tune": tried}}
    if not args.no_ceiling:
        rows[f"d_full{ceiling}"] = ensure_row(ds, f"d_full{ceiling}", top, args)
    measured = (pipeline_costs(ds, lengths, scorer_model, names, fusion_of, work, tag, args)
                if args.pipeline_costs else None)
    return {"profile": text_profile(ds, work), "scorer_model": str(scorer_model.relative_to(work)),
            "scoring_seconds": {f"{split}/{name}": round(sec, 1) for split, part in scores.items()
                                for name, sec in part.seconds.items()},
            "pipeline_costs": measured or "not measured: --pipeline-costs, on a quiet machine",
            "rows": rows, "claims": claims(rows, lengths, ceiling, measured)}


def _ms(row: dict[str, Any], key: str = "metrics") -> float:
    """Milliseconds per dev text of a row's classification (its own eval pass)."""
    return round(1000 * row[key]["seconds"] / max(row["dev_texts"], 1), 2)


def _pipeline_cost(row: dict[str, Any]) -> dict[str, float]:
    """Extract-then-classify per dev text: the dev part's scoring and selection, then the short
    classifier's reading."""
    ext = row["extraction"]["dev_extraction_ms_per_text"]
    return {"extract_ms": ext, "classify_ms": _ms(row), "pipeline_ms": round(ext + _ms(row), 2)}


def claims(rows: dict[str, Any], lengths: list[int], ceiling: int,
           measured: dict[str, Any] | None = None) -> dict[str, Any]:
    """The issue's question per L: does the best label-free IDS row beat head and head+tail at
    equal steps, and what do extract-then-classify and the windowed reading cost per dev text
    (the quiet ``measured`` cell when there is one, else the rows' own timings)?"""
    out: dict[str, Any] = {}
    for n in lengths:
        ids = {k: r for k, r in rows.items() if k.startswith("e_") and k.endswith(f"{n}")
               and k[2:-len(str(n))] in (*LABEL_FREE, "fusion", "ig", "alone")}
        if not ids:
            continue
        free = {k: r for k, r in ids.items() if k[2:-len(str(n))] in (*LABEL_FREE, "fusion")}
        best_free = max(free, key=lambda k: free[k]["accuracy"])
        best_any = max(ids, key=lambda k: ids[k]["accuracy"])
        head, headtail = rows[f"a_head{n}"], rows[f"b_headtail{n}"]
        windows = rows[f"c_windows{n}"]

        out[f"L{n}"] = {
            "best_label_free_row": best_free, "best_label_free_acc": free[best_free]["accuracy"],
            "head_acc": head["accuracy"], "headtail_acc": headtail["accuracy"],
            "beats_head": free[best_free]["accuracy"] > head["accuracy"],
            "beats_headtail": free[best_free]["accuracy"] > headtail["accuracy"],
            "margin_head": round(free[best_free]["accuracy"] - head["accuracy"], 2),
            "margin_headtail": round(free[best_free]["accuracy"] - headtail["accuracy"], 2),
            "best_any_ids_row": best_any, "best_any_ids_acc": ids[best_any]["accuracy"],
            "windows_row_acc": windows["accuracy"],
            "head_classifier_in_windows_acc": head["windows_eval"]["accuracy"],
            "cost_ms_per_dev_text": ({
                "source": f"quiet cost cell over {measured['texts']} dev texts",
                "best_label_free": measured["ids"][best_free],
                "best_any": measured["ids"][best_any],
                "windows_row_reading": measured["windows"][f"c_windows{n} (windows)"],
                "head_classifier_reading_windows": measured["windows"][f"a_head{n} (windows)"]}
                if measured else {
                "source": "the rows' own timings (not on a quiet machine)",
                "best_label_free": _pipeline_cost(ids[best_free]),
                "best_any": _pipeline_cost(ids[best_any]),
                "windows_row_reading": _ms(windows),
                "head_classifier_reading_windows": _ms(head, "windows_eval"),
                "head": _ms(head)}),
            "gap_to_ceiling": (round(rows[f"d_full{ceiling}"]["accuracy"] - ids[best_any]["accuracy"],
                                     2) if f"d_full{ceiling}" in rows else "not run (--no-ceiling)")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="bbc,emotion,imdb")
    parser.add_argument("--scorers", default=",".join(SCORERS))
    parser.add_argument("--row-scorers", default=",".join(ROW_SCORERS), help="the scorers that "
                        "get an IDS row of their own (the others only join the fusion: the "
                        "headtail scorer's texts are close to the b_headtail baseline's)")
    parser.add_argument("--max-steps", type=int, default=300, help="the same optimiser steps "
                        "for every row (0: use --epochs)")
    parser.add_argument("--steps-of", default="", help="per-dataset steps, e.g. emotion=300 "
                        "(every row of that dataset gets them)")
    parser.add_argument("--epochs", type=float, default=None, help="one budget in epochs for "
                        "every row instead of --max-steps")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--precision", default="auto", help="auto: bf16 on CPUs with native bf16")
    parser.add_argument("--model", default=None, help="backbone [default: all-MiniLM-L6-v2]")
    parser.add_argument("--ig-steps", type=int, default=8)
    parser.add_argument("--ig-precision", default="bf16", help="bf16: 2x faster than fp32 here, "
                        "Spearman 0.999 with it on a smoke sample")
    parser.add_argument("--ig-train-sample", type=int, default=600, help="training texts IG "
                        "scores (spread over the file); the e_ig rows train on them")
    parser.add_argument("--agreement-sample", type=int, default=0, help="dev texts on which "
                        "the cheap signals are compared with 50-step IG (0: skip; ~6 s a text)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the d_full rows")
    parser.add_argument("--ceiling-steps", type=int, default=100, help="optimiser steps of the "
                        "512-token ceiling (~10 s a step on 2 cores: 300 would be 50 min a "
                        "dataset); the ceiling is then a lower bound")
    parser.add_argument("--pipeline-costs", action="store_true", help="measure extract-then-"
                        "classify against the windowed reading on 200 dev texts (run it on a "
                        "quiet machine, after the rows)")
    parser.add_argument("--costs-only", action="store_true", help="run the cost cell, print the "
                        "plan, stop")
    parser.add_argument("--limit-train", type=int, default=None, help="smoke runs only")
    parser.add_argument("--limit-dev", type=int, default=None, help="smoke runs only")
    parser.add_argument("--lengths", default=None, help="L for every dataset, e.g. 64 "
                        "[default: 64,128; 16,32 for emotion]")
    parser.add_argument("--work", default=None, help="[default: bench/work/classification]")
    parser.add_argument("--result", default="classification.json", help="file in bench/results/")
    parser.add_argument("--one-row", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--one-cost", default=None, help=argparse.SUPPRESS)
    args = add_smoke(parser).parse_args()
    args.bench = bench = Bench.of(__file__, args.smoke)
    if bench.smoke:  # BBC at 64 tokens, the position scorers, a tiny backbone, one step a row
        vars(args).update(datasets="bbc", lengths="64", scorers="lead,headtail",
                          row_scorers="lead", no_ceiling=True, max_steps=1, batch_size=4,
                          limit_train=24, limit_dev=10,
                          model=str(bench.tiny_models()["encoder"]))
    args.work = args.work or str(bench.work)
    args.lengths_of = {d: [int(n) for n in args.lengths.split(",")] if args.lengths else LENGTHS[d]
                       for d in LENGTHS}
    # the ceiling's length (its cost is probed even without its rows): a tiny backbone reads 128
    args.ceiling_of = {d: min(c, 128) if bench.smoke else c for d, c in CEILING.items()}
    if args.epochs is not None:
        args.max_steps = 0
    args.epochs = args.epochs or 1.0
    Path(args.work).mkdir(parents=True, exist_ok=True)
    if args.one_row:
        ds, name, spec = json.loads(args.one_row)
        run_row(ds, name, spec, args)
        return
    if args.one_cost:
        one_cost(json.loads(args.one_cost), args)
        return
    datasets = args.datasets.split(",")
    splits = prepare(bench, Path(args.work), datasets, args.limit_train, args.limit_dev)
    probed = list(dict.fromkeys([*args.scorers.split(","), *([] if bench.smoke else ["ig"])]))
    costs = run_costs(args, {d: args.lengths_of[d] for d in datasets},  # IG's cost even when
                      {d: args.ceiling_of[d] for d in datasets}, probed)  # left out (not a smoke's)
    estimate = plan_of(costs, datasets, splits, args)
    bench.write_result(args.result.replace(".json", "-costs.json"),
                       {"costs": costs, "plan": estimate})
    print(json.dumps(estimate, indent=1), flush=True)
    if args.costs_only:
        return
    results: dict[str, Any] = {}
    for ds in datasets:
        results[ds] = run_dataset(ds, args)
        if args.agreement_sample and ds != "emotion":
            results[ds]["agreement"] = agreement(ds, Path(args.work) / "rows" / budget_tag(args, ds)
                                                 / ds / f"a_head{SCORER_LENGTH[ds]}" / "model", args)
        bench.write_result(args.result, payload(args, splits, costs, estimate, results))
    print(json.dumps({d: r.get("claims") for d, r in results.items()}, indent=1))


def plan_of(costs: dict[str, Any], datasets: list[str], splits: dict[str, Any],
            args: argparse.Namespace) -> dict[str, Any]:
    """The estimate of the whole run from the cost cell (before any row)."""
    own = [x for x in args.scorers.split(",") if x in args.row_scorers.split(",")]
    n_rows = len(own) + 4  # a, b, c, the IDS rows and the fusion per L
    rows = {ds: [(r, n, steps_of(args, ds) or 300) for n in args.lengths_of[ds]
                 for r in range(n_rows)]
            + [("ceiling", args.ceiling_of[ds], 0 if args.no_ceiling else args.ceiling_steps)]
            for ds in datasets}
    texts = {ds: {s: (splits[f"{ds}-tune"]["texts"] + splits[f"{ds}-dev"]["texts"]
                      + (args.ig_train_sample if s == "ig" else splits[f"{ds}-train"]["texts"]))
                  for s in args.scorers.split(",")} for ds in datasets}
    return plan(costs, rows, texts, args.max_steps or 300)


def payload(args: argparse.Namespace, splits: dict[str, Any], costs: dict[str, Any],
            estimate: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    return {
        "setup": {"budget": (f"{args.max_steps} optimiser steps x batch {args.batch_size} per row"
                             + (f" ({args.steps_of} for every row of those)" if args.steps_of
                                else "")
                             if args.max_steps else f"{args.epochs:g} epoch(s) per row"),
                  "batch_size": args.batch_size, "learning_rate": args.lr, "seed": args.seed,
                  "precision": args.precision, "model": args.model or "all-MiniLM-L6-v2 + fresh head",
                  "splits": splits, "datasets": DATASETS, "ig_steps": args.ig_steps,
                  "ig_precision": args.ig_precision, "ig_train_sample": args.ig_train_sample,
                  "lengths": args.lengths_of, "ceiling": args.ceiling_of,
                  "scorer_classifier": {d: f"a_head{n}" for d, n in SCORER_LENGTH.items()},
                  "fusion": "equal-weight z-scores of 2 or 3 label-free scorers or of all four; "
                            "the one whose texts the a_head<L> classifier reads best on the tune "
                            "slice"},
        "costs": costs, "plan": estimate, "results": results,
    }


if __name__ == "__main__":
    main()
