"""The parts of ``bench/classification.py`` that are not rows: splits, the cached scores of every
scorer, IDS texts per level, the fusion chosen on the tune slice, agreement of the cheap signals
with IG, and what extraction does to one-sentence emotion texts."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ids_extract.apps.benchkit import Bench, scores_for
from ids_extract.files import config_key, write_json
from ids_extract.pipeline.classify import TextExtractor
from ids_extract.pipeline.scoring import Scored
from ids_extract.scorers import Scorer, build_scorer
from ids_extract.select.fusion import WeightedFusion
from ids_extract.textcls import load, write_like
from ids_extract.textcls.model import TextDataset
from ids_extract.textcls.units import TextUnits

DATASETS: dict[str, dict[str, Any]] = {
    "imdb": {"file": "imdb-train-5k.jsonl", "dev": "numeric id % 5 == 4",
             "tune": "numeric id % 20 == 3", "descriptions": {
                 "pos": ["I loved this movie, it was great.", "A wonderful, excellent film.",
                         "Highly recommended, a must see."],
                 "neg": ["I hated this movie, it was terrible.", "An awful, boring film.",
                         "A waste of time, avoid it."]}},
    "bbc": {"file": "bbc-train.jsonl", "dev": "article number % 4 == 3",
            "tune": "article number % 12 == 1", "descriptions": {
                "business": ["business: the economy, companies, profits and markets"],
                "entertainment": ["entertainment: film, music, television and celebrities"],
                "politics": ["politics: the government, elections, parties and parliament"],
                "sport": ["sport: football, rugby, tennis, cricket and athletics"],
                "tech": ["technology: computers, the internet, mobile phones and software"]}},
    "emotion": {"file": "emotion-train.jsonl", "dev": "the official validation file",
                "tune": "train-file line index % 20 == 3", "descriptions": {
                    "sadness": ["I feel sad, lonely and hopeless."],
                    "joy": ["I feel happy, glad and delighted."],
                    "love": ["I feel loving, tender and caring."],
                    "anger": ["I feel angry, annoyed and furious."],
                    "fear": ["I feel afraid, scared and anxious."],
                    "surprise": ["I feel surprised, amazed and astonished."]}},
}
RULES: dict[str, Callable[[int], str]] = {
    "imdb": lambda n: "dev" if n % 5 == 4 else "tune" if n % 20 == 3 else "train",
    "bbc": lambda n: "dev" if n % 4 == 3 else "tune" if n % 12 == 1 else "train",
}


def prepare(bench: Bench, work: Path, datasets: list[str], limit_train: int | None,
            limit_dev: int | None) -> dict[str, Any]:
    """Write ``work/data/<ds>-<split>.jsonl`` by the documented id rules; counts per split."""
    data = bench.shared / "data" / "classification"
    out: dict[str, Any] = {}
    for ds in datasets:
        info = DATASETS[ds]
        parts: dict[str, TextDataset] = {}
        source = load(data / info["file"])
        if ds in RULES:
            chosen = [RULES[ds](int(i.rsplit("_", 1)[1])) for i in source.ids]
            for split in ("train", "tune", "dev"):
                parts[split] = source.select([k for k, c in enumerate(chosen) if c == split])
        else:  # emotion: the tune slice is every 20th text of the training file
            tune = [k for k in range(len(source)) if k % 20 == 3]
            parts = {"train": source.select([k for k in range(len(source)) if k % 20 != 3]),
                     "tune": source.select(tune), "dev": load(data / "emotion-val.jsonl")}
        for split, part in parts.items():
            part = _spread(part, limit_train if split == "train" else limit_dev)
            path = work / "data" / f"{ds}-{split}.jsonl"
            if not path.exists():
                write_like(part, part.texts, path)
            out[f"{ds}-{split}"] = {"texts": len(part), "labels": part.label_counts()}
    return out


def _spread(data: TextDataset, limit: int | None) -> TextDataset:
    """About ``limit`` texts taken evenly over the file (files are sorted by id, i.e. by class)."""
    if limit is None or limit >= len(data):
        return data
    return data.select([int(i * len(data) / limit) for i in range(limit)])


@dataclass
class SplitScores:
    """One split of one dataset: its texts, units, every scorer's unit scores and their cost."""

    split: str
    data: TextDataset
    units: TextUnits
    per_scorer: dict[str, list[np.ndarray]]
    seconds: dict[str, float]


def _scorer(key: str, ds: str, model: Path, args: argparse.Namespace) -> Scorer:
    """The scorer a bench key names (``alone_any``: ``alone`` with ``target="any"``)."""
    clf = {"model": str(model), "precision": args.precision}
    name, options = {
        "ig": ("ig", {**clf, "n_steps": args.ig_steps, "precision": args.ig_precision}),
        "alone": ("alone", clf), "alone_any": ("alone", {**clf, "target": "any"}),
        "label": ("label", {"labels": list(DATASETS[ds]["descriptions"]),
                            "descriptions": DATASETS[ds]["descriptions"]}),
    }.get(key, (key, {}))
    return build_scorer(name, task="text", **options)


def unit_of(ds: str) -> str:
    """Emotion texts are one sentence: they are cut into clauses (``--unit clause``)."""
    return "clause" if ds == "emotion" else "sentence"


def split_scores(ds: str, names: list[str], model: Path, work: Path,
                 args: argparse.Namespace) -> dict[str, SplitScores]:
    """Every scorer over train (split=train: gold targets), tune and dev (split=eval), each
    cached in ``work/scores`` under a key of the scorer's config (every option that can change a
    score, models by content) and the units.
    IG, the costly signal, scores only ``--ig-train-sample`` training texts (split ``train_ig``,
    spread over the file): its rows train on those."""
    out = {}
    splits = [("train", [n for n in names if n != "ig"]), ("tune", names), ("dev", names)]
    if "ig" in names:
        splits.append(("train_ig", ["ig"]))
    for split, scorer_names in splits:
        kind = "train" if split.startswith("train") else "eval"
        data = load(work / "data" / f"{ds}-{split.removesuffix('_ig')}.jsonl")
        if split == "train_ig":
            data = _spread(data, args.ig_train_sample)
        units = TextExtractor(["lead"], "top-k:1", split=kind, unit=unit_of(ds),
                              quiet=True).to_units(data)
        found = SplitScores(split, data, units, {}, {})
        for name in scorer_names:
            scores, seconds = scores_for(units, _scorer(name, ds, model, args),
                                         work / "scores" / ds / split)
            print(f"scores of {ds}/{split} with {name}: {seconds:.0f}s", flush=True)
            found.per_scorer[name], found.seconds[name] = scores, seconds
        out[split] = found
    return out


def parts_for(scores: dict[str, SplitScores], weights: dict[str, float]) -> dict[str, SplitScores]:
    """The train/tune/dev parts a fusion of ``weights`` selects from (IG's train part is its
    sample)."""
    train = "train_ig" if any(w and n == "ig" for n, w in weights.items()) else "train"
    return {"train": scores[train], "tune": scores["tune"], "dev": scores["dev"]}


class _Named(Scorer):
    """Stands for a scorer whose scores are cached (selection needs only its name)."""

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]

    def score(self, batch: Any) -> list[np.ndarray]:
        raise RuntimeError("cached scores only")


def select_texts(part: SplitScores, weights: dict[str, float], level: str) -> Any:
    """The level's result for one split, fusing the cached scores with ``weights``."""
    names = [n for n, w in weights.items() if w]
    fuser = WeightedFusion(names, weights)
    per = {n: part.per_scorer[n] for n in names}
    fused = [fuser.score({n: per[n][q] for n in names}) for q in range(len(part.units))]
    ex = TextExtractor([_Named(n) for n in names], level, weights=weights, quiet=True,
                       split="train" if part.split.startswith("train") else "eval")
    return ex.select_all(part.units, Scored(per, fused))[0]


def extract_level(ds: str, scores: dict[str, SplitScores], weights: dict[str, float], n: int,
                  folder: str, work: Path) -> dict[str, Any]:
    """Write ``work/<folder>/<ds>-<split>.jsonl`` at ``tokens:n``; its cost (scoring + selection,
    per split: the dev part's is what a user pays to extract before classifying) and
    statistics."""
    info: dict[str, Any] = {"level": f"tokens:{n}"}
    for split, part in parts_for(scores, weights).items():
        start = time.perf_counter()
        path = work / folder / f"{ds}-{split}.jsonl"
        result = select_texts(part, weights, f"tokens:{n}")
        if not path.exists():
            write_like(part.data, result.texts, path)
        scoring = sum(part.seconds[s] for s, w in weights.items() if w)
        info[f"{split}_seconds"] = {"scoring": round(scoring, 1),
                                    "select": round(time.perf_counter() - start, 1),
                                    "texts": len(part.data)}
        info[f"{split}_stats"] = result.stats
    dev = info["dev_seconds"]
    info["dev_extraction_ms_per_text"] = round(1000 * (dev["scoring"] + dev["select"])
                                               / max(dev["texts"], 1), 2)
    return info


def choose_fusion(ds: str, scores: dict[str, SplitScores], n: int, model: Path,
                  names: list[str], args: argparse.Namespace
                  ) -> tuple[dict[str, float], dict[str, float]]:
    """Equal-weight fusions of two or three scorers, or of all: the one whose tune texts at
    ``tokens:n`` the a_head<n> classifier reads best (ties: fewer scorers). Dev is never looked
    at."""
    from itertools import combinations

    from ids_extract.models.classifier.folder import load_classifier
    from ids_extract.models.classifier.predict import predict

    cache = Path(args.work) / "fusion" / f"{ds}-{n}-{config_key([str(model), names])}.json"
    if cache.exists():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        return saved["weights"], saved["tried"]
    clf = load_classifier(str(model), "auto", args.precision)
    tune = scores["tune"]
    tried: dict[str, float] = {}
    subsets = [c for k in (2, 3) for c in combinations(names, k)] + [tuple(names)]
    for subset in dict.fromkeys(subsets):
        texts = select_texts(tune, dict.fromkeys(subset, 1.0), f"tokens:{n}").texts
        found = predict(clf, texts, "head", batch_size=64).labels
        tried["+".join(subset)] = round(100 * float(np.mean(
            [p == g for p, g in zip(found, tune.data.gold, strict=True)])), 2)
    best = max(tried, key=lambda s: (tried[s], -s.count("+")))
    weights = {s: (1.0 if s in best.split("+") else 0.0) for s in names}
    write_json({"weights": weights, "tried": tried}, cache)
    return weights, tried


def agreement(ds: str, model: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The cheap signals (fewer IG steps, bf16, gradient x input, sentence alone, label) against
    50-step fp32 IG on every k-th dev text: mean Spearman, same top unit, seconds per text."""
    from ids_extract.analysis.sanity import spearman_per_question

    work = Path(args.work)
    cache = work / "agreement" / f"{ds}-{config_key([str(model), args.agreement_sample])}.json"
    if cache.exists():
        return dict(json.loads(cache.read_text(encoding="utf-8")))
    data = load(work / "data" / f"{ds}-dev.jsonl")
    step = max(len(data) // args.agreement_sample, 1)
    sample = data.select(list(range(0, len(data), step))[: args.agreement_sample])
    batch = next(TextExtractor(["lead"], "top-k:1", quiet=True).to_units(sample).batches(10**9))[1]
    k = args.ig_steps

    def ig(**kw: Any) -> Scorer:
        return build_scorer("ig", task="text", **{"model": str(model), "n_steps": k,
                                                  "precision": "fp32", **kw})

    settings: dict[str, Callable[[], Scorer]] = {
        "ig50_fp32": lambda: ig(n_steps=50), f"ig{k}_fp32": ig,
        f"ig{k}_bf16": lambda: ig(precision="bf16"), "gxi": lambda: ig(mode="gxi"),
        "alone": lambda: _scorer("alone", ds, model, args),
        "alone_any": lambda: _scorer("alone_any", ds, model, args),
        "label": lambda: _scorer("label", ds, model, args)}
    found: dict[str, Any] = {}
    reference = None
    for key, make in settings.items():
        scorer = make()
        start = time.perf_counter()
        scores = scorer.score(batch)
        seconds = (time.perf_counter() - start) / len(sample)
        reference = scores if reference is None else reference
        rho = spearman_per_question(reference, scores)
        top = np.mean([int(np.argmax(a)) == int(np.argmax(b)) for a, b in zip(reference, scores,
                                                                              strict=True)])
        found[key] = {"seconds_per_text": round(seconds, 3),
                      "mean_spearman_vs_ig50": round(float(np.nanmean(rho)), 3),
                      "same_top_unit_pct": round(100 * float(top), 1),
                      "texts_compared": int(np.sum(~np.isnan(rho)))}
        print(f"agreement {ds} {key}: {found[key]}", flush=True)
    out = {"texts": len(sample), "scorer_model": str(model.relative_to(work)), "signals": found}
    write_json(out, cache)
    return out


def steps_of(args: argparse.Namespace, ds: str) -> int:
    """The optimiser steps of every row of ``ds``: ``--max-steps``, or its ``--steps-of`` entry
    (``emotion=300``: a cheap dataset may get more steps; all rows of a dataset get the same)."""
    pairs = dict(x.split("=") for x in (args.steps_of or "").split(",") if x)
    return int(pairs.get(ds, args.max_steps)) if args.max_steps else 0


def budget_tag(args: argparse.Namespace, ds: str) -> str:
    """The name of a budget (``steps300``, ``epochs1``): rows of two budgets live apart."""
    steps = steps_of(args, ds)
    return f"steps{steps}" if steps else f"epochs{args.epochs:g}"


def text_profile(ds: str, work: Path) -> dict[str, Any]:
    """How long the dev texts are (tokens with specials) and how many units they are cut into:
    what a budget of L tokens means for this dataset."""
    from ids_extract.models.hub import load_tokenizer
    from ids_extract.select.budget import count_tokens

    dev = load(work / "data" / f"{ds}-dev.jsonl")
    lengths = count_tokens(dev.texts, load_tokenizer(None)) + 2
    units = TextExtractor(["lead"], "top-k:1", unit=unit_of(ds), quiet=True).to_units(dev)
    return {"dev_texts": len(dev), "unit": unit_of(ds),
            "tokens_with_specials": {"p50": float(np.percentile(lengths, 50)),
                                     "p90": float(np.percentile(lengths, 90)),
                                     "max": int(lengths.max())},
            "units_per_text": round(float(np.mean([len(x) for x in units.spans])), 3),
            "one_unit_pct": round(100 * float(np.mean([len(x) == 1 for x in units.spans])), 2)}
