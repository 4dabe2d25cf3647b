"""The trained extractor's profiles (issue 27): the frontier of every subset of its signals on the
full SQuAD dev-v1.1, clean and stressed, against questions per second, with the reference
pipeline timed in the same run; the named profiles timed end to end; multi-passage inputs.

    python bench/extractor_profiles.py [--work bench/work/extractor] [--limit N]
                                       [--parts train,frontier,timing,passages,report]
    python bench/extractor_profiles.py --smoke   # a tiny extractor, 10 questions: timing, passages

1. **train**: ``ids-extract train-extractor`` (every signal: bm25, sbert, static, dpr, reader,
   cross, cross-small) into ``WORK/model``, resumed or reused; its ``profiles`` stage chose
   ``fast`` and ``best`` on held-out training articles (never dev).
2. **frontier**: every signal scores every unit of dev and of dev's stress set once (cached per
   signal in ``WORK/dev-scores``, timed); every subset of the signals is fitted on the held-out
   articles (its fusion, with its cascade applied exactly) and measured on dev: top-1/top-3
   clean, top-1 with the distractor, the loss, how often the distractor is ranked first; its
   questions per second are *estimated* as N / (the job's other work + the seconds its signals
   took here). The fusion objectives compared the same way, all signals.
3. **timing**: whole ``extract`` jobs on dev, each in its own process, against the reference
   pipeline run in the same session: the defaults, ``--fast``, and ``--extractor`` with each
   profile (and none): questions per second and the ratio to the reference.
4. **passages**: each dev question's paragraph among 4 other paragraphs of its article,
   shuffled (2,000 questions spread over dev): answer kept at ``tokens:128`` and ``tokens:256``
   and top-1, for the defaults and each profile.
5. **report**: ``bench/results/extractor-profiles.json`` and ``extractor-profiles.png`` (top-1
   clean and stressed against questions per second).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke, timed

B = Bench.of(__file__)  # set again in main() for --smoke
SIGNALS = "bm25,sbert,static,dpr,reader,cross,cross-small"
TARGETS = {"fast": {"speed_vs_reference": 4.0, "top1": 86.0, "distractor_first": 10.0},
           "best": {"top1": 90.0}}


def train(model: Path, limit: list[str]) -> dict[str, Any]:
    """Train, resume or reuse the extractor; its stage records."""
    from ids_extract.apps.stages import read_state

    subprocess.run([B.cli, "train-extractor", str(B.train), "--out", str(model), "--stages", SIGNALS,
                    "--quiet", *limit], check=True)
    return {n: {"wall_s": r.wall_s, "peak_rss_mib": r.peak_rss_mib, "result": r.result}
            for n, r in read_state(model).items()}


def dev_scores(model: Path, work: Path, limit: int | None) -> tuple[Any, dict[str, Any]]:
    """Every signal over every unit of dev and of its stress set (cached, timed)."""
    from ids_extract import load
    from ids_extract.pipeline.fit_fusion import sentence_labels
    from ids_extract.pipeline.pretrained import load_spec
    from ids_extract.pipeline.profiles import Scores
    from ids_extract.pipeline.robustness import distractor_units
    from ids_extract.pipeline.scoring import ScoreCache
    from ids_extract.pipeline.selector import Selector
    from ids_extract.scorers import build_scorer
    from ids_extract.squad.stress import stress_set
    from ids_extract.squad.units import answer_units, squad_units

    spec = load_spec(model)
    scorers = [build_scorer(n, **o) for n, o in spec.scorer_options().items()]
    dev = load(B.dev).limit(limit)
    stress = stress_set(dev, seed=0, segmenter=spec.segmenter, source=load(B.dev))
    clean_units = squad_units(dev, "eval", spec.segmenter)
    stress_units = squad_units(stress.dataset, "eval", spec.segmenter)
    cache = work / "dev-scores"
    selector = Selector.build(scorers)  # every unit read: each subset's cascade comes after
    clean = selector.score(clean_units, cache=cache, quiet=False).per_scorer
    stressed = selector.score(stress_units, cache=cache, quiet=False).per_scorer
    titles = [u.titles[p] for u in (clean_units, stress_units) for p in u.owner]
    scores = Scores(clean, stressed, sentence_labels(clean_units) + sentence_labels(stress_units),
                    titles, answer_units(clean_units), answer_units(stress_units),
                    distractor_units(stress_units, stress))
    timings = {s.name: ScoreCache(cache).timing(clean_units, s) for s in scorers}
    return scores, {"timings": timings, "questions": len(clean_units),
                    "stress_coverage_pct": round(100 * stress.coverage, 2)}


def frontier(model: Path, work: Path, limit: int | None, base_s: float) -> dict[str, Any]:
    """Every subset: fitted on the held-out articles, measured on dev (see the module doc)."""
    from ids_extract.apps.heldout import OBJECTIVES, HeldOut
    from ids_extract.pipeline.pretrained import load_spec
    from ids_extract.pipeline.profiles import (
        Objective,
        cascade_of,
        fitted,
        measured,
        seconds_per_item,
        subsets,
    )

    spec = load_spec(model)
    config = spec.info["config"]
    objective = Objective(config["fusion_clean_weight"], config["fusion_nonnegative"],
                          config["fusion_c"], config.get("fusion_multi_weight", 0.0))
    held = HeldOut(model, spec, config["seed"], config["train_file"], "auto", True).scores
    scores, info = dev_scores(model, work, limit)
    n = info["questions"]
    rows = []
    for subset in subsets(list(scores.clean)):
        cascade = cascade_of(subset, config["cascade_k"])
        fusion = fitted(held, subset, objective, cascade)
        signal_s = seconds_per_item(subset, cascade, scores, info["timings"]) * n
        rows.append({"signals": list(subset), "cascade": cascade.config() if cascade else None,
                     "learned": measured(fusion, scores, subset, cascade)["fused"],
                     "weighted": measured(None, scores, subset, cascade)["fused"],
                     "signal_seconds": round(signal_s, 2),
                     "questions_per_s_estimated": round(n / (base_s + signal_s), 2)})
    everything = list(scores.clean)
    cascade = cascade_of(everything, config["cascade_k"])
    objectives = {o.name: measured(fitted(held, everything, o, cascade), scores, everything,
                                   cascade)["fused"] for o in OBJECTIVES}
    print(f"frontier: {len(rows)} subsets measured on {n} dev questions")
    return {**info, "objective": objective.name, "base_seconds": round(base_s, 2), "rows": rows,
            "objectives_on_dev": objectives}


def job(cmd: list[str], out: Path) -> dict[str, Any]:
    """One whole extract job into a fresh folder: wall seconds, peak RSS, its manifest's
    figures."""
    shutil.rmtree(out, ignore_errors=True)
    seconds, _, rss = timed([*cmd, "--out", str(out), "--quiet"])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"seconds": round(seconds, 1), "peak_rss_mib": rss,
            "questions": manifest["input"]["questions"],
            "top_k_recall_pct": manifest["ranking"]["top_k_recall_pct"]}


def timing(model: Path, work: Path, limit: list[str], only: list[str] | None = None,
           before: dict[str, Any] | None = None) -> dict[str, Any]:
    """Whole jobs against the reference, in one session (see the module doc); with ``only``,
    the reference and those runs again, every other row kept from ``before`` (marked with the
    reference speed it was measured against)."""
    from ids_extract.pipeline.pretrained import load_spec

    ref_s, ref_out, ref_rss = timed([sys.executable, str(B.reference), str(B.dev), *limit])
    ref_qps = json.loads(ref_out)["questions"] / ref_s
    runs = {"defaults": [B.cli, "extract", str(B.dev), *limit],
            "--fast": [B.cli, "extract", str(B.dev), "--fast", *limit],
            "--scorers bm25": [B.cli, "extract", str(B.dev), "--scorers", "bm25", *limit]}
    runs["extractor"] = [B.cli, "extract", str(B.dev), "--extractor", str(model), *limit]
    for name in load_spec(model).profiles:
        runs[f"profile {name}"] = [*runs["extractor"], "--profile", name]
    out: dict[str, Any] = {"reference": {"seconds": round(ref_s, 1), "peak_rss_mib": ref_rss,
                                         "questions_per_s": round(ref_qps, 2)}}
    for name, cmd in runs.items():
        if only is not None and name not in only:
            if before and name in before:
                out[name] = {**before[name], "earlier_run": True, "earlier_reference_qps":
                             before[name].get("earlier_reference_qps",
                                              before["reference"]["questions_per_s"])}
            continue
        row = job(cmd, work / "jobs" / name.replace(" ", "-").strip("-"))
        row["questions_per_s"] = round(row["questions"] / row["seconds"], 2)
        row["speed_vs_reference"] = round(row["questions_per_s"] / ref_qps, 3)
        out[name] = row
        print(f"{name:>16}: {row['seconds']:7.1f} s, {row['questions_per_s']:7.1f} q/s, "
              f"{row['speed_vs_reference']:.2f}x the reference", flush=True)
    return out


def passages(model: Path, questions: int) -> dict[str, Any]:
    """Multi-passage dev questions: answer kept at tokens:128/256 and top-1, per profile."""
    from ids_extract import Extractor, load
    from ids_extract.pipeline.pretrained import load_spec
    from ids_extract.squad.passages import multi_passage

    data = multi_passage(load(B.dev).spread(questions), others=4, seed=0)
    levels = "tokens:128,tokens:256"
    makers = {"defaults": lambda: Extractor(levels=levels, quiet=True),
              "--fast": lambda: Extractor(["bm25", "static"], levels, quiet=True)}
    for name in load_spec(model).profiles:
        makers[f"profile {name}"] = (lambda n=name: Extractor.from_pretrained(
            model, levels, quiet=True, profile=n))
    out: dict[str, Any] = {"questions": data.num_questions, "others": 4}
    for name, make in makers.items():
        began = time.perf_counter()
        result = make().run(data)
        kept = {lv.stats.name: lv.stats.summary["retention_pct"] for lv in result.levels}
        out[name] = {"answer_kept_pct": kept, "top1": result.ranking.recall_pct["fused"]["top1"],
                     "seconds": round(time.perf_counter() - began, 1)}
        print(f"passages {name:>16}: kept {kept}, top-1 {out[name]['top1']}", flush=True)
    return out


def base_seconds(work: Path, limit: list[str], bm25_s: float) -> float:
    """The job's work besides scoring (read, segment, select, write): a whole bm25-only job
    minus bm25's own scoring seconds."""
    row = job([B.cli, "extract", str(B.dev), "--scorers", "bm25", *limit], work / "jobs" / "base")
    return max(row["seconds"] - bm25_s, 0.0)


def report(found: dict[str, Any], target: Path) -> dict[str, Any]:
    """The plot, and each profile against its targets."""
    from ids_extract.apps.ladder.plots import pyplot, save_figure

    rows, timing_rows = found["frontier"]["rows"], found.get("timing", {})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=120)
    x = [r["questions_per_s_estimated"] for r in rows]
    ax.scatter(x, [r["learned"]["top1"] for r in rows], s=10, label="clean (subset, estimated q/s)")
    ax.scatter(x, [r["learned"]["stress_top1"] for r in rows], s=10, marker="x",
               label="with distractor")
    ref = timing_rows.get("reference", {}).get("questions_per_s")
    if ref:
        ax.axvline(ref, color="grey", linestyle=":", label="reference pipeline")
        ax.axvline(4 * ref, color="grey", linestyle="--", label="4x the reference")
    for name, spec in found["profiles"].items():
        row = next(r for r in rows if r["signals"] == spec["scorers"])
        ax.annotate(name, (row["questions_per_s_estimated"], row["learned"]["top1"]),
                    fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("questions per second, whole extract job (estimated from per-signal times)")
    ax.set_ylabel("dev-v1.1 top-1 sentence recall")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, target)
    verdict = {}
    for name, goal in TARGETS.items():
        spec = found["profiles"].get(name)
        if spec is None:
            verdict[name] = "no such profile: none held its rules on the held-out articles"
            continue
        row = next(r for r in rows if r["signals"] == spec["scorers"])["learned"]
        speed = timing_rows.get(f"profile {name}", {}).get("speed_vs_reference")
        values = {"top1": row["top1"], "distractor_first": row["distractor_first"],
                  "speed_vs_reference": speed}
        verdict[name] = {**values, "meets": {k: _meets(values[k], v, k) for k, v in goal.items()}}
    return verdict


def _meets(value: float | None, goal: float, key: str) -> bool:
    if value is None:
        return False
    return value <= goal if key == "distractor_first" else value >= goal


def main() -> None:
    global B
    ap = add_smoke(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    ap.add_argument("--work", type=Path, default=None, help="[default: bench/work/extractor]")
    ap.add_argument("--limit", type=int, default=None, help="first N dev questions (smoke run)")
    ap.add_argument("--passage-questions", type=int, default=2000)
    ap.add_argument("--parts", default="train,frontier,timing,passages,report")
    ap.add_argument("--timing-runs", default=None, help="time only these runs again (comma-"
                    "separated: defaults, --fast, --scorers bm25, extractor, profile NAME); the "
                    "others keep their earlier rows")
    args = ap.parse_args()
    B = Bench.of(__file__, args.smoke)
    if args.smoke:  # a tiny extractor made without training (no profiles), 10 questions
        args.work, args.limit, args.parts = B.work, 10, "timing,passages"
    args.work = args.work or B.root / "bench" / "work" / "extractor"
    limit = ["--limit", str(args.limit)] if args.limit else []
    model = B.tiny_extractor() if args.smoke else args.work / "model"
    parts = args.parts.split(",")
    state_file = args.work / "profiles-bench.json"
    found: dict[str, Any] = (json.loads(state_file.read_text(encoding="utf-8"))
                             if state_file.is_file() else {})

    def save() -> None:
        state_file.write_text(json.dumps(found, indent=1), encoding="utf-8")

    if "train" in parts:
        found["training"] = train(model, limit)
        save()
    if "timing" in parts:
        only = args.timing_runs.split(",") if args.timing_runs else None
        found["timing"] = timing(model, args.work, limit, only, found.get("timing"))
        save()
    if "frontier" in parts:
        _, info = dev_scores(model, args.work, args.limit)
        base = base_seconds(args.work, limit, info["timings"]["bm25"]["seconds"])
        found["frontier"] = frontier(model, args.work, args.limit, base)
        save()
    if "passages" in parts:
        found["passages"] = passages(model, args.passage_questions if not args.limit
                                     else min(args.limit, args.passage_questions))
        save()
    if args.smoke:
        print(f"wrote {B.write_result('extractor-profiles.json', found)}")
    if "report" in parts:
        found["profiles"] = json.loads((model / "extractor.json").read_text())["profiles"]
        found["targets"] = TARGETS
        found["verdict"] = report(found, B.results / "extractor-profiles.png")
        print(json.dumps(found["verdict"], indent=1))
        path = B.write_result("extractor-profiles.json", found)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
