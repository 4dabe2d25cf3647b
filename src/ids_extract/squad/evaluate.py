"""Official SQuAD v1.1 and v2.0 scoring: exact match and token F1.

Written by hand, following the official ``evaluate-v1.1.py`` and ``evaluate-v2.0.py`` scripts line
by line, because no maintained offline library does it: ``evaluate.load("squad")`` /
``"squad_v2"`` fetch their code from the hub, and transformers 5 dropped ``squad_metrics``.

The rules, as in the official scripts:

- answers are normalised (lower case, punctuation and the articles a/an/the removed, white space
  collapsed) before comparing;
- a prediction scores the **maximum** over the gold answers;
- v1.1: a question with no prediction scores 0; F1 is 0 when no token is shared;
- v2.0: an unanswerable question's gold is the empty string, so the prediction ``""`` scores 1
  and anything else 0 (and an empty prediction on an answerable question scores 0); gold answers
  that normalise to nothing are ignored; scores are split into ``HasAns`` and ``NoAns``; with
  no-answer probabilities, the best threshold on them is searched (``best_exact``, ``best_f1``).

All scores are percentages, as the official scripts print them.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import SquadDataset

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower text and remove punctuation, articles and extra white space (official rule)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> int:
    return int(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token F1 of the normalised strings; two empty strings agree (v2.0 rule)."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


@dataclass
class Gold:
    """The gold answer texts of one question, and whether it has any answer."""

    answers: list[str]
    has_answer: bool


def gold_answers(dataset: SquadDataset, version2: bool | None = None) -> dict[str, Gold]:
    """Per question id, its gold texts. v2.0: answers that normalise to nothing are dropped and
    an unanswerable question gets ``[""]``."""
    v2 = dataset.is_v2 if version2 is None else version2
    out: dict[str, Gold] = {}
    for _, _, qa in dataset.iter_qas():
        texts = [a.text for a in qa.answers]
        if v2:
            texts = [t for t in texts if normalize_answer(t)]
            has = bool(texts) and not qa.is_impossible
            out[qa.id] = Gold(texts if has else [""], has)
        else:
            out[qa.id] = Gold(texts, True)
    return out


def evaluate(
    dataset: SquadDataset,
    predictions: Mapping[str, str],
    na_probs: Mapping[str, float] | None = None,
    *,
    version2: bool | None = None,
    na_prob_thresh: float = 1.0,
) -> dict[str, Any]:
    """Score ``predictions`` (question id → answer text) against ``dataset``.

    The version follows the dataset (``is_v2``) unless ``version2`` is given. v1.1 returns
    ``exact_match``, ``f1``; v2.0 returns the official script's keys (``exact``, ``f1``,
    ``total``, ``HasAns_*``, ``NoAns_*``, and ``best_*`` when ``na_probs`` are given). Both add
    ``missing``: how many questions had no prediction.
    """
    golds = gold_answers(dataset, version2)
    v2 = dataset.is_v2 if version2 is None else version2
    missing = [qid for qid in golds if qid not in predictions]
    if not v2:
        return _evaluate_v1(golds, predictions, len(missing))
    return _evaluate_v2(golds, predictions, na_probs, na_prob_thresh, len(missing))


def _evaluate_v1(golds: Mapping[str, Gold], predictions: Mapping[str, str],
                 missing: int) -> dict[str, Any]:
    """v1.1: a missing prediction scores 0 (the official script counts it in the total)."""
    em = f1 = 0.0
    for qid, gold in golds.items():
        if qid not in predictions:
            continue
        em += max(exact_match(predictions[qid], g) for g in gold.answers)
        f1 += max(f1_score(predictions[qid], g) for g in gold.answers)
    total = len(golds)
    return {"exact_match": 100.0 * em / total if total else 0.0,
            "f1": 100.0 * f1 / total if total else 0.0, "total": total, "missing": missing}


def _evaluate_v2(golds: Mapping[str, Gold], predictions: Mapping[str, str],
                 na_probs: Mapping[str, float] | None, thresh: float,
                 missing: int) -> dict[str, Any]:
    """v2.0, as ``evaluate-v2.0.py``. A missing prediction is scored as the empty answer and
    counted in ``missing`` (the official script assumes every question has a prediction)."""
    exact: dict[str, float] = {}
    f1: dict[str, float] = {}
    for qid, gold in golds.items():
        pred = predictions.get(qid, "")
        exact[qid] = max(exact_match(pred, g) for g in gold.answers)
        f1[qid] = max(f1_score(pred, g) for g in gold.answers)
    probs = dict(na_probs) if na_probs is not None else {qid: 0.0 for qid in golds}
    has_ans = {qid: g.has_answer for qid, g in golds.items()}
    exact_t = _apply_threshold(exact, probs, has_ans, thresh)
    f1_t = _apply_threshold(f1, probs, has_ans, thresh)
    result = _summary(exact_t, f1_t)
    for tag, wanted in (("HasAns", True), ("NoAns", False)):
        ids = [q for q, h in has_ans.items() if h is wanted]
        if ids:
            part = _summary(exact_t, f1_t, ids)
            result.update({f"{tag}_{k}": v for k, v in part.items()})
    if na_probs is not None:
        preds = {qid: predictions.get(qid, "") for qid in golds}
        best_exact, exact_thresh = _best_threshold(exact, preds, probs, has_ans)
        best_f1, f1_thresh = _best_threshold(f1, preds, probs, has_ans)
        result.update({"best_exact": best_exact, "best_exact_thresh": exact_thresh,
                       "best_f1": best_f1, "best_f1_thresh": f1_thresh})
    result["missing"] = missing
    return result


def _apply_threshold(scores: Mapping[str, float], probs: Mapping[str, float],
                     has_ans: Mapping[str, bool], thresh: float) -> dict[str, float]:
    """Where the no-answer probability exceeds ``thresh`` the prediction counts as empty."""
    return {qid: (float(not has_ans[qid]) if probs.get(qid, 0.0) > thresh else s)
            for qid, s in scores.items()}


def _summary(exact: Mapping[str, float], f1: Mapping[str, float],
             ids: list[str] | None = None) -> dict[str, Any]:
    keys = list(exact) if ids is None else ids
    total = len(keys)
    return {"exact": 100.0 * sum(exact[k] for k in keys) / total if total else 0.0,
            "f1": 100.0 * sum(f1[k] for k in keys) / total if total else 0.0, "total": total}


def _best_threshold(scores: Mapping[str, float], preds: Mapping[str, str],
                    probs: Mapping[str, float], has_ans: Mapping[str, bool]) -> tuple[float, float]:
    """Official ``find_best_thresh``: start from predicting no answer everywhere, then admit the
    predictions in order of rising no-answer probability and keep the best running score."""
    current = best = float(sum(1 for h in has_ans.values() if not h))
    best_thresh = 0.0
    for qid in sorted(scores, key=lambda q: probs.get(q, 0.0)):
        if has_ans[qid]:
            current += scores[qid]
        elif preds[qid]:  # a non-empty prediction on an unanswerable question
            current -= 1
        if current > best:
            best, best_thresh = current, probs.get(qid, 0.0)
    total = len(scores)
    return (100.0 * best / total if total else 0.0), best_thresh


def headline(metrics: Mapping[str, Any]) -> tuple[float, float]:
    """(EM, F1) of a v1.1 or v2.0 result."""
    em = metrics.get("exact_match", metrics.get("exact"))
    return float(em if em is not None else 0.0), float(metrics["f1"])
