"""Fusion benchmark: top-1/2/3 sentence recall on dev-v1.1 of each signal alone (bm25, sbert, dpr,
reader, ig) and of their fusions (weighted z-scores; learned logistic regression).

The learned weights are fitted on the TRAINING file only and evaluated on a fixed sample of dev
(every k-th question; the whole file with ``--dev-sample 0``). By default (``--fit-on heldout``)
the fit uses the last articles of ``train-v1.1-subset44.json``: the slice that ``train-retriever``
holds out (``--heldout 500`` questions, whole articles), so the dual encoder never saw them, and
beyond the first 4,000 questions a ``--limit 4000`` reader was trained on. Fitting on questions
the dual encoder was trained on (``--fit-on sample``: every k-th training question) leaks: there
dpr is near-perfect and the regression learns to trust it more than it deserves on dev.

IG uses the fast setting given by ``--ig`` (see ``bench/ig.py`` for its agreement with the
50-step reference). Per-scorer scores are cached under ``bench/work/fusion/`` so that a re-run
after a kill resumes (keyed by each scorer's config: models by content).

    flock /tmp/ids-heavy.lock python bench/fusion.py --reader-model MODEL [--dev-sample 1000]
    python bench/fusion.py --smoke      # tiny models, a dozen questions

Writes ``bench/results/fusion.json``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from ids_extract.apps.benchkit import Bench, add_smoke, scores_for
from ids_extract.pipeline.fit_fusion import sentence_labels
from ids_extract.pipeline.scoring import Scored
from ids_extract.scorers import build_scorer
from ids_extract.select.fusion import WeightedFusion
from ids_extract.select.learned import fit
from ids_extract.select.stats import RankingStats
from ids_extract.squad.model import Article, SquadDataset
from ids_extract.squad.read import load
from ids_extract.squad.units import answer_units, squad_units

IG_SETTINGS: dict[str, dict[str, Any]] = {
    "gxi": {"mode": "gxi"},
    "steps4-sum": {"n_steps": 4, "target": "sum"},
    "steps8-sum": {"n_steps": 8, "target": "sum"},
    "steps8": {"n_steps": 8},
    "steps50": {"n_steps": 50},
}
AFFORDABLE = ("gxi", "steps4-sum", "steps8-sum")  # what ``--ig auto`` may pick on a CPU


def auto_ig(bench: Bench) -> str:
    """The fastest affordable setting that ``bench/ig.py`` measured at Spearman >= 0.9 with the
    50-step reference (``steps4-sum`` when there is no such measurement)."""
    path = bench.root / "bench" / "results" / "ig.json"
    if not path.exists():
        return "steps4-sum"
    rows = json.loads(path.read_text(encoding="utf-8"))["settings"]
    good = [n for n in AFFORDABLE if n in rows and rows[n].get("spearman_mean", 0) >= 0.9]
    return min(good, key=lambda n: rows[n]["seconds"]) if good else "steps4-sum"


def last_articles(dataset: SquadDataset, n_questions: int) -> SquadDataset:
    """Whole articles from the end of the file until ``n_questions`` are taken: the slice
    :func:`ids_extract.models.dpr.train.split_heldout` holds out of the dual encoder's training."""
    taken: list[Article] = []
    count = 0
    for article in reversed(dataset.articles):
        if count >= n_questions:
            break
        taken.insert(0, article)
        count += sum(len(p.qas) for p in article.paragraphs)
    return SquadDataset(dataset.version, taken, source=dataset.source)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reader-model", default=None, help="a trained reader (required but in a "
                    "smoke run, which uses a tiny one)")
    ap.add_argument("--dpr-model", default=None, help="[default: bench/work/retriever/dpr-minilm "
                    "when trained]")
    ap.add_argument("--fit-on", choices=["heldout", "sample"], default="heldout",
                    help="heldout: the retriever's held-out last articles; sample: every k-th "
                         "training question (--train-sample)")
    ap.add_argument("--heldout", type=int, default=500,
                    help="questions held out (whole articles from the end), as train-retriever")
    ap.add_argument("--train-sample", type=int, default=2000)
    ap.add_argument("--dev-sample", type=int, default=1000, help="0: the whole dev file")
    ap.add_argument("--ig", default="auto", choices=["auto", *IG_SETTINGS])
    ap.add_argument("--no-ig", action="store_true", help="leave the ig signal out")
    ap.add_argument("--result", default="fusion.json", help="file in bench/results/")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    sbert: dict[str, Any] = {}
    if bench.smoke:  # tiny models, a dozen questions each side, one IG step
        tiny = bench.tiny_models()
        args.reader_model, args.heldout, args.dev_sample, args.ig = str(tiny["qa"]), 10, 12, "gxi"
        sbert = {"model": str(tiny["sbert"]), "backend": "torch", "device": "cpu"}
    if not args.reader_model:
        ap.error("--reader-model is required")
    dpr_default = bench.root / "bench" / "work" / "retriever" / "dpr-minilm"
    if args.dpr_model is None and not bench.smoke and (dpr_default / "question_encoder").is_dir():
        args.dpr_model = str(dpr_default)
    if args.ig == "auto":
        args.ig = auto_ig(bench)
        print("ig setting:", args.ig, IG_SETTINGS[args.ig], flush=True)

    options: dict[str, dict[str, Any]] = {
        "bm25": {}, "sbert": sbert,
        "reader": {"model": args.reader_model, "device": "cpu"},
        "ig": {"model": args.reader_model, "device": "cpu", **IG_SETTINGS[args.ig]},
    }
    if args.dpr_model:
        options["dpr"] = {"model": args.dpr_model}
    if args.no_ig:
        del options["ig"]
    names = list(options)
    timings: dict[str, float] = {}
    train = load(bench.train)
    splits = {"train": (last_articles(train, args.heldout) if args.fit_on == "heldout"
                        else train.spread(args.train_sample)),
              "dev": load(bench.dev).spread(args.dev_sample or None)}
    segs = {t: squad_units(d) for t, d in splits.items()}
    scores: dict[str, dict[str, list[np.ndarray]]] = {t: {} for t in splits}
    for t, units in segs.items():
        for n in names:
            scores[t][n], timings[f"{t}:{n}"] = scores_for(units, build_scorer(n, **options[n]),
                                                           bench.work)
            print(f"{t} {n}: {timings[f'{t}:{n}']:.1f} s for {len(units)} questions", flush=True)

    labels = sentence_labels(segs["train"])
    combos = {"bm25+sbert": ["bm25", "sbert"], "all": names,
              "all-but-ig": [n for n in names if n != "ig"]}
    models = {c: fit({n: scores["train"][n] for n in ns}, labels, fitted_on={"combo": c})
              for c, ns in combos.items()}
    dev = scores["dev"]
    n_dev = splits["dev"].num_questions
    fusers: dict[str, tuple[list[str], Any]] = {n: ([n], WeightedFusion([n])) for n in names}
    for c, ns in combos.items():
        fusers[f"weighted:{c}"] = (ns, WeightedFusion(ns))
        fusers[f"learned:{c}"] = (ns, models[c])
    ranked: dict[str, list[np.ndarray]] = {}  # as the driver ranks (Scored.rankings)
    for row, (ns, fuser) in fusers.items():
        chosen = {n: dev[n] for n in ns}
        fused = [fuser.score({n: v[q] for n, v in chosen.items()}) for q in range(n_dev)]
        ranked[row] = Scored(chosen, fused).rankings(ns)
    recall = RankingStats.of_rankings(answer_units(segs["dev"]), ranked)
    for row, r in recall.recall_pct.items():
        print(f"{row:28s} {r}")
    best = recall.recall_pct.get("learned:all", {}).get("top1")
    result = {
        "train": {"file": bench.train.name, "questions": splits["train"].num_questions,
                  "sample": ("last articles, held out from train-retriever"
                             if args.fit_on == "heldout" else "every k-th question"),
                  "articles": [a.title for a in splits["train"].articles]
                  if args.fit_on == "heldout" else None},
        "dev": {"file": bench.dev.name, "questions": n_dev, "answerable": recall.answerable,
                "sample": "whole file" if not args.dev_sample else "every k-th question"},
        "options": options, "ig_setting": None if args.no_ig else args.ig,
        "top_k_recall_pct": recall.recall_pct,
        "learned_weights": {c: {"z": m.weights(), "coef": m.coef, "intercept": m.intercept}
                            for c, m in models.items()},
        "scoring_seconds": {k: round(v, 1) for k, v in timings.items()},
        "acceptance_learned_all_top1_ge_92": None if best is None else best >= 92.0,
    }
    print("wrote", bench.write_result(args.result, result))


if __name__ == "__main__":
    main()
