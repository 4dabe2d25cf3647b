"""Fusion objectives compared on the trained extractor's held-out articles (never dev), out of
fold (4 folds of whole articles): the extractor's logistic regression on sentence labels, a
listwise objective (softmax over a question's sentences, the answer's probability maximised;
written here: scikit-learn has no conditional logit) and gradient-boosted trees (scikit-learn),
each on the same features (z-score and reciprocal rank per signal), clean and stressed questions.

    python bench/fusion_objectives.py [--model bench/work/extractor/model]
    python bench/fusion_objectives.py --smoke     # a tiny extractor made without training

Needs a trained extractor (``python bench/extractor.py`` trains one); reads its cached held-out
scores. Writes ``bench/results/fusion-objectives.json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ids_extract.apps.benchkit import Bench, add_smoke
from ids_extract.apps.heldout import FOLDS, HeldOut
from ids_extract.pipeline.pretrained import load_spec
from ids_extract.pipeline.robustness import compare
from ids_extract.select.learned import cross_fit, features


def listwise(x: Sequence[np.ndarray], y: Sequence[np.ndarray], lam: float) -> np.ndarray:
    """Weights maximising the mean log softmax probability of each question's answer units."""
    d = x[0].shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros(d)
        for f, lab in zip(x, y, strict=True):
            s = f @ w  # (units,)
            p = np.exp(s - s.max())
            p /= p.sum()
            pos = lab > 0
            mass = p[pos].sum() + 1e-12
            total -= np.log(mass)
            grad -= f.T @ (np.where(pos, p / mass, 0.0) - p)
        return total / len(x) + lam * w @ w, grad / len(x) + 2 * lam * w

    return np.asarray(minimize(loss, np.zeros(d), jac=True, method="L-BFGS-B").x)


def out_of_fold(feats: list[np.ndarray], labels: list[np.ndarray], groups: list[str],
                fit_score: Any) -> list[np.ndarray]:
    """Each fold of whole articles scored by a model fitted on the others."""
    titles = sorted(set(groups), key=groups.index)
    fold_of = {g: i % FOLDS for i, g in enumerate(titles)}
    out = [np.zeros(len(y)) for y in labels]
    for fold in range(FOLDS):
        train = [q for q, g in enumerate(groups) if fold_of[g] != fold
                 and len(labels[q]) > 1 and labels[q].any()]
        score = fit_score([feats[q] for q in train], [labels[q] for q in train])
        for q, g in enumerate(groups):
            if fold_of[g] == fold:
                out[q] = score(feats[q])
    return out


def gbm(x: list[np.ndarray], y: list[np.ndarray]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                           random_state=0)
    model.fit(np.vstack(x), np.concatenate(y).astype(int))
    return lambda f: model.predict_proba(f)[:, 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None,
                    help="[default: bench/work/extractor/model]")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    args.model = (bench.tiny_extractor() if bench.smoke else
                  args.model or bench.root / "bench" / "work" / "extractor" / "model")
    config = json.loads((args.model / "extractor.json").read_text(encoding="utf-8"))["info"]["config"]
    # the extractor's own seed and device: its cached held-out scores (and stress set) are reused
    held = HeldOut(args.model, load_spec(args.model), config["seed"], config["train_file"], "auto",
                   True)
    scores = held.scores
    clean, stressed = scores.clean, scores.stressed
    names = list(clean)
    both = {n: clean[n] + stressed[n] for n in names}
    # clean + stressed only: the labels and groups also hold the multi-passage set, which
    # this comparison does not score
    size = len(scores.clean_gold) + len(scores.stress_gold)
    labels, groups = scores.labels[:size], scores.groups[:size]
    feats = [features({s: both[s][q] for s in names}, names) for q in range(len(labels))]
    n = len(held.clean)
    gold = (scores.clean_gold, scores.stress_gold)
    distractors = scores.distractors
    tried: dict[str, list[np.ndarray]] = {
        "logistic regression (the extractor's)": cross_fit(both, labels, groups, FOLDS, 1.0)}
    for lam in (0.0, 0.01):
        tried[f"listwise, L2 {lam:g}"] = out_of_fold(
            feats, labels, groups, lambda x, y, lam=lam: (lambda f, w=listwise(x, y, lam): f @ w))
    tried["gradient-boosted trees"] = out_of_fold(feats, labels, groups, gbm)
    rows = {}
    for name, oof in tried.items():
        rows[name] = compare({"x": oof[:n]}, {"x": oof[n:]}, *gold, distractors)["x"]
        r = rows[name]
        print(f"{name:40} top-1 {r['top1']:6.2f}  top-3 {r['top3']:6.2f}  stressed "
              f"{r['stress_top1']:6.2f}  distractor first {r['distractor_first']:5.2f} %")
    bench.write_result("fusion-objectives.json", {
        "heldout_questions": n, "signals": names, "folds": FOLDS,
        "features": "z-score and reciprocal rank per signal", "rows": rows})


if __name__ == "__main__":
    main()
