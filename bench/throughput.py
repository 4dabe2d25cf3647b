"""Throughput benchmark on SQuAD dev-v1.1: questions/second of the extraction for bm25, sbert,
bm25+sbert and the ``--fast`` profile (bm25+static; also with blingfire sentences) against the
reference pipeline (``../shared/bench/reference_pipeline.py``) in the same
run; encoder settings (torch fp32 / bf16, onnx fp32 / int8) with their top-1 recall; peak RSS; a
scaling series (dev repeated 1x, 2x, 4x with fresh ids); local engine vs Ray on a local instance.

    python bench/throughput.py [--limit N] [--parts speed,ray,scaling] [--smoke]

``--smoke``: 10 questions, bm25 alone (as the default row and as the fp32 base), no reference and
no warm-up; the scaling series on those questions.

Writes ``bench/results/throughput.json`` (speed), ``throughput-ray.json`` and
``throughput-scaling.json``, each with the command that made it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke, timed
from ids_extract.models.runtime import cpu_has_native_bf16

#: the runs of the speed part: name -> options of ``ids-extract extract``
RUNS = {
    "default (no options)": [],
    "bm25": ["--scorers", "bm25"],
    "--fast (bm25+static)": ["--fast"],
    "--fast --segmenter blingfire": ["--fast", "--segmenter", "blingfire"],
    "bm25+sbert torch fp32": ["--backend", "torch", "--precision", "fp32"],
    "bm25+sbert torch bf16": ["--backend", "torch", "--precision", "bf16"],
    "bm25+sbert onnx fp32": ["--backend", "onnx", "--precision", "fp32"],
}
SMOKE_RUNS = {"default (no options)": ["--scorers", "bm25"],
              "bm25+sbert torch fp32": ["--scorers", "bm25"]}


def repeated(bench: Bench, source: Path, times: int) -> Path:
    """``source`` repeated ``times`` times, question ids made unique."""
    path = bench.work / f"{source.stem}-x{times}.json"
    if path.exists():
        return path
    raw = json.loads(source.read_text(encoding="utf-8"))
    articles = []
    for r in range(times):
        for article in json.loads(json.dumps(raw["data"])):
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    qa["id"] = f"{qa['id']}-r{r}"
            articles.append(article)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"data": articles, "version": raw["version"]}), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N questions (smoke test)")
    ap.add_argument("--parts", default="speed,ray,scaling")
    ap.add_argument("--result", default="throughput.json", help="the speed part's file in "
                    "bench/results/ (one per CPU kind: the figures differ with the CPU's flags)")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    parts = set(args.parts.split(",")) - ({"ray"} if bench.smoke else set())
    limit = ["--limit", str(10 if bench.smoke else args.limit)] if args.limit or bench.smoke \
        else []
    bench.work.mkdir(parents=True, exist_ok=True)
    if not bench.smoke:
        warm_up(bench)
    if "speed" in parts:
        bench.write_result(args.result, speed(bench, limit))
    if "ray" in parts:
        local = bench.extract("local", bench.dev, *limit)
        ray = bench.extract("ray_local", bench.dev, "--engine", "ray", *limit)
        ray["note"] = "peak RSS is the driver's only: Ray workers are not its children"
        bench.write_result("throughput-ray.json", {
            "local": local, "ray_local": ray,
            "ray_over_local_seconds": round(ray["seconds"] / local["seconds"], 3)})
    if "scaling" in parts:
        source = bench.squad_slice(bench.dev, 10) if bench.smoke else bench.dev
        bench.write_result("throughput-scaling.json", scaling(bench, source))


def warm_up(bench: Bench) -> None:
    """Compile every library's bytecode once, for the reference and for us alike; distil the
    static model and export the ONNX models once (one-off costs, cached in $IDS_EXTRACT_HOME)."""
    dev, warm = str(bench.dev), str(bench.work / "warm")
    timed([sys.executable, str(bench.reference), dev, "--limit", "5"])
    for extra in (["--fast"], ["--backend", "onnx", "--precision", "fp32"],
                  ["--backend", "onnx", "--precision", "int8"]):
        timed([bench.cli, "extract", dev, "--out", warm, "--quiet", "--limit", "5", *extra,
               "--overwrite"])


def speed(bench: Bench, limit: list[str]) -> dict[str, Any]:
    """Questions/second of each scorer and encoder setting against the reference (none in a
    smoke run)."""
    results: dict[str, Any] = {}
    ref_qps = float("nan")
    if not bench.smoke:
        ref_s, ref_out, ref_rss = timed([sys.executable, str(bench.reference), str(bench.dev),
                                         *limit])
        ref = json.loads(ref_out)
        ref_qps = ref["questions"] / ref_s
        results["reference"] = {"seconds": round(ref_s, 2), "questions_per_s": round(ref_qps, 2),
                                "peak_rss_mib": ref_rss, "stage_s": ref["seconds"],
                                "top1": {k: v["top1"] for k, v in ref["top_k_recall_pct"].items()}}
        print(f"{'reference (bm25+minilm)':<28}{ref_s:>8.1f} s{ref_qps:>9.1f} q/s{ref_rss:>7} MiB")
    runs = dict(SMOKE_RUNS if bench.smoke else RUNS)
    if not cpu_has_native_bf16():  # emulated bf16 is several times slower than fp32: not a
        runs.pop("bm25+sbert torch bf16", None)  # setting anyone would choose on this CPU
    rows = {name: bench.extract(name.replace(" ", "_"), bench.dev, *extra, *limit)
            for name, extra in runs.items()}
    base_top1 = rows["bm25+sbert torch fp32"]["top1"]["fused"]
    for name, row in rows.items():
        row["speedup_vs_reference"] = round(row["questions_per_s"] / ref_qps, 3)
        if "sbert" in name or name.startswith("default"):
            row["top1_change_vs_fp32"] = round(row["top1"]["fused"] - base_top1, 2)
    for row in rows.values():  # the trade-off of each setting against the default command
        row["fused_top1_vs_default"] = round(
            row["top1"]["fused"] - rows["default (no options)"]["top1"]["fused"], 2)
    results["runs"] = rows
    default = rows["default (no options)"]
    results["acceptance_default"] = {
        "speedup_vs_reference": default["speedup_vs_reference"],
        "top1_change_vs_fp32": default["top1_change_vs_fp32"],
        "holds": default["speedup_vs_reference"] >= 3 and abs(default["top1_change_vs_fp32"]) <= 0.3}
    print(f"\nthe default command: {default['speedup_vs_reference']:.2f}x the reference's "
          f"questions/s, fused top-1 {default['top1_change_vs_fp32']:+.2f} vs torch fp32")
    return results


def scaling(bench: Bench, source: Path) -> dict[str, Any]:
    """Time and peak RSS of bm25+sbert (defaults; bm25 in a smoke run) on the source repeated
    1x, 2x, 4x."""
    rows = {}
    scorers = "bm25" if bench.smoke else "bm25,sbert"
    for times in (1, 2, 4):
        data = source if times == 1 else repeated(bench, source, times)
        rows[f"x{times}"] = bench.extract(f"scale_x{times}", data, "--scorers", scorers)
    base = rows["x1"]
    for row in rows.values():
        row["time_ratio_vs_x1"] = round(row["seconds"] / base["seconds"], 3)
        row["rss_ratio_vs_x1"] = round(row["peak_rss_mib"] / base["peak_rss_mib"], 3)
    print("scaling (time, rss) vs x1:", {k: (v["time_ratio_vs_x1"], v["rss_ratio_vs_x1"])
                                          for k, v in rows.items()})
    return {"scaling": rows}


if __name__ == "__main__":
    main()
