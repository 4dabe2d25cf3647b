"""The extractor that ships with the package (``squad-en``, issue 32): its profiles on the full
SQuAD dev-v1.1 against the reference pipeline in the same run, on the stress set, on
multi-passage inputs, ``compress()`` latency, what int8 costs, and the frontier that says why a
target is missed.

    python bench/pretrained.py [--trained models/squad-en] [--shipped squad-en]
                               [--parts frontier,int8,timing,avx2,passages,compress,report]
    python bench/pretrained.py --smoke     # a tiny extractor, 10 questions

1. **frontier**: every signal of the trained folder (the one ``package-extractor`` shipped:
   with ``backend=auto`` it runs the same int8 graphs) scores every unit of dev and of dev's
   stress set once (cached, timed); every subset is fitted on the held-out training articles
   and measured on dev (``bench/extractor_profiles.py``'s frontier).
2. **int8**: top-1 of each transformer signal alone, in torch fp32 and in int8 ONNX, on
   ``--int8-questions`` dev questions spread over the file.
3. **timing**: whole ``extract`` jobs on dev, each in its own process, against the reference
   pipeline run in the same session: the default (no option: the shipped ``fast`` profile), the
   paper's ``--scorers bm25,sbert``, and each shipped profile.
4. **passages**: each dev question's paragraph among 4 other paragraphs of its article (2,000
   questions): answer kept at ``tokens:128``/``tokens:256`` and top-1.
   **avx2**: the same jobs on ``--avx2-limit`` questions with PyTorch held at AVX2
   (:data:`AVX2_ENV`: oneDNN, MKL and ATen's own kernels), the reference capped alike, as on a CPU
   with no AVX-512, bf16 or VNNI.
5. **compress**: ``bench/compress.py`` for the shipped profiles at about 1k tokens, budget
   ``tokens:256``, in-process, warm (``compress-pretrained.json``).
6. **report**: ``bench/results/pretrained.json``: the fields of issue 32 and the targets met
   or not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import extractor_profiles as ep  # the frontier, the jobs and the passages, shared
from ids_extract.apps.benchkit import Bench, add_smoke, recall, scores_for

B = Bench.of(__file__)
TARGETS = {"fast": {"speed_vs_reference": 4.0, "top1": 86.0, "distractor_first": 10.0,
                    "compress_p95_ms": 50.0},
           "best": {"top1": 90.0, "distractor_first": 3.0, "multi_passage_kept_128": 97.0}}
AVX2_NOTE = ("every figure was measured on the machine in 'machine'; the 'avx2' part (and "
             "speed_vs_reference_avx2) ran every job with PyTorch held at AVX2 (AVX2_ENV: no "
             "bf16, fp32 as on an AVX2-only CPU), the reference capped alike. The int8 ONNX "
             "graphs need no more than AVX2: onnxruntime's integer kernels run on AVX2 and use "
             "VNNI/AMX where the CPU has them; it has no cap, so in the avx2 part they still used "
             "this CPU's, and on a real AVX2-only CPU the shipped profiles' ratios are lower.")

#: what holds PyTorch at AVX2 in a child process: oneDNN, MKL's GEMMs and ATen's vectorised
#: kernels, each capped by its own variable (``cpu_flags`` reads the first: precision ``auto``
#: then picks fp32, as on an AVX2-only CPU)
AVX2_ENV = {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
            "ATEN_CPU_CAPABILITY": "avx2"}
ONNX_NOTE = ("onnxruntime has no such cap: its int8 kernels (MLAS) choose AVX-512/VNNI/AMX where "
             "the CPU has them, so the shipped int8 graphs ran at this machine's ISA in the avx2 "
             "part too; on an AVX2-only CPU they run on AVX2 kernels, which onnxruntime ships for "
             "every x86-64 CPU with AVX2")


def int8_cost(trained: Path, questions: int) -> dict[str, Any]:
    """Top-1 of each transformer signal alone in torch fp32 and in int8 ONNX."""
    from ids_extract import load
    from ids_extract.pipeline.pretrained import load_spec
    from ids_extract.scorers import build_scorer
    from ids_extract.squad.units import squad_units

    spec = load_spec(trained)
    units = squad_units(load(B.dev).spread(questions), "eval", spec.segmenter)
    options = spec.scorer_options()
    out: dict[str, Any] = {"questions": len(units)}
    for name in ("dpr", "cross", "cross-small"):
        if name not in options:
            continue
        row = {}
        for backend, precision in (("torch", "fp32"), ("onnx", "int8")):
            scorer = build_scorer(name, **{**options[name], "backend": backend,
                                           "precision": precision})
            found, seconds = scores_for(units, scorer, B.work / "int8-scores")
            top = recall(units, {name: found}, [name])
            row[f"{backend}-{precision}"] = {"top1": top["top1"], "top3": top["top3"],
                                             "seconds": round(seconds, 1)}
        row["int8_minus_fp32_top1"] = round(row["onnx-int8"]["top1"] - row["torch-fp32"]["top1"],
                                            2)
        out[name] = row
        print(f"int8 {name}: {row}", flush=True)
    return out


def timing(shipped: str, limit: list[str]) -> dict[str, Any]:
    """The reference, then each run in a process of its own (see the module doc)."""
    ref_s, ref_out, ref_rss = ep.timed([sys.executable, str(B.reference), str(B.dev), *limit])
    ref_qps = json.loads(ref_out)["questions"] / ref_s
    runs = {"default": [B.cli, "extract", str(B.dev), *limit],
            "paper (--scorers bm25,sbert)": [B.cli, "extract", str(B.dev), "--scorers",
                                             "bm25,sbert", *limit]}
    from ids_extract.pipeline.pretrained import load_spec

    for name in load_spec(shipped).profiles:
        runs[f"profile {name}"] = [B.cli, "extract", str(B.dev), "--extractor", shipped,
                                   "--profile", name, *limit]
    out: dict[str, Any] = {"reference": {"seconds": round(ref_s, 1), "peak_rss_mib": ref_rss,
                                         "questions_per_s": round(ref_qps, 2)}}
    for name, cmd in runs.items():
        row = ep.job(cmd, B.work / "jobs" / name.split(" ")[-1].strip("()-"))
        row["questions_per_s"] = round(row["questions"] / row["seconds"], 2)
        row["speed_vs_reference"] = round(row["questions_per_s"] / ref_qps, 3)
        out[name] = row
        print(f"{name:>30}: {row['seconds']:7.1f} s, {row['speed_vs_reference']:.2f}x the "
              "reference", flush=True)
    return out


def timing_avx2(shipped: str, questions: int) -> dict[str, Any]:
    """:func:`timing` with every child process's PyTorch held at AVX2 (:data:`AVX2_ENV`)."""
    saved = {k: os.environ.get(k) for k in AVX2_ENV}
    os.environ.update(AVX2_ENV)
    try:
        found = timing(shipped, ["--limit", str(questions)])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return {"env": AVX2_ENV, "questions": questions, "onnx": ONNX_NOTE, **found}


def compress_latency(shipped: str, requests: int) -> dict[str, Any]:
    """``bench/compress.py`` for the shipped profiles at about 1k tokens (its own result)."""
    name = "compress-pretrained.json"
    cmd = [sys.executable, str(B.root / "bench" / "compress.py"), "--profiles", "default",
           "--sizes", "1000", "--long-repeats", "0", "--startup-runs", "0", "--extractor",
           shipped, "--extractor-requests", str(requests), "--result", name,
           *(["--smoke"] if B.smoke else [])]
    subprocess.run(cmd, check=True)
    return {"result": f"bench/results/{name}",
            **json.loads((B.results / name).read_text(encoding="utf-8"))}


def stage_minutes(trained: Path) -> dict[str, float]:
    from ids_extract.apps.stages import read_state

    return {n: round(r.wall_s / 60, 1) for n, r in read_state(trained).items()}


def report(found: dict[str, Any], shipped: str) -> dict[str, Any]:
    """The fields of issue 32, read from the parts, and each target met or not."""
    from ids_extract.apps.package_extractor import folder_mb
    from ids_extract.pipeline.pretrained import load_spec

    spec = load_spec(shipped)
    rows = found.get("frontier", {}).get("rows", [])
    timing_rows, avx2 = found.get("timing", {}), found.get("avx2", {})
    passages = found.get("passages", {})
    latency = found.get("compress", {})  # bench/compress.py's rows, by profile
    profiles = {}
    for name, chosen in spec.profiles.items():
        row = next((r for r in rows if r["signals"] == chosen["scorers"]), None)
        figures = (row or {}).get("learned" if chosen["fusion"]["method"] == "learned"
                                  else "weighted", {})
        run = timing_rows.get(f"profile {name}", {})
        profiles[name] = {
            "signals": chosen["scorers"], "cascade": chosen.get("cascade"),
            "fusion": chosen["fusion"]["method"], "targets_met_heldout": chosen["targets_met"],
            "top1": figures.get("top1"), "top3": figures.get("top3"),
            "stress_top1": figures.get("stress_top1"),
            "distractor_first": figures.get("distractor_first"),
            "top1_whole_job": run.get("top_k_recall_pct", {}).get("fused", {}).get("top1"),
            "speed_vs_reference": run.get("speed_vs_reference"),
            "speed_vs_reference_avx2": avx2.get(f"profile {name}", {}).get("speed_vs_reference"),
            "multi_passage_kept_128": passages.get(f"profile {name}", {}).get(
                "answer_kept_pct", {}).get("D1-tokens128"),
            "compress_p95_ms": latency.get(f"extractor:{name}", {}).get("1000 tokens", {}).get(
                "p95_ms"),
        }
    verdict = {name: {k: ep._meets(profiles.get(name, {}).get(k), v,
                                   "distractor_first" if k in ("distractor_first",
                                                               "compress_p95_ms") else k)
                      for k, v in goal.items()} for name, goal in TARGETS.items()}
    return {"shipped": shipped, "size_mb": folder_mb(spec.folder),
            "models_mb": spec.info.get("packaged", {}).get("sizes_mb"),
            "profiles": profiles,
            "compress_p95_ms": profiles.get("fast", {}).get("compress_p95_ms"),
            "default_vs_paper": {k: timing_rows.get(k) for k in
                                 ("default", "paper (--scorers bm25,sbert)")},
            "avx2_speed_vs_reference": {k: v.get("speed_vs_reference") for k, v in avx2.items()
                                        if isinstance(v, dict) and "speed_vs_reference" in v},
            "targets": TARGETS, "meets": verdict, "note_cpu": AVX2_NOTE}


def main() -> None:
    global B
    ap = add_smoke(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    ap.add_argument("--trained", type=Path, default=None, help="[default: models/squad-en]")
    ap.add_argument("--shipped", default="squad-en")
    ap.add_argument("--limit", type=int, default=None, help="first N dev questions")
    ap.add_argument("--int8-questions", type=int, default=2000)
    ap.add_argument("--passage-questions", type=int, default=2000)
    ap.add_argument("--avx2-limit", type=int, default=3000,
                    help="dev questions of the avx2 part (the first N)")
    ap.add_argument("--compress-requests", type=int, default=30)
    ap.add_argument("--parts", default="frontier,int8,timing,passages,compress,report")
    args = ap.parse_args()
    B = ep.B = Bench.of(__file__, args.smoke)
    if args.smoke:  # a tiny extractor made without training, 10 questions
        args.trained = B.tiny_extractor()
        args.shipped, args.limit = str(args.trained), 10
        args.int8_questions = args.passage_questions = args.compress_requests = 10
        args.parts = "timing,passages,report"
    trained = args.trained or B.root / "models" / "squad-en"
    limit = ["--limit", str(args.limit)] if args.limit else []
    parts = args.parts.split(",")
    state_file = B.work / "pretrained-bench.json"
    found: dict[str, Any] = (json.loads(state_file.read_text(encoding="utf-8"))
                             if state_file.is_file() else {})

    def save() -> None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps(found, indent=1), encoding="utf-8")

    if "frontier" in parts:
        _, info = ep.dev_scores(trained, B.work, args.limit)
        base = ep.base_seconds(B.work, limit, info["timings"]["bm25"]["seconds"])
        found["frontier"] = ep.frontier(trained, B.work, args.limit, base)
        save()
    if "int8" in parts:
        found["int8"] = int8_cost(trained, args.int8_questions)
        save()
    if "timing" in parts:
        found["timing"] = timing(args.shipped, limit)
        save()
    if "avx2" in parts:
        found["avx2"] = timing_avx2(args.shipped, args.limit or args.avx2_limit)
        save()
    if "passages" in parts:
        found["passages"] = ep.passages(Path(args.shipped) if args.smoke else args.shipped,
                                        args.passage_questions)
        save()
    if "compress" in parts:
        found["compress"] = compress_latency(args.shipped, args.compress_requests)
        save()
    if "report" in parts:
        found["training_minutes"] = stage_minutes(trained) if not args.smoke else {}
        found.pop("summary", None)
        found.update(report(found, args.shipped))  # issue 32's fields, at the top level
        print(json.dumps(found["meets"], indent=1))
        print(f"wrote {B.write_result('pretrained.json', found)}")


if __name__ == "__main__":
    main()
