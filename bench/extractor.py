"""The trained extractor (issue 13) on the full SQuAD dev-v1.1: every signal and the fusion, clean
and on the stress set, training cost per stage, and extraction throughput against the reference.

    python bench/extractor.py [--work bench/work/extractor] [--limit N] [--train-option=--x=y ...]
    python bench/extractor.py --smoke     # a tiny extractor made without training, 10 questions

1. **Train**: ``ids-extract train-extractor train-v1.1-subset44.json --out WORK/model`` in its own
   process (wall time and peak RSS of the whole run; per stage from ``stages.json``). Re-running
   the bench resumes the training at its first unfinished stage; a finished extractor is reused
   and its recorded stage times are reported (``reused``). Dev is never used there.
2. **Reference**: ``../shared/bench/reference_pipeline.py`` on dev (bm25 + MiniLM, its levels),
   timed in the same run.
3. **Extraction with the trained extractor**: ``ids-extract extract DEV --extractor WORK/model``
   into a fresh folder (the whole job: scoring with every signal and the default levels), timed:
   questions/s against the reference. Its score cache gives every question's scores per signal,
   from which the clean top-1/2/3 of each signal, the extractor's fusion and an equal-weight
   fusion are computed (checked against the manifest's own figures).
4. **Stress set**: every dev question with a distractor (the question restated with other
   entities, numbers, a key noun and a fake answer from other dev articles) inserted at a random
   sentence boundary (seed 0): top-1 with the distractor, and how often the distractor itself is
   ranked first, for every signal and fusion. Scores are cached per signal in WORK/stress-scores,
   so a killed bench resumes there.

Writes ``bench/results/extractor.json`` (with the exact command, the machine and its CPU flags).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ids_extract import Extractor, load
from ids_extract.apps.benchkit import Bench, add_smoke, timed
from ids_extract.apps.stages import read_state
from ids_extract.models.runtime import cpu_flags, cpu_has_native_bf16
from ids_extract.pipeline.robustness import compare, distractor_units, fused
from ids_extract.pipeline.selector import Selector
from ids_extract.select.cascade import candidates
from ids_extract.select.fusion import WeightedFusion
from ids_extract.squad.model import SquadDataset
from ids_extract.squad.stress import stress_set
from ids_extract.squad.units import answer_units, squad_units

ACCEPT = {"top1": 90.0, "top3": 98.5, "stress_loss": 3.0, "distractor_first": 10.0,
          "training_minutes": 60.0}  # issue 20; an AVX2-only machine may take 2x the minutes


def train(bench: Bench, model: Path, extra: list[str]) -> dict[str, Any]:
    """Train (or resume, or reuse) the extractor; per-stage records and the run's own cost."""
    reused = (model / "extractor.json").is_file()
    seconds, _, rss = timed([bench.cli, "train-extractor", str(bench.train), "--out", str(model),
                             "--quiet", *extra])
    stages = {n: {"wall_s": r.wall_s, "peak_rss_mib": r.peak_rss_mib,
                  "peak_gpu_mib": r.peak_gpu_mib, "result": r.result}
              for n, r in read_state(model).items()}
    total = sum(s["wall_s"] for s in stages.values())
    print(f"training: {total / 60:.1f} min over the stages ({'reused' if reused else 'this run'}"
          f": {seconds:.0f} s, peak {rss} MiB)")
    return {"command": f"ids-extract train-extractor {bench.train.name} --out {model} "
                       f"{' '.join(extra)}",
            "reused": reused, "this_run_wall_s": round(seconds, 1), "this_run_peak_rss_mib": rss,
            "stages": stages, "stage_wall_s_total": round(total, 1),
            "training_minutes": round(total / 60, 1)}


def extraction(bench: Bench, model: Path, work: Path, limit: list[str]
               ) -> tuple[dict[str, Any], Path]:
    """The whole extract job with the trained extractor against the reference pipeline (not in
    a smoke run)."""
    ref_s, ref = float("nan"), {"questions": float("nan")}
    if not bench.smoke:
        ref_s, ref_out, ref_rss = timed([sys.executable, str(bench.reference), str(bench.dev),
                                         *limit])
        ref = json.loads(ref_out)
    out = work / "dev-extract"
    shutil.rmtree(out, ignore_errors=True)  # no score cache: time the whole job
    ours_s, _, ours_rss = timed([bench.cli, "extract", str(bench.dev), "--extractor", str(model),
                                 "--out", str(out), "--quiet", *limit])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    n = manifest["input"]["questions"]
    row = {"questions": n, "reference_s": round(ref_s, 1),
           "reference_peak_rss_mib": None if bench.smoke else ref_rss,
           "reference_questions_per_s": round(ref["questions"] / ref_s, 2),
           "extractor_s": round(ours_s, 1), "extractor_peak_rss_mib": ours_rss,
           "extractor_questions_per_s": round(n / ours_s, 2),
           "speed_vs_reference": round((n / ours_s) / (ref["questions"] / ref_s), 3),
           "manifest_top_k_recall_pct": manifest["ranking"]["top_k_recall_pct"]}
    print(f"extraction: {n / ours_s:.1f} q/s with the trained extractor, reference "
          f"{ref['questions'] / ref_s:.1f} q/s")
    return row, out


def shard_scores(out: Path, names: list[str]) -> dict[str, list[np.ndarray]]:
    """Every question's scores per signal from the extract run's shard cache, in file order."""
    shards = sorted(out.glob(".cache/shards-*/shard-*.npz"))
    per: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for path in shards:
        with np.load(path) as z:
            bounds = np.cumsum(np.concatenate([[0], z["lengths"]]))
            for n in names:
                flat = z[f"scorer:{n}"]
                per[n] += [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return per


def cascade_recall(clean: dict[str, list[np.ndarray]], names: list[str], ex: Extractor,
                   gold: list[set[int]]) -> dict[str, Any]:
    """What the cascade's k costs: how often the answer unit is among the top-k units of the
    cheap signals (the ceiling of what the expensive one can lift), for k = 1..8, on clean dev."""
    if ex.cascade is None:
        return {"cascade": None}
    cheap = {n: clean[n] for n in names if n not in ex.cascade.expensive}
    answerable = [q for q, g in enumerate(gold) if g]
    recall = {}
    for k in range(1, 9):
        chosen = candidates(cheap, k)
        hit = sum(1 for q in answerable if gold[q] & set(chosen[q].tolist()))
        recall[f"k{k}"] = round(100 * hit / max(len(answerable), 1), 2)
    print(f"cascade: answer unit among the cheap top-k: {recall}")
    return {**ex.cascade.config(), "cheap_signals": list(cheap), "answer_in_cheap_top_k_pct": recall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=None, help="[default: bench/work/extractor]")
    ap.add_argument("--limit", type=int, default=None, help="first N dev questions")
    ap.add_argument("--train-option", action="append", default=[],
                    help="passed on to train-extractor, e.g. --train-option=--device=cuda")
    ap.add_argument("--result", default="extractor.json")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    args.work = args.work or bench.work
    if bench.smoke:  # no training: a tiny extractor; 10 questions, pools from 300
        args.limit, model = 10, bench.tiny_extractor()
        training: dict[str, Any] = {"smoke": "not trained: a tiny extractor",
                                    "training_minutes": 0.0}
    else:
        model = args.work / "model"
        training = train(bench, model, args.train_option)
    limit = ["--limit", str(args.limit)] if args.limit else []
    throughput, out = extraction(bench, model, args.work, limit)

    ex = Extractor.from_pretrained(model, "top-k:1", quiet=True)
    names = [s.name for s in ex.scorers]
    dev: SquadDataset = load(bench.dev).limit(args.limit)
    clean_units = squad_units(dev, "eval", ex.segmenter)
    clean = shard_scores(out, names)
    assert len(clean[names[0]]) == len(clean_units), "shard cache and dev questions differ"
    pools = load(bench.dev).limit(300 if bench.smoke else None)  # pools: all dev
    stress = stress_set(dev, seed=0, segmenter=ex.segmenter, source=pools)
    print(f"stress set: {100 * stress.coverage:.1f} % of the questions got a distractor")
    stress_units = squad_units(stress.dataset, "eval", ex.segmenter)
    began = time.perf_counter()
    stressed = Selector(ex.scorers, ex.fuser, ex.cascade).score(
        stress_units, cache=args.work / "stress-scores", quiet=False).per_scorer
    stress_s = time.perf_counter() - began
    for table in (clean, stressed):
        table["fused (extractor)"] = fused(table, ex.fuser)
        table["fused (equal weights)"] = fused(table, WeightedFusion(names))
    rows = compare(clean, stressed, answer_units(clean_units), answer_units(stress_units),
                   distractor_units(stress_units, stress))
    for name, row in rows.items():
        print(f"{name:<24} top-1 {row['top1']:6.2f}  top-3 {row['top3']:6.2f}  with distractor "
              f"{row['stress_top1']:6.2f}  distractor first {row['distractor_first']:5.2f} %")
    best = rows["fused (extractor)"]
    singles = {n: rows[n]["stress_top1"] for n in names}
    best_single = max(singles, key=lambda n: singles[n])
    limit_min = ACCEPT["training_minutes"] * (1 if cpu_has_native_bf16() else 2)
    acceptance = {"top1": best["top1"] >= ACCEPT["top1"], "top3": best["top3"] >= ACCEPT["top3"],
                  "stress_loss": best["top1_loss"] <= ACCEPT["stress_loss"],
                  "distractor_first": best["distractor_first"] <= ACCEPT["distractor_first"],
                  f"fused_stress_top1 >= best single ({best_single})":
                      best["stress_top1"] >= singles[best_single],
                  f"training <= {limit_min:g} min": training["training_minutes"] <= limit_min}
    cascade = cascade_recall(clean, names, ex, answer_units(clean_units))
    import torch

    path = bench.write_result(args.result, {
        "dev": {"file": bench.dev.name, "questions": len(clean_units), "limit": args.limit,
                "rows": rows, "stress": {"seed": 0, "with_distractor": len(stress.inserted),
                                         "coverage_pct": round(100 * stress.coverage, 2),
                                         "scoring_s": round(stress_s, 1)}},
        "targets": ACCEPT, "acceptance": acceptance, "training": training,
        "cascade": cascade,
        "throughput": throughput, "extractor": json.loads((model / "extractor.json").read_text()),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "cpu_flags": sorted(cpu_flags())})
    print(f"acceptance: {acceptance}\nwrote {path}")


if __name__ == "__main__":
    main()
