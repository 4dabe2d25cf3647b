"""The static (model2vec) scorer beside the others on SQuAD dev-v1.1: top-1/2/3 sentence recall alone
and fused with bm25, distilled (no training) and trained (``ids-extract train-static`` on
train-v1.1-subset44.json), whole-job speed against the default (bm25+sbert, int8 ONNX) in the same
run, and the encoders' own speed (sentences/s, in-process, warm). Ends with the default decision:
a static-based default must reach the default's fused top-1 within 0.3.

    python bench/static.py [--limit N] [--trained FOLDER] [--parts quality,encode] [--smoke]

Writes ``bench/results/static.json`` (command and CPU flags included). The trained model is made
in ``bench/work/static/trained`` when no ``--trained`` folder is given (minutes on a CPU; its
cost is recorded). ``--smoke``: 10 questions and tiny models (bm25 stands for the default, the
static models are distilled from a tiny BERT and trained two steps).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke, timed

#: a static-based default must be this close to the default's fused top-1 (issue 22)
WITHIN = 0.3
DEFAULT = "default (bm25+sbert, int8 ONNX)"


def trained_model(bench: Bench, folder: Path | None, base: list[str]) -> tuple[Path, dict[str, Any]]:
    """The trained static model and what training it cost (made here when not given; ``base``:
    train-static's options of a smoke run, which trains on the first questions)."""
    if folder is not None:
        meta = json.loads((folder / "ids_extract_static.json").read_text())
        return folder, {"given": str(folder), **meta}
    out = bench.work / "trained-model"  # not "trained": that is its extract row's folder
    train = bench.squad_slice(bench.train, 40) if bench.smoke else bench.train
    seconds, _, rss = timed([bench.cli, "train-static", str(train), "--out", str(out),
                             "--overwrite", "--quiet", *base])
    meta = json.loads((out / "ids_extract_static.json").read_text())
    print(f"train-static: {seconds:.1f} s wall, peak {rss} MiB, {meta['summary']}", flush=True)
    return out, {"command": f"ids-extract train-static {bench.train.name} --out {out.name}",
                 "wall_s": round(seconds, 1), "process_peak_rss_mib": rss, **meta}


def quality(bench: Bench, limit: list[str], trained: Path, distil_from: list[str]
            ) -> dict[str, Any]:
    """Whole-job runs on dev: the default, bm25 alone, and bm25+static distilled and trained
    (``distil_from``: a smoke run's ``--static-model``; there bm25 stands for the default)."""
    runs = {  # name: (work folder, options)
        DEFAULT: ("default", ["--scorers", "bm25"] if bench.smoke else []),
        "bm25": ("bm25", ["--scorers", "bm25"]),
        "--fast (bm25+static, distilled)": ("fast", ["--fast", *distil_from]),
        "bm25+static, trained": ("trained", ["--fast", "--static-model", str(trained)]),
    }
    if bench.smoke:  # bm25 stands for the default: one run for both rows, no warm-up
        del runs["bm25"]
    else:  # first use distils the static model (cached afterwards): done once before timing
        timed([bench.cli, "extract", str(bench.dev), "--out", str(bench.work / "warm"),
               "--quiet", "--limit", "5", "--fast", "--overwrite"])
    rows = {name: bench.extract(folder, bench.dev, *extra, *limit)
            for name, (folder, extra) in runs.items()}
    rows.setdefault("bm25", dict(rows[DEFAULT]))
    default = rows[DEFAULT]
    for row in rows.values():
        row["fused_top1_vs_default"] = round(row["top1"]["fused"] - default["top1"]["fused"], 2)
        row["speedup_vs_default"] = round(row["questions_per_s"] / default["questions_per_s"], 2)
    best = max(("--fast (bm25+static, distilled)", "bm25+static, trained"),
               key=lambda n: rows[n]["top1"]["fused"])
    gap = rows[best]["fused_top1_vs_default"]
    decision = {"best_static_setting": best, "fused_top1_vs_default": gap, "within": WITHIN,
                "becomes_default": gap >= -WITHIN}
    print(f"\nbest static-based setting: {best}, fused top-1 {gap:+.2f} vs the default: "
          f"{'becomes the default' if decision['becomes_default'] else 'the --fast profile'}")
    return {"runs": rows, "default_decision": decision}


def encoders(bench: Bench, trained: Path, paragraphs: int, sbert: dict[str, Any],
             distil_from: str | None) -> dict[str, Any]:
    """Sentences/s of each encoder alone on the sentences of the first dev paragraphs (warm,
    in-process): what the whole-job figures hide behind segmentation and selection."""
    from ids_extract import load
    from ids_extract.scorers import build_scorer
    from ids_extract.select.segment import split_sentences

    contexts = [p.context for a in load(bench.dev).articles for p in a.paragraphs][:paragraphs]
    sentences = sorted({c[s:e] for c in contexts for s, e in split_sentences(c, "pysbd")})
    out = {}
    for name, scorer in (("sbert int8 ONNX (default)", build_scorer("sbert", **sbert)),
                         ("static distilled", build_scorer("static", model=distil_from)),
                         ("static trained", build_scorer("static", model=str(trained)))):
        scorer.encode(sentences[:32])  # load and warm up
        start = time.perf_counter()
        scorer.encode(sentences)
        seconds = time.perf_counter() - start
        out[name] = {"sentences": len(sentences), "seconds": round(seconds, 3),
                     "sentences_per_s": round(len(sentences) / seconds, 1)}
        print(name, out[name], flush=True)
    base = out["sbert int8 ONNX (default)"]["seconds"]
    for row in out.values():
        row["time_vs_sbert"] = round(row["seconds"] / base, 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N questions (smoke test)")
    ap.add_argument("--trained", type=Path, default=None, help="a train-static folder to use")
    ap.add_argument("--parts", default="quality,encode")
    ap.add_argument("--paragraphs", type=int, default=500, help="encode part: dev paragraphs")
    ap.add_argument("--result", default="static.json")
    ap.add_argument("--note", default=None, help="recorded as is (e.g. how loaded the CPU was)")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    parts = set(args.parts.split(","))
    bench.work.mkdir(parents=True, exist_ok=True)
    tiny, base, sbert = None, [], {}
    if bench.smoke:
        tiny = str(bench.tiny_models()["sbert"])
        base = ["--base", tiny, "--max-steps", "2"]
        sbert = {"model": tiny, "backend": "torch", "device": "cpu"}
        args.limit, args.paragraphs = 10, 5
    trained, training = trained_model(bench, args.trained, base)
    payload: dict[str, Any] = {"note": args.note, "training": training}
    if "quality" in parts:
        payload |= quality(bench, ["--limit", str(args.limit)] if args.limit else [], trained,
                           ["--static-model", tiny] if tiny else [])
    if "encode" in parts:
        payload["encoders"] = encoders(bench, trained, args.paragraphs, sbert, tiny)
    print("wrote", bench.write_result(args.result, payload))


if __name__ == "__main__":
    sys.exit(main())
