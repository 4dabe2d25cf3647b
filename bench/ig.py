"""IG cost benchmark: every cheaper IG setting against the plain 50-step reference, in one run.

On a fixed sample of dev-v1.1 questions (every k-th question, so every article is represented),
the reference (captum IG, 50 Gauss-Legendre steps, start and end targets, fp32, windows batched
by ``--batch-size``) and each cheaper setting score the same questions. Per setting: wall time,
speed-up over the reference, Spearman rank correlation of each question's sentence scores with
the reference (mean and median over questions with ≥ 2 sentences), how often the top sentence is
the same, the share of questions the cascade sent to IG, and top-1/2/3 sentence recall against
the gold answers (the extractor's definition).

    flock /tmp/ids-heavy.lock python bench/ig.py --reader-model MODEL [--sample 100]
    python bench/ig.py --smoke          # a tiny reader, 4 questions

Writes ``bench/results/ig.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from ids_extract.analysis.sanity import spearman_per_question
from ids_extract.apps.benchkit import Bench, add_smoke
from ids_extract.scorers import build_scorer
from ids_extract.select.stats import RankingStats
from ids_extract.select.units import ScoringBatch
from ids_extract.squad.read import load
from ids_extract.squad.units import answer_units, squad_units

REFERENCE: dict[str, Any] = {"n_steps": 50}
SETTINGS: dict[str, dict[str, Any]] = {
    "steps8-sum-bf16": {"n_steps": 8, "target": "sum", "precision": "bf16"},
    "steps6-sum-bf16": {"n_steps": 6, "target": "sum", "precision": "bf16"},
    "steps10-sum-bf16": {"n_steps": 10, "target": "sum", "precision": "bf16"},
    "steps8-sum-bf16-b16": {"n_steps": 8, "target": "sum", "precision": "bf16", "batch_size": 16},
    "steps16": {"n_steps": 16},
    "steps8": {"n_steps": 8},
    "steps4": {"n_steps": 4},
    "steps8-sum": {"n_steps": 8, "target": "sum"},
    "steps4-sum": {"n_steps": 4, "target": "sum"},
    "steps8-bf16": {"n_steps": 8, "precision": "bf16"},
    "gxi": {"mode": "gxi"},
    "cascade-steps50": {"n_steps": 50, "cascade": "bm25,sbert", "cascade_margin": 1.0},
    "cascade-steps8": {"n_steps": 8, "cascade": "bm25,sbert", "cascade_margin": 1.0},
}


def batches(seg: Any, size: int) -> list[ScoringBatch]:
    """Scoring batches of about ``size`` questions, whole contexts (the extractor's grouping)."""
    return [batch for _, batch in seg.batches(size)]


def run(name: str, options: dict[str, Any], parts: list[ScoringBatch], model: str,
        batch_size: int) -> tuple[list[np.ndarray], float, float]:
    scorer = build_scorer("ig", **{"model": model, "device": "cpu", "batch_size": batch_size,
                                   **options})
    scores: list[np.ndarray] = []
    sent = 0.0
    start = time.perf_counter()
    for part in parts:
        scores.extend(scorer.score(part))
        sent += scorer.last_ig_fraction * len(part.queries)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - start
    print(f"{name}: {seconds:.1f} s", flush=True)
    return scores, seconds, sent / max(len(scores), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reader-model", default=None, help="a trained reader (required but in a "
                    "smoke run, which uses a tiny one)")
    ap.add_argument("--data", type=Path, default=None, help="[default: dev-v1.1]")
    ap.add_argument("--sample", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=8, help="windows per captum call")
    ap.add_argument("--only", default=None, help="comma-separated setting names")
    ap.add_argument("--out", default="ig.json")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    if bench.smoke:  # a tiny reader, 4 questions, two settings
        args.reader_model, args.sample, args.only = str(bench.tiny_models()["qa"]), 4, "gxi,steps4"
    if not args.reader_model:
        ap.error("--reader-model is required")
    args.data = args.data or bench.dev

    dataset = load(args.data).spread(args.sample)
    seg = squad_units(dataset)
    parts = batches(seg, 64)
    names = args.only.split(",") if args.only else list(SETTINGS)
    ref, ref_s, _ = run("reference", REFERENCE, parts, args.reader_model, args.batch_size)
    all_scores = {"reference": ref}
    rows: dict[str, dict[str, Any]] = {"reference": {"options": REFERENCE, "seconds": ref_s,
                                                     "seconds_per_question": ref_s / len(ref)}}
    for name in names:
        scores, seconds, share = run(name, SETTINGS[name], parts, args.reader_model,
                                     args.batch_size)
        rho = spearman_per_question(ref, scores)
        valid = rho[~np.isnan(rho)]
        same_top = np.mean([int(np.argmax(a)) == int(np.argmax(b)) for a, b in zip(ref, scores,
                                                                                    strict=True)])
        rows[name] = {"options": SETTINGS[name], "seconds": round(seconds, 2),
                      "seconds_per_question": seconds / len(scores),
                      "speedup": round(ref_s / seconds, 2),
                      "spearman_mean": round(float(valid.mean()), 4),
                      "spearman_median": round(float(np.median(valid)), 4),
                      "questions_compared": int(valid.size),
                      "same_top1_pct": round(100 * float(same_top), 2),
                      "ig_share": round(share, 4)}
        all_scores[name] = scores
        print(name, rows[name], flush=True)
    recall = RankingStats.measure(answer_units(seg), all_scores).recall_pct
    for name, r in recall.items():
        rows[name]["recall_pct"] = r
    fast = [n for n in names if rows[n]["speedup"] >= 20 and rows[n]["spearman_mean"] >= 0.9]
    result = {"data": args.data.name, "questions": len(ref), "sample": "every k-th question",
              "reader_model": args.reader_model, "device": "cpu",
              "reference": "captum LayerIntegratedGradients, 50 gausslegendre steps, start+end "
                           "targets, fp32", "settings": rows,
              "acceptance_fast_settings": fast}
    print("settings >= 20x faster at Spearman >= 0.9:", fast or "none")
    print("wrote", bench.write_result(args.out, result))


if __name__ == "__main__":
    main()
