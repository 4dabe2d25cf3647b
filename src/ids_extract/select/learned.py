"""``learned`` fusion: weights of the scorers fitted by logistic regression on sentence labels.

The supervision is one label per (item, unit): positive when the unit holds the answer start
(built from a QA training file by :mod:`ids_extract.pipeline.fit_fusion`). Each sentence is
described, per scorer, by its z-score within the context and its reciprocal rank there (both
scale-free, so a scorer's raw scale does not matter, as with ``weighted``); scikit-learn's
``LogisticRegression`` fits one weight per feature on a **training** file only.

The fitted model is saved as a small JSON file (scorer names, feature names, coefficients,
intercept, and where it was fitted), not as a pickle: it can be read, diffed and loaded safely, and
its coefficients go into the extractor's config, so the manifest and the score-cache key change
with it. Applying it is a dot product (written by hand: re-creating a scikit-learn object for a
dot product would tie the file to one scikit-learn version).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..files import home, write_json
from .fusion import zscore

FEATURES = ("z", "rr")  # per scorer: z-score within the context, reciprocal rank
FORMAT = "ids-extract-learned-fusion/1"


def fusion_home() -> Path:
    """Where models saved by name live (``$IDS_EXTRACT_HOME/fusion``, default ~/.cache/...)."""
    return home() / "fusion"


def features(per_scorer: Mapping[str, np.ndarray], names: Sequence[str]) -> np.ndarray:
    """``(sentences, len(names) * 2)`` feature matrix of one question."""
    cols = []
    for name in names:
        scores = np.asarray(per_scorer[name], dtype=np.float64)
        z = zscore(scores)
        rank = np.empty(len(scores))
        rank[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
        cols += [z, 1.0 / (1.0 + rank)]
    return np.column_stack(cols) if cols else np.zeros((0, 0))


@dataclass
class LearnedFusion:
    """A fitted linear fusion; ``score`` gives one fused score per sentence (a logit)."""

    scorers: list[str]
    coef: list[float]
    intercept: float
    fitted_on: dict[str, Any] = field(default_factory=dict)
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    path: str | None = None

    def score(self, per_scorer: Mapping[str, np.ndarray]) -> np.ndarray:
        missing = [n for n in self.scorers if n not in per_scorer]
        if missing:
            raise ConfigError(f"learned fusion needs scorers {missing} (fitted on {self.scorers})")
        return np.asarray(features(per_scorer, self.scorers) @ np.asarray(self.coef)
                          + self.intercept)

    def config(self) -> dict[str, Any]:
        """Enters the extractor's config: coefficients, not only a path, identify the output."""
        return {"method": "learned", "model": self.path, "scorers": self.scorers,
                "features": self.features, "coef": [round(c, 8) for c in self.coef],
                "intercept": round(self.intercept, 8)}

    def weights(self) -> dict[str, float]:
        """The z-score weight of each scorer (for reading the model)."""
        return {n: self.coef[i * len(FEATURES)] for i, n in enumerate(self.scorers)}

    def save(self, target: str | os.PathLike[str]) -> Path:
        payload = {"format": FORMAT, **{k: v for k, v in asdict(self).items() if k != "path"}}
        write_json(payload, target)
        self.path = str(Path(target).resolve())
        return Path(target)

    @classmethod
    def load(cls, name_or_path: str | os.PathLike[str]) -> LearnedFusion:
        """A fusion file by path, or by name from :func:`fusion_home` (``NAME`` → ``NAME.json``)."""
        return _load(name_or_path)


def _load(name_or_path: str | os.PathLike[str]) -> LearnedFusion:
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        by_name = fusion_home() / f"{name_or_path}.json"
        if not by_name.is_file():
            raise ConfigError(f"learned fusion {str(name_or_path)!r}: no such file, and no "
                              f"{by_name} (fit one with 'ids-extract fit-fusion')")
        path = by_name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError(f"format is {raw.get('format')!r}, not {FORMAT!r}")
        if raw.get("features", list(FEATURES)) != list(FEATURES):
            raise ValueError(f"unknown features {raw.get('features')}")
        model = LearnedFusion(list(raw["scorers"]), [float(c) for c in raw["coef"]],
                              float(raw["intercept"]), dict(raw.get("fitted_on", {})))
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"{path}: not a learned-fusion file ({err})") from None
    if len(model.coef) != len(FEATURES) * len(model.scorers):
        raise ConfigError(f"{path}: {len(model.coef)} coefficients for {model.scorers}")
    model.path = str(path.resolve())
    return model


def fit(per_scorer: Mapping[str, Sequence[np.ndarray]], labels: Sequence[np.ndarray],
        C: float = 1.0, fitted_on: Mapping[str, Any] | None = None, *,
        weights: Sequence[float] | None = None, nonnegative: bool = False) -> LearnedFusion:
    """Logistic regression of sentence labels on the scorers' features (one row per sentence
    of every question; questions with no positive sentence carry no signal and are skipped).

    ``weights``: one weight per question (e.g. clean questions weighed as a user's input would
    be against the stressed ones). ``nonnegative``: every coefficient ≥ 0, so that no signal can
    count as evidence *against* a sentence (fitted where half the questions carry a distractor,
    an unconstrained fit learns that word overlap with the question is suspicious, and loses
    clean questions for it)."""
    names = list(per_scorer)
    rows, ys, ws = [], [], []
    for q, y in enumerate(labels):
        if len(y) < 2 or not np.any(y):
            continue
        rows.append(features({n: per_scorer[n][q] for n in names}, names))
        ys.append(np.asarray(y, dtype=np.int64))
        ws.append(np.full(len(y), 1.0 if weights is None else float(weights[q])))
    if not rows:
        raise ConfigError("learned fusion: no question with a labelled sentence to fit on")
    X, Y, W = np.vstack(rows), np.concatenate(ys), np.concatenate(ws)
    coef, intercept = _nonnegative(X, Y, W, C) if nonnegative else _logistic(X, Y, W, C)
    info = {"questions": len(rows), "sentences": int(len(Y)), "positives": int(Y.sum()), "C": C,
            **({"nonnegative": True} if nonnegative else {}), **(fitted_on or {})}
    return LearnedFusion(names, [float(c) for c in coef], float(intercept), info)


def _logistic(X: np.ndarray, Y: np.ndarray, W: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=1000).fit(X, Y, sample_weight=W)
    return model.coef_[0], float(model.intercept_[0])


def _nonnegative(X: np.ndarray, Y: np.ndarray, W: np.ndarray,
                 C: float) -> tuple[np.ndarray, float]:
    """The same penalised logistic loss as scikit-learn's (L2 on the coefficients, weights per
    row), minimised with every coefficient bounded below by 0: scikit-learn's
    ``LogisticRegression`` takes no bounds, scipy's L-BFGS-B does."""
    from scipy.optimize import minimize

    sign = 2.0 * Y - 1.0  # (rows,)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        beta, b = theta[:-1], theta[-1]
        margin = sign * (X @ beta + b)  # (rows,)
        value = float(W @ np.logaddexp(0.0, -margin)) + 0.5 * float(beta @ beta) / C
        d = -W * sign * np.exp(-np.logaddexp(0.0, margin))  # d loss / d logit, (rows,)
        return value, np.append(X.T @ d + beta / C, d.sum())

    bounds = [(0.0, None)] * X.shape[1] + [(None, None)]
    found = minimize(loss, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return found.x[:-1], float(found.x[-1])


def cross_fit(per_scorer: Mapping[str, Sequence[np.ndarray]], labels: Sequence[np.ndarray],
              groups: Sequence[str], folds: int = 4, C: float = 1.0, *,
              weights: Sequence[float] | None = None,
              nonnegative: bool = False) -> list[np.ndarray]:
    """Out-of-fold fused scores: the items are cut into ``folds`` folds of whole ``groups``
    (articles), and each fold is scored by a fusion fitted on the others. Why: a fusion scored on
    the items it was fitted on looks better than it is; these scores give an honest figure."""
    names = sorted(set(groups), key=list(groups).index)
    fold_of = {g: n % max(min(folds, len(names)), 1) for n, g in enumerate(names)}
    out: list[np.ndarray] = [np.zeros(len(y)) for y in labels]
    for fold in sorted(set(fold_of.values())):
        train = [q for q, g in enumerate(groups) if fold_of[g] != fold]
        test = [q for q, g in enumerate(groups) if fold_of[g] == fold]
        if not train:  # one group only: nothing to hold out from
            train = test
        model = fit({n: [v[q] for q in train] for n, v in per_scorer.items()},
                    [labels[q] for q in train], C=C, nonnegative=nonnegative,
                    weights=None if weights is None else [weights[q] for q in train])
        for q in test:
            out[q] = model.score({n: v[q] for n, v in per_scorer.items()})
    return out
