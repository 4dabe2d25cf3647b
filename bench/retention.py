"""Retention benchmark on SQuAD dev-v1.1: top-1/2/3 sentence recall of bm25, sbert and bm25+sbert,
retention and compression of each default level, and wall time, against the reference pipeline
(``../shared/bench/reference_pipeline.py``) run on the same file in the same run.

    python bench/retention.py [--limit N] [--precision auto|fp32|bf16] [--smoke]

``--smoke``: 20 questions, bm25 alone, no reference run.

Writes ``bench/results/retention-<file stem>.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke, timed


def budget_check(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Every example of every ``tokens:L`` level counted with the real tokenizer (question +
    context + special tokens): how many exceed L (there must be none), the largest, and the
    level's own cut and lost-by-cut counts."""
    from ids_extract import load
    from ids_extract.models.hub import load_tokenizer

    tok = load_tokenizer(None)
    checked = {}
    for lv in manifest["levels"]:
        if not lv["level"].startswith("tokens:"):
            continue
        limit = int(lv["level"].split(":")[1].split("@")[0])
        ds = load(out / lv["files"]["squad"]["path"])
        pairs = [(qa.question, p.context) for _, p, qa in ds.iter_qas()]
        lengths = [len(ids) for ids in tok([q for q, _ in pairs], [c for _, c in pairs])["input_ids"]]
        checked[lv["name"]] = {"examples": len(lengths), "over_limit": sum(n > limit for n in lengths),
                               "max_tokens": max(lengths), "limit": limit,
                               "cut": lv["stats"].get("cut"), "lost_by_cut": lv["stats"].get("lost_by_cut")}
        print(f"{lv['name']}: {checked[lv['name']]}")
    return checked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="[default: dev-v1.1]")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--result", default=None, help="results file name (default retention-<stem>.json)")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    args.data = args.data or bench.dev
    scorers = ["--scorers", "bm25"] if bench.smoke else []
    if bench.smoke:
        args.limit = 20
    limit = ["--limit", str(args.limit)] if args.limit else []

    reference = {"top_k_recall_pct": {}, "seconds": None}
    ref_s = float("nan")
    if not bench.smoke:  # the reference loads MiniLM: not a smoke's work
        ref_s, ref_out, _ = timed([sys.executable, str(bench.reference), str(args.data), *limit])
        reference = json.loads(ref_out)
        print(f"reference pipeline: {ref_s:.1f} s wall")

    out = bench.work
    shutil.rmtree(out, ignore_errors=True)  # no score cache: time the whole job
    cmd = [bench.cli, "extract", str(args.data), "--out", str(out), "--quiet", "--precision",
           args.precision, *scorers, *limit]
    ours_s, _, _ = timed(cmd)
    manifest = json.loads((out / "manifest.json").read_text())
    valid, _, _ = timed([cmd[0], "validate", str(out)])
    print(f"ids-extract ({'bm25' if scorers else 'bm25+sbert'}, default levels): {ours_s:.1f} s "
          "wall")

    ref_recall = reference["top_k_recall_pct"]
    ours = manifest["ranking"]["top_k_recall_pct"]
    pairs = {"bm25": "bm25", "sbert": "minilm", "bm25+sbert": "bm25+minilm"}
    ours_named = {name: ours[key] for name, key in (("bm25", "bm25"), ("sbert", "sbert"),
                                                    ("bm25+sbert", "fused")) if key in ours}
    print(f"\n{'scorer':<12}{'ours top1/2/3':>24}{'reference top1/2/3':>26}")
    for name, ref_name in pairs.items():
        if name not in ours_named or ref_name not in ref_recall:
            continue
        o, r = ours_named[name], ref_recall[ref_name]
        print(f"{name:<12}{o['top1']:>8.2f}{o['top2']:>8.2f}{o['top3']:>8.2f}"
              f"{r['top1']:>10.2f}{r['top2']:>8.2f}{r['top3']:>8.2f}")
    print(f"\n{'level':<16}{'retention %':>12}{'compression':>12}{'p50':>7}{'kept tokens':>12}")
    levels = {}
    for lv in manifest["levels"]:
        s = lv["stats"]
        levels[lv["name"]] = {k: s[k] for k in ("retention_pct", "compression", "kept_tokens",
                                                "kept_sentences_mean", "made_unanswerable")}
        print(f"{lv['name']:<16}{s['retention_pct']:>12.2f}{s['compression']['mean']:>12.3f}"
              f"{s['compression']['p50']:>7.3f}{s['kept_tokens']['mean']:>12.1f}")
    budgets = budget_check(out, manifest)
    sha256 = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in sorted(out.iterdir()) if p.is_file() and p.name != "manifest.json"}
    ratio = ours_s / ref_s
    print(f"\nwall time: ours {ours_s:.1f} s, reference {ref_s:.1f} s, ratio {ratio:.3f}")
    path = bench.write_result(args.result or f"retention-{args.data.stem}.json", {
        "data": args.data.name, "questions": manifest["input"]["questions"],
        "config": manifest["config"],
        "top_k_recall_pct": {"ours": ours_named, "reference": {n: ref_recall[r]
                                                                for n, r in pairs.items()
                                                                if r in ref_recall}},
        "levels": levels,
        "wall_s": {"ours": round(ours_s, 2), "reference": round(ref_s, 2),
                   "ratio_ours_over_reference": round(ratio, 3)},
        "reference_stage_s": reference["seconds"],
        "validate": "passed",
        "level_sha256": sha256,
        "tokens_levels_checked": budgets,
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
