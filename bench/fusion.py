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
after a kill resumes.

    flock /tmp/ids-heavy.lock python bench/fusion.py --reader-model MODEL [--dev-sample 1000]

Writes ``bench/results/fusion.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEV, RESULTS, ROOT, TRAIN, write_result  # noqa: E402
from downstream import every_kth  # noqa: E402
from ids_extract.pipeline.fit_fusion import sentence_labels  # noqa: E402
from ids_extract.scorers import build_scorer  # noqa: E402
from ids_extract.select import fusion  # noqa: E402
from ids_extract.select.learned import fit  # noqa: E402
from ids_extract.select.stats import RankingStats  # noqa: E402
from ids_extract.squad.model import Article, SquadDataset  # noqa: E402
from ids_extract.squad.read import load  # noqa: E402
from ids_extract.squad.units import SquadUnits, answer_units, squad_units  # noqa: E402

WORK = ROOT / "bench" / "work" / "fusion"
DPR_DEFAULT = ROOT / "bench" / "work" / "retriever" / "dpr-minilm"
IG_SETTINGS: dict[str, dict[str, Any]] = {
    "gxi": {"mode": "gxi"},
    "steps4-sum": {"n_steps": 4, "target": "sum"},
    "steps8-sum": {"n_steps": 8, "target": "sum"},
    "steps8": {"n_steps": 8},
    "steps50": {"n_steps": 50},
}
AFFORDABLE = ("gxi", "steps4-sum", "steps8-sum")  # what ``--ig auto`` may pick on a CPU


def auto_ig() -> str:
    """The fastest affordable setting that ``bench/ig.py`` measured at Spearman >= 0.9 with the
    50-step reference (``steps4-sum`` when there is no such measurement)."""
    path = RESULTS / "ig.json"
    if not path.exists():
        return "steps4-sum"
    rows = json.loads(path.read_text(encoding="utf-8"))["settings"]
    good = [n for n in AFFORDABLE if n in rows and rows[n].get("spearman_mean", 0) >= 0.9]
    return min(good, key=lambda n: rows[n]["seconds"]) if good else "steps4-sum"


def scores_for(name: str, options: dict[str, Any], seg: SquadUnits, tag: str,
               timings: dict[str, float]) -> list[np.ndarray]:
    """One scorer over every question, cached in ``WORK`` by (data tag, scorer, options)."""
    key = hashlib.sha1(json.dumps([tag, name, options], sort_keys=True).encode()).hexdigest()[:12]
    path = WORK / f"{tag}-{name}-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            flat, lengths = z["flat"], z["lengths"]
            timings[f"{tag}:{name}"] = float(z["seconds"])
        bounds = np.cumsum(np.concatenate([[0], lengths]))
        return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    scorer = build_scorer(name, **options)
    out: list[np.ndarray] = []
    start = time.perf_counter()
    for _, batch in seg.batches(256):
        out.extend(scorer.score(batch))
    seconds = time.perf_counter() - start
    timings[f"{tag}:{name}"] = seconds
    print(f"{tag} {name}: {seconds:.1f} s for {len(out)} questions", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, flat=np.concatenate(out), lengths=np.array([len(o) for o in out]),
             seconds=seconds)
    tmp.replace(path)
    return out


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
    ap.add_argument("--reader-model", required=True)
    ap.add_argument("--dpr-model", default=str(DPR_DEFAULT) if (DPR_DEFAULT / "question_encoder")
                    .is_dir() else None)
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
    args = ap.parse_args()
    if args.ig == "auto":
        args.ig = auto_ig()
        print("ig setting:", args.ig, IG_SETTINGS[args.ig], flush=True)

    options: dict[str, dict[str, Any]] = {
        "bm25": {}, "sbert": {},
        "reader": {"model": args.reader_model, "device": "cpu"},
        "ig": {"model": args.reader_model, "device": "cpu", **IG_SETTINGS[args.ig]},
    }
    if args.dpr_model:
        options["dpr"] = {"model": args.dpr_model}
    if args.no_ig:
        del options["ig"]
    names = list(options)
    timings: dict[str, float] = {}
    train = load(TRAIN)
    splits = {"train": (last_articles(train, args.heldout) if args.fit_on == "heldout"
                        else every_kth(train, args.train_sample)),
              "dev": every_kth(load(DEV), args.dev_sample or None)}
    segs = {t: squad_units(d) for t, d in splits.items()}
    prefix = {"train": "trainheldout" if args.fit_on == "heldout" else "train", "dev": "dev"}
    tags = {t: f"{prefix[t]}{splits[t].num_questions}" for t in splits}
    scores = {t: {n: scores_for(n, options[n], segs[t], tags[t], timings) for n in names}
              for t in splits}

    labels = sentence_labels(segs["train"])
    combos = {"bm25+sbert": ["bm25", "sbert"], "all": names,
              "all-but-ig": [n for n in names if n != "ig"]}
    models = {c: fit({n: scores["train"][n] for n in ns}, labels, fitted_on={"combo": c})
              for c, ns in combos.items()}
    dev = scores["dev"]
    ranked: dict[str, list[np.ndarray]] = {n: dev[n] for n in names}
    n_dev = splits["dev"].num_questions
    for c, ns in combos.items():
        ranked[f"weighted:{c}"] = [fusion.weighted({n: dev[n][q] for n in ns}, {})
                                   for q in range(n_dev)]
        ranked[f"learned:{c}"] = [models[c].score({n: dev[n][q] for n in ns})
                                  for q in range(n_dev)]
    recall = RankingStats.measure(answer_units(segs["dev"]), ranked)
    for row, r in recall.recall_pct.items():
        print(f"{row:28s} {r}")
    best = recall.recall_pct.get("learned:all", {}).get("top1")
    result = {
        "train": {"file": TRAIN.name, "questions": splits["train"].num_questions,
                  "sample": ("last articles, held out from train-retriever"
                             if args.fit_on == "heldout" else "every k-th question"),
                  "articles": [a.title for a in splits["train"].articles]
                  if args.fit_on == "heldout" else None},
        "dev": {"file": DEV.name, "questions": n_dev, "answerable": recall.answerable,
                "sample": "whole file" if not args.dev_sample else "every k-th question"},
        "options": options, "ig_setting": None if args.no_ig else args.ig,
        "top_k_recall_pct": recall.recall_pct,
        "learned_weights": {c: {"z": m.weights(), "coef": m.coef, "intercept": m.intercept}
                            for c, m in models.items()},
        "scoring_seconds": {k: round(v, 1) for k, v in timings.items()},
        "acceptance_learned_all_top1_ge_92": None if best is None else best >= 92.0,
    }
    print("wrote", write_result(args.result, result))


if __name__ == "__main__":
    main()
