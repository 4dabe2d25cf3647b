"""Cost first (issue 20): seconds per optimiser step and peak memory of each trainer of
``train-extractor`` on this machine, and the full run estimated from them, before the recipe is
chosen.

Each probe trains a few steps with the stage's own trainer and settings on the first questions of
the training file, in a child process of its own (its peak RSS is its own). The Trainer's run time
over the steps is divided by the steps (model load and tokenisation excluded); the full stage is
that times the steps of one epoch over the training part (the training file minus the 1,000
held-out questions), and the data preparation is not in it.

    python bench/extractor_costs.py            # writes bench/results/extractor-costs.json
    python bench/extractor_costs.py --smoke    # one step of each trainer, a tiny backbone
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke

PROBES: dict[str, dict[str, Any]] = {
    "reader-L6-256": {"trainer": "reader", "length": 256},
    "dpr-L6": {"trainer": "dpr"},
    "cross-L6-8cand-ctx1-160": {"trainer": "cross", "candidates": 8, "context": 1, "length": 160},
    "cross-L6-4cand-ctx0-128": {"trainer": "cross", "candidates": 4, "context": 0, "length": 128},
    "cross-L4-4cand-ctx0-128": {"trainer": "cross", "candidates": 4, "context": 0, "length": 128,
                                "layers": 4},
    "cross-L6-4cand-ctx1-160": {"trainer": "cross", "candidates": 4, "context": 1, "length": 160},
    "cross-L2-4cand-ctx0-64": {"trainer": "cross", "candidates": 4, "context": 0, "length": 64,
                               "layers": 2},
    "cross-L3-4cand-ctx0-64": {"trainer": "cross", "candidates": 4, "context": 0, "length": 64,
                               "layers": 3},
}


def probe(name: str, steps: int, train: Path, model: str | None = None) -> dict[str, Any]:
    """Train ``steps`` steps of one probe on ``train`` (from ``model``: None, the default
    backbone; a tiny one reads 128 tokens at most); its seconds per step, steps per full
    epoch, peak RSS."""
    from ids_extract import load
    from ids_extract.squad.units import squad_units

    spec = dict(PROBES[name])
    if model is not None and "length" in spec:
        spec["length"] = min(spec["length"], 128)
    data = load(train)
    questions = max(data.num_questions - 1000, 1)  # the training part of train-extractor's split
    out = Path(tempfile.mkdtemp(prefix=f"cost-{name}-"))
    sample = data.limit(16 * steps * 2)
    if spec["trainer"] == "reader":
        from ids_extract.models.qa.features import ReaderConfig
        from ids_extract.models.qa.train import TrainConfig, train_reader

        s = train_reader(sample, model, out, ReaderConfig(max_seq_length=spec["length"]),
                         TrainConfig(max_steps=steps, batch_size=16, learning_rate=1e-4,
                                     save_steps=10**6), quiet=True)
        per_step, full = s.train_seconds / s.steps, math.ceil(questions * s.features
                                                            / s.examples / 16)
    elif spec["trainer"] == "dpr":
        from ids_extract.models.dpr.train import TrainConfig, build_groups, train_retriever

        groups, _ = build_groups(data.limit(8 * steps * 6), "pysbd", True)
        groups = groups[:8 * steps]
        s = train_retriever(TrainConfig(str(train), backbone=model, epochs=1, heldout_questions=0,
                                        save_steps=10**6), out, quiet=True, groups=groups)
        all_groups = len(build_groups(data, "pysbd", True)[0])
        per_step, full = s.wall_s / s.steps, math.ceil(all_groups * questions
                                                       / data.num_questions / 8)
    else:
        from ids_extract.models.cross.folder import InputFormat
        from ids_extract.models.cross.train import TrainConfig, build_groups, train_cross

        groups = build_groups(squad_units(sample, "train"), spec["candidates"])
        s = train_cross(groups, out, backbone=model, fmt=InputFormat(spec["context"],
                                                                     spec["context"],
                                                                     spec["length"]),
                        config=TrainConfig(max_steps=steps, max_candidates=spec["candidates"],
                                           init_layers=spec.get("layers"), save_steps=10**6),
                        quiet=True)
        per_step, full = s.wall_s / s.steps, math.ceil(questions / 16)
    return {"probe": name, **spec, "steps_probed": steps, "seconds_per_step": round(per_step, 3),
            "steps_per_epoch": full, "estimated_epoch_min": round(per_step * full / 60, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--probes", default=",".join(PROBES))
    ap.add_argument("--train", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--model", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--result", default="extractor-costs.json",
                    help="file name under bench/results (another machine: another file)")
    args = add_smoke(ap).parse_args()
    if args.one:
        print(json.dumps(probe(args.one, args.steps, args.train, args.model)))
        return
    bench = Bench.of(__file__, args.smoke)
    args.train = bench.train
    if bench.smoke:  # one step of each trainer from a tiny backbone, on the first questions
        args.steps, args.train = 1, bench.squad_slice(bench.train, 120)
        args.model = str(bench.tiny_models()["encoder"])
        args.probes = "reader-L6-256,dpr-L6,cross-L6-4cand-ctx0-128"
    rows = []
    for name in args.probes.split(","):
        start = time.perf_counter()
        cmd = [sys.executable, __file__, "--steps", str(args.steps), "--train", str(args.train),
               *(["--model", args.model] if args.model else []), "--one", name]
        found = bench.child(cmd, lambda name=name: probe(name, args.steps, args.train,
                                                         args.model))
        rows.append({**found, "probe_wall_s": round(time.perf_counter() - start, 1)})
        print(rows[-1], flush=True)
    path = bench.write_result(args.result, {"probes": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
