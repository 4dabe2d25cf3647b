"""Classification benchmark (issue 11): does a small-``max_seq_length`` classifier do better on
IDS-extracted texts than with head truncation, head+tail, or windows, at the same step budget?

The all-MiniLM-L6-v2 backbone with a fresh head, on IMDB (binary sentiment) and BBC (5 topics),
at ``max_seq_length`` 64 and 128. Rows per dataset and length L (every row the same optimiser-step
budget, batch size, learning rate and seed):

    a_head{L}      head truncation (also scored reading the dev texts in windows: a_head{L}.windows_eval)
    b_headtail{L}  head+tail truncation (Sun et al. 2019; 1/4 head, 3/4 tail)
    c_windows{L}   every window a training example; dev read in windows, logits averaged
    d_full512      head at 512 (the ceiling; once per dataset)
    e_<scorer>{L}  IDS ``tokens:L`` texts (train extracted with split=train, dev with split=eval),
                   for ig, alone, alone_any (``alone`` with ``target="any"``: the same rule on
                   train and dev, no class chosen), label, lead, headtail, and the fusion
                   chosen on the tune slice

Splits, by id, deterministic (the data's test parts are kept aside by the data's owners):
IMDB ``train_<cls>_<N>``: dev N % 5 == 4 (1,000), tune N % 20 == 3 (250), train the rest (3,750);
BBC ``<class>_<NNN>``: dev N % 4 == 3 (445), tune N % 12 == 1 (149), train the rest (1,187);
emotion: dev = the official validation file, train = the train file. Nothing is trained or tuned
on dev; the tune slice (never trained on) picks the fusion weights.

The ``ig`` and ``alone`` scorers use one classifier per dataset, trained on the train part only:
row a_head{--scorer-length} (default 128) of the budget named by ``--scorer-budget`` (default this
run's); the scores of a unit do not depend on the level, so the 64 and the 128 rows share them.
Extraction time (scoring train, tune and dev, and selecting) is reported per IDS row; the scorer
classifier's own training time is row a's.

    python bench/classification.py                                   # 300 steps x 16 per row
    python bench/classification.py --epochs 1 --scorer-budget steps300 \\
        --result classification-epochs.json                          # one epoch per row
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cls_parts import (  # noqa: E402
    DATASETS,
    agreement,
    budget_tag,
    choose_fusion,
    emotion_report,
    extract_level,
    prepare,
    scores_for,
)
from _common import ROOT, write_result  # noqa: E402
from ids_extract.files import write_json  # noqa: E402
from ids_extract.models.runtime import cpu_flags, cpu_has_native_bf16  # noqa: E402

WORK = ROOT / "bench" / "work" / "classification"
SCORERS = ("ig", "alone", "alone_any", "label", "lead", "headtail")


def base_rows(lengths: list[int]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for n in lengths:
        rows[f"a_head{n}"] = {"L": n, "mode": "head", "data": "original", "eval": "head"}
        rows[f"b_headtail{n}"] = {"L": n, "mode": "headtail", "data": "original", "eval": "headtail"}
        rows[f"c_windows{n}"] = {"L": n, "mode": "windows", "data": "original", "eval": "windows"}
    rows["d_full512"] = {"L": 512, "mode": "head", "data": "original", "eval": "head"}
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
    folder = work / "rows" / budget_tag(args) / ds / name
    cfg = ClassifierConfig(spec["L"], spec["mode"])
    tcfg = TrainConfig(epochs=args.epochs, max_steps=args.max_steps or -1,
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
    path = Path(args.work) / "rows" / budget_tag(args) / ds / name / "result.json"
    if not path.exists():
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--one-row",
                        json.dumps([ds, name, spec])], check=True)
        print(f"{ds}/{name}: {time.perf_counter() - start:.0f}s", flush=True)
    row = json.loads(path.read_text(encoding="utf-8"))
    print(f"{ds:8} {name:16} acc {row['accuracy']:6.2f}  F1 {row['macro_f1']:6.2f}  "
          f"train {row['train_seconds']:7.1f}s  steps {row['steps']}", flush=True)
    return row


def run_dataset(ds: str, args: argparse.Namespace) -> dict[str, Any]:
    """Baselines, the scorer classifier's scores, the IDS texts and rows of one dataset."""
    lengths = [int(x) for x in args.lengths.split(",")]
    work = Path(args.work)
    base = base_rows(lengths)
    ceiling = base.pop("d_full512")  # the slowest row runs last: a cut-short run has the claims
    rows = {n: ensure_row(ds, n, spec, args) for n, spec in base.items()}
    if not args.scorer_budget and args.scorer_length not in lengths:  # the scorers' classifier
        ensure_row(ds, f"a_head{args.scorer_length}",
                   base_rows([args.scorer_length])[f"a_head{args.scorer_length}"], args)
    scorer_tag = args.scorer_budget or budget_tag(args)
    scorer_model = work / "rows" / scorer_tag / ds / f"a_head{args.scorer_length}" / "model"
    scores = scores_for(ds, args.scorers.split(","), scorer_model, work, args)
    ids: dict[str, Any] = {"scorer_model": str(scorer_model.relative_to(work)), "scoring": {}}
    for n in lengths:
        for scorer in args.scorers.split(","):
            folder = f"ids/{scorer_tag}/{scorer}-{n}"  # the texts depend on the scorer's model
            stats = extract_level(ds, scores, {scorer: 1.0}, n, folder, work)
            rows[f"e_{scorer}{n}"] = ensure_row(ds, f"e_{scorer}{n}", ids_row(folder, n), args)
            rows[f"e_{scorer}{n}"]["extraction"] = stats
        weights, tried = choose_fusion(ds, scores, n, work / "rows" / budget_tag(args) / ds /
                                       f"a_head{n}" / "model", args)
        chosen = "+".join(k for k, w in weights.items() if w)
        folder = f"ids/{scorer_tag}/fusion-{chosen}-{n}"
        stats = extract_level(ds, scores, weights, n, folder, work)
        rows[f"e_fusion{n}"] = ensure_row(ds, f"e_fusion{n}", ids_row(folder, n), args)
        rows[f"e_fusion{n}"]["extraction"] = {**stats, "weights": weights, "tune": tried}
    ids["scoring"] = {name: s.seconds for name, s in scores.items()}
    if not args.no_ceiling:
        rows["d_full512"] = ensure_row(ds, "d_full512", ceiling, args)
    return {"rows": rows, "ids": ids, "acceptance": acceptance(rows, lengths)}


def acceptance(rows: dict[str, Any], lengths: list[int]) -> dict[str, Any]:
    """The issue's comparisons: IDS at 128 against head+tail and head + 1.5; at 64 against head;
    the gap to the 512 ceiling."""
    out: dict[str, Any] = {}
    for n in lengths:
        ids = {k: r["accuracy"] for k, r in rows.items() if k.startswith("e_") and k.endswith(str(n))}
        if not ids:
            continue
        best = max(ids, key=lambda k: ids[k])
        a, b = rows[f"a_head{n}"]["accuracy"], rows[f"b_headtail{n}"]["accuracy"]
        out[f"L{n}"] = {"best_ids_row": best, "best_ids": ids[best],
                        "best_ids >= b_headtail": ids[best] >= b, "margin_b": round(ids[best] - b, 2),
                        "best_ids >= a_head + 1.5": ids[best] >= a + 1.5,
                        "margin_a": round(ids[best] - a, 2),
                        "gap_to_512": (round(rows["d_full512"]["accuracy"] - ids[best], 2)
                                       if "d_full512" in rows else "not run (--no-ceiling)")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="imdb,bbc,emotion")
    parser.add_argument("--lengths", default="64,128")
    parser.add_argument("--scorers", default=",".join(SCORERS))
    parser.add_argument("--max-steps", type=int, default=300, help="the same optimiser steps "
                        "for every row (0: use --epochs)")
    parser.add_argument("--epochs", type=float, default=None, help="one budget in epochs for "
                        "every row instead of --max-steps")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--precision", default="auto", help="auto: bf16 on CPUs with native bf16")
    parser.add_argument("--model", default=None, help="backbone [default: all-MiniLM-L6-v2]")
    parser.add_argument("--scorer-length", type=int, default=128, help="ig/alone read with "
                        "row a_head<this>")
    parser.add_argument("--scorer-budget", default=None, help="take that classifier from another "
                        "run's rows (e.g. steps300), so its scores are reused")
    parser.add_argument("--ig-steps", type=int, default=8)
    parser.add_argument("--ig-precision", default="bf16", help="bf16: 2x faster than fp32 here, "
                        "Spearman 0.999 with it on a smoke sample")
    parser.add_argument("--agreement-sample", type=int, default=40, help="dev texts on which "
                        "the cheap signals are compared with 50-step IG (0: skip)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip d_full512 (the slowest "
                        "row: ~30 min per dataset on 2 CPU cores)")
    parser.add_argument("--limit-train", type=int, default=None, help="smoke runs only")
    parser.add_argument("--limit-dev", type=int, default=None, help="smoke runs only")
    parser.add_argument("--work", default=str(WORK))
    parser.add_argument("--result", default="classification.json", help="file in bench/results/")
    parser.add_argument("--one-row", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs is not None:
        args.max_steps = 0
    args.epochs = args.epochs or 1.0
    Path(args.work).mkdir(parents=True, exist_ok=True)
    if args.one_row:
        ds, name, spec = json.loads(args.one_row)
        run_row(ds, name, spec, args)
        return
    splits = prepare(Path(args.work), args.limit_train, args.limit_dev)
    results: dict[str, Any] = {}
    for ds in args.datasets.split(","):
        if ds == "emotion":
            results[ds] = emotion_report(args, ensure_row, budget_tag(args))
        else:
            results[ds] = run_dataset(ds, args)
            if args.agreement_sample:
                results[ds]["agreement"] = agreement(ds, args)
    flags = cpu_flags()
    payload = {
        "setup": {"budget": (f"{args.max_steps} optimiser steps x batch {args.batch_size} per row"
                             if args.max_steps else f"{args.epochs:g} epoch(s) per row"),
                  "batch_size": args.batch_size, "learning_rate": args.lr, "seed": args.seed,
                  "precision": args.precision, "model": args.model or "all-MiniLM-L6-v2 + fresh head",
                  "splits": splits, "datasets": DATASETS, "ig_steps": args.ig_steps,
                  "ig_precision": args.ig_precision,
                  "scorer_classifier": f"a_head{args.scorer_length} of budget "
                                       f"{args.scorer_budget or budget_tag(args)}",
                  "fusion": "equal-weight z-scores of 2 or 3 scorers or of all; the one whose "
                            "texts the a_head<L> classifier reads best on the tune slice"},
        "cpu": {"native_bf16": cpu_has_native_bf16(),
                "flags": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile",
                                         "avx512_vnni", "fma"}), "flags_count": len(flags)},
        "results": results,
    }
    print(json.dumps({d: r.get("acceptance") for d, r in results.items()}, indent=1))
    print("wrote", write_result(args.result, payload))


if __name__ == "__main__":
    main()
