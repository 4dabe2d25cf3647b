"""The cost cell of ``bench/classification.py``, measured before any row is planned: seconds per
optimiser step (and peak memory) of the classifier at every length the rows use, and seconds per
text of every scorer, each in a child process of its own so that its peak memory is its own.
The plan of the rows (``plan``) is worked out from these figures."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from ids_extract.files import write_json

PROBE_STEPS = 12


def step_cost(ds: str, length: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Train ``PROBE_STEPS`` steps at ``length`` on ``ds``'s training part: seconds per step
    (the Trainer's own run time over the steps, load and tokenisation excluded) and peak RSS."""
    from ids_extract.models.classifier.features import ClassifierConfig
    from ids_extract.models.classifier.train import train_classifier
    from ids_extract.models.training import TrainConfig
    from ids_extract.textcls import load

    data = load(work / "data" / f"{ds}-train.jsonl")
    data = data.select(list(range(0, len(data), max(len(data) // 400, 1))))  # 400 texts, all classes
    folder = work / "costs" / f"{ds}-{length}"
    cfg = TrainConfig(max_steps=PROBE_STEPS, batch_size=args.batch_size, learning_rate=args.lr,
                      seed=args.seed, precision=args.precision, save_steps=100_000)
    start = time.perf_counter()
    summary = train_classifier(data, args.model, folder, ClassifierConfig(length, "head"), cfg,
                               quiet=True, overwrite=True)
    return {"dataset": ds, "length": length, "steps": summary.steps,
            "seconds_per_step": round(summary.train_seconds / max(summary.steps, 1), 3),
            "wall_s": round(time.perf_counter() - start, 1), "precision": summary.precision,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def scorer_cost(ds: str, scorer_key: str, model: Path, work: Path,
                args: argparse.Namespace, texts: int = 16) -> dict[str, Any]:
    """Seconds per dev text of one scorer (eval split: IG and ``alone`` first read the text in
    windows to choose the class), over ``texts`` texts spread over the dev part."""
    from _cls_parts import _scorer
    from ids_extract.pipeline.classify import TextExtractor
    from ids_extract.textcls import load

    dev = load(work / "data" / f"{ds}-dev.jsonl")
    sample = dev.select([int(i * len(dev) / texts) for i in range(texts)])
    units = TextExtractor(["lead"], "top-k:1", unit=_unit(ds), quiet=True).to_units(sample)
    scorer = _scorer(scorer_key, ds, model, args)
    batch = next(units.batches(10**9))[1]
    scorer.score(batch)  # warm-up: first call loads and compiles
    start = time.perf_counter()
    scorer.score(batch)
    seconds = time.perf_counter() - start
    return {"dataset": ds, "scorer": scorer_key, "texts": texts,
            "seconds_per_text": round(seconds / texts, 4)}


def _unit(ds: str) -> str:
    return "clause" if ds == "emotion" else "sentence"


def run_costs(args: argparse.Namespace, lengths_of: dict[str, list[int]],
              ceiling_of: dict[str, int], scorers: list[str]) -> dict[str, Any]:
    """Every probe, each in a child process (cached in ``work/costs/costs.json``)."""
    work = Path(args.work)
    path = work / "costs" / "costs.json"
    if path.exists():
        return dict(json.loads(path.read_text(encoding="utf-8")))
    steps, scoring = [], []
    for ds, lengths in lengths_of.items():
        for n in sorted({*lengths, ceiling_of[ds]}):
            steps.append(_child(["step", ds, n], args))
            print(f"cost: {ds} L{n}: {steps[-1]['seconds_per_step']} s/step", flush=True)
        model = work / "costs" / f"{ds}-{max(lengths)}"
        for key in scorers:
            scoring.append(_child(["scorer", ds, key, str(model)], args))
            print(f"cost: {ds} {key}: {scoring[-1]['seconds_per_text']} s/text", flush=True)
    out = {"probe_steps": PROBE_STEPS, "batch_size": args.batch_size, "steps": steps,
           "scorers": scoring}
    write_json(out, path)
    return out


def _child(job: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    """One probe in a child process of the bench script (``--one-cost``); its JSON result."""
    return dict(args.bench.child([sys.executable, sys.argv[0], *sys.argv[1:], "--one-cost",
                                  json.dumps(job)], lambda: probe(job, args)))


def probe(job: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    """Run one probe here: a step cost or a scorer cost."""
    work = Path(args.work)
    if job[0] == "step":
        return step_cost(job[1], int(job[2]), work, args)
    return scorer_cost(job[1], job[2], Path(job[3]), work, args)


def one_cost(job: list[Any], args: argparse.Namespace) -> None:
    """Run one probe here and print its JSON (the child side of :func:`_child`)."""
    print(json.dumps(probe(job, args)))


def plan(costs: dict[str, Any], rows_of: dict[str, list[tuple[str, int, int]]],
         texts_of: dict[str, dict[str, int]], steps: int) -> dict[str, Any]:
    """Estimated minutes of every dataset: its rows (steps × s/step at their length) and its
    scoring (texts × s/text of each scorer; IG on its sample only)."""
    per_step = {(c["dataset"], c["length"]): c["seconds_per_step"] for c in costs["steps"]}
    per_text = {(c["dataset"], c["scorer"]): c["seconds_per_text"] for c in costs["scorers"]}
    out: dict[str, Any] = {}
    for ds, rows in rows_of.items():
        train = sum(per_step[(ds, n)] * row_steps for _, n, row_steps in rows)
        scoring = sum(per_text[(ds, s)] * k for s, k in texts_of[ds].items()
                      if (ds, s) in per_text)
        out[ds] = {"rows": len(rows), "train_min": round(train / 60, 1),
                   "scoring_min": round(scoring / 60, 1)}
    out["total_min"] = round(sum(v["train_min"] + v["scoring_min"] for v in out.values()), 1)
    out["steps_per_row"] = steps
    return out


def pipeline_costs(ds: str, lengths: list[int], scorer_model: Path, names: list[str],
                   fusion_of: dict[int, dict[str, float]], work: Path, tag: str,
                   args: argparse.Namespace, texts: int = 200) -> dict[str, Any]:
    """Milliseconds per dev text, measured on a quiet machine over ``texts`` dev texts (spread
    over the file), of what a user runs: the windowed reading of the whole text (the a_head<L>
    and c_windows<L> classifiers in windows), and extract-then-classify for every IDS row (score
    the units, select tokens:L, then the row's classifier reads the short text). Cached in
    ``work/costs/pipeline-<ds>-<tag>.json``."""
    from _cls_parts import SplitScores, _scorer, select_texts, unit_of
    from ids_extract.models.classifier.folder import load_classifier
    from ids_extract.models.classifier.predict import predict
    from ids_extract.pipeline.classify import TextExtractor
    from ids_extract.textcls import load

    path = work / "costs" / f"pipeline-{ds}-{tag}.json"
    if path.exists():
        return dict(json.loads(path.read_text(encoding="utf-8")))
    dev = load(work / "data" / f"{ds}-dev.jsonl")
    sample = dev.select([int(i * len(dev) / texts) for i in range(min(texts, len(dev)))])
    rows = work / "rows" / tag / ds

    def timed(run: Any) -> tuple[Any, float]:
        run()  # warm-up (model load, first-call compilation)
        start = time.perf_counter()
        found = run()
        return found, 1000 * (time.perf_counter() - start) / len(sample)

    out: dict[str, Any] = {"texts": len(sample), "windows": {}, "ids": {}}
    for n in lengths:
        for row in (f"a_head{n}", f"c_windows{n}"):
            clf = load_classifier(str(rows / row / "model"), "auto", args.precision)
            _, ms = timed(lambda clf=clf: predict(clf, sample.texts, "windows", batch_size=64))
            out["windows"][f"{row} (windows)"] = round(ms, 2)
    units = TextExtractor(["lead"], "top-k:1", unit=unit_of(ds), quiet=True).to_units(sample)
    scored: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    batch = next(units.batches(10**9))[1]
    for name in names:  # scoring the sample with each scorer (eval split: no gold)
        scorer = _scorer(name, ds, scorer_model, args)
        scored[name], seconds[name] = timed(lambda s=scorer: s.score(batch))
    part = SplitScores("dev", sample, units, scored, {})
    for n in lengths:
        own = [s for s in names if s in args.row_scorers.split(",")]
        picks = {**{s: {s: 1.0} for s in own}, "fusion": fusion_of[n]}
        for row, weights in picks.items():
            used = [s for s, w in weights.items() if w]
            start = time.perf_counter()
            short = select_texts(part, weights, f"tokens:{n}").texts
            select_ms = 1000 * (time.perf_counter() - start) / len(sample)
            clf = load_classifier(str(rows / f"e_{row}{n}" / "model"), "auto", args.precision)
            _, read_ms = timed(lambda clf=clf, short=short: predict(clf, short, "head",
                                                                    batch_size=64))
            score_ms = sum(seconds[s] for s in used)
            out["ids"][f"e_{row}{n}"] = {"score_ms": round(score_ms, 2),
                                         "select_ms": round(select_ms, 2),
                                         "classify_ms": round(read_ms, 2),
                                         "pipeline_ms": round(score_ms + select_ms + read_ms, 2)}
    write_json(out, path)
    return out
