"""Our trained dual encoder against bm25 and sbert on SQuAD dev-v1.1 (top-1/2/3 sentence recall).

    python bench/retriever.py [--limit N] [--precision auto|fp32|bf16] [--epochs E] [--smoke]
                              [--passage-context K]

1. Trains the DPR pair on ``train-v1.1-subset44.json`` with the default ``train-retriever``
   config into ``bench/work/retriever/dpr-minilm`` (a finished pair with the same config is
   reused: its training wall time and peak memory are those recorded when it was trained, and the
   result says ``reused``). The held-out slice for the during-training evaluation is the last
   articles of the *training* file; dev is never used for training or tuning.
2. Scores every dev question with bm25, sbert and dpr in one pass (the extractor's units and
   chunks, evaluation split), then fuses them in every combination with equal weights, as
   ``extract --scorers ...`` would, and once more with bm25/sbert/dpr weights fitted on the
   held-out training articles (``extract --weights``).

Writes ``bench/results/retriever.json``.
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ids_extract import Extractor, SquadDataset, load
from ids_extract.apps.benchkit import Bench, add_smoke, recall
from ids_extract.models.dpr.train import TrainConfig, build_groups, split_heldout, train_retriever
from ids_extract.scorers import Scorer, build_scorer
from ids_extract.select.stats import RankingStats
from ids_extract.squad.units import answer_units


def timed_scorer(scorer: Scorer, seconds: dict[str, float]) -> Scorer:
    """Wrap ``score`` to add up each scorer's own wall time."""
    inner = scorer.score

    def score(batch: Any) -> list[np.ndarray]:
        start = time.perf_counter()
        try:
            return inner(batch)
        finally:
            seconds[scorer.name] = seconds.get(scorer.name, 0.0) + time.perf_counter() - start

    scorer.score = score  # type: ignore[method-assign]
    return scorer


def heldout_weights(config: TrainConfig, ex: Extractor) -> tuple[dict[str, float], dict[str, Any]]:
    """Fusion weights of bm25+sbert+dpr fitted on the held-out articles of the *training* file
    (never seen by the encoder, never dev): grid search of the bm25 and sbert weights (dpr = 1)
    for the best top-1 recall there (ties: best top-2, then the first in grid order)."""
    dataset = load(config.train_file).limit(config.limit)
    groups, titles = build_groups(dataset)
    train, _ = split_heldout(groups, titles, config.heldout_questions)
    held = set(titles[len(train):])
    sub = SquadDataset(dataset.version, [a for a in dataset.articles if a.title in held])
    seg = ex.to_units(sub)
    per = ex.score(seg).per_scorer
    grid = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
    best: tuple[float, float] = (-1.0, -1.0)
    chosen: dict[str, float] = {}
    for wb, ws in itertools.product(grid, grid):
        weights = {"bm25": wb, "sbert": ws, "dpr": 1.0}
        r = recall(seg, per, ("bm25", "sbert", "dpr"), weights)
        if (r["top1"], r["top2"]) > best:
            best, chosen = (r["top1"], r["top2"]), weights
    info = {"articles": sorted(held), "questions": len(seg), "grid": list(grid),
            "heldout_top1_top2": list(best),
            "heldout_recall": {"+".join(c): recall(seg, per, c) for c in
                               (("bm25",), ("sbert",), ("dpr",), ("bm25", "sbert", "dpr"))}}
    return chosen, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=Path, default=None, help="[default: train-v1.1-subset44]")
    ap.add_argument("--data", type=Path, default=None, help="[default: dev-v1.1]")
    ap.add_argument("--limit", type=int, default=None, help="first N dev questions")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--work", type=Path, default=None, help="folder of the trained pair "
                    "[default: bench/work/retriever/dpr-minilm]")
    ap.add_argument("--train-limit", type=int, default=None, help="smoke runs only")
    ap.add_argument("--epochs", type=float, default=None, help="training epochs [default: the "
                    "train-retriever default]")
    ap.add_argument("--passage-context", type=int, default=0,
                    help="preceding sentences the passage encoder reads (train-retriever "
                         "--passage-context); the pair goes to <work>-ctxK")
    ap.add_argument("--contexts-per-step", type=int, default=None,
                    help="train-retriever --contexts-per-step; the pair goes to <work>-bK")
    ap.add_argument("--result", default="retriever.json", help="file in bench/results/")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    args.train, args.data = args.train or bench.train, args.data or bench.dev
    default_work = bench.work / "dpr-minilm"
    config = TrainConfig(train_file=str(args.train), limit=args.train_limit,
                         passage_context=args.passage_context)
    sbert: dict[str, Any] = {}
    if bench.smoke:  # a tiny encoder trained a step on a few questions of 4 articles
        tiny = bench.tiny_models()
        config = TrainConfig(train_file=str(bench.squad_slice(args.train, 12, articles=4)),
                             backbone=str(tiny["sbert"]), heldout_questions=10, epochs=0.1,
                             precision="fp32")
        args.limit, sbert = 10, {"model": str(tiny["sbert"]), "backend": "torch"}
    if args.epochs is not None:
        config.epochs = args.epochs
    if args.contexts_per_step is not None:
        config.contexts_per_step = args.contexts_per_step
    if args.work is None:
        suffix = (f"-ctx{args.passage_context}" if args.passage_context else "") + (
            f"-b{args.contexts_per_step}" if args.contexts_per_step else "")
        args.work = default_work.with_name(default_work.name + suffix)
    summary = train_retriever(config, args.work)
    print(f"training: {summary.steps} steps, {summary.wall_s:.0f} s wall, peak RSS "
          f"{summary.peak_rss_mib:.0f} MiB{' (reused: measured when trained)' if summary.reused else ''}")

    seconds: dict[str, float] = {}
    scorers = [timed_scorer(build_scorer("bm25"), seconds),
               timed_scorer(build_scorer("sbert", precision=args.precision, **sbert), seconds),
               timed_scorer(build_scorer("dpr", model=str(args.work), precision=args.precision), seconds)]
    ex = Extractor(scorers, "top-k:1", split="eval", quiet=True)
    dataset = load(args.data).limit(args.limit)
    start = time.perf_counter()
    seg = ex.to_units(dataset)
    scored = ex.score(seg)
    score_s = time.perf_counter() - start

    names = ("bm25", "sbert", "dpr")
    combos = [c for r in (1, 2, 3) for c in itertools.combinations(names, r)]
    table = {"+".join(c): recall(seg, scored.per_scorer, c) for c in combos}
    weights, fit = heldout_weights(config, ex)
    fitted = "bm25+sbert+dpr (weights fit on train held-out)"
    table[fitted] = recall(seg, scored.per_scorer, names, weights)
    print(f"fusion weights fit on the held-out training articles: {weights}")
    answerable = RankingStats.measure(answer_units(seg), {"bm25": scored.per_scorer["bm25"]}).answerable
    print(f"\n{'scorer':<48}{'top1':>8}{'top2':>8}{'top3':>8}   ({answerable} answerable questions)")
    for name, r in table.items():
        print(f"{name:<48}{r['top1']:>8.2f}{r['top2']:>8.2f}{r['top3']:>8.2f}")
    print(f"\nscoring {len(seg)} questions: {score_s:.0f} s wall "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in seconds.items())})")

    path = bench.write_result(args.result, {
        "train_data": args.train.name, "eval_data": args.data.name, "limit": args.limit,
        "questions": len(seg), "answerable": answerable,
        "train_config": config.run_config(),
        "training": {**asdict(summary), "out": bench.shown(Path(summary.out))},
        "scorers": [s.config() for s in scorers],
        "top_k_recall_pct": table,
        "fusion_weights_fit": {"weights": weights, **fit},
        "eval_wall_s": {"total": round(score_s, 1), **{k: round(v, 1) for k, v in seconds.items()}},
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
