"""Figures of every signal and of fusions on a QA set and on its stress set (the same questions,
each with its distractor inserted, :mod:`ids_extract.squad.stress`): top-1/2/3 sentence recall,
and how often the distractor itself is ranked first.

Shared by ``train-extractor`` (held-out training articles) and the benches (dev). The scores
come from :meth:`~.selector.Selector.score` with a cache folder (each signal kept on its own);
the ranking is :func:`ids_extract.select.fusion.ranking`, the driver's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..select.fusion import Fusion, ranking
from ..select.stats import TOP_K
from ..select.units import unit_of
from ..squad.stress import StressSet
from ..squad.units import SquadUnits, answer_units

PerSignal = dict[str, list[np.ndarray]]


def distractor_units(units: SquadUnits, stress: StressSet) -> list[int | None]:
    """Per item, the unit holding its distractor's start; None when it got no distractor, or
    when the segmenter merged the distractor into the answer's own unit (ranking that unit first
    is then right, not fooled)."""
    gold = answer_units(units)
    out: list[int | None] = []
    for q, (p, qa) in enumerate(zip(units.owner, units.qas, strict=True)):
        inserted = stress.inserted.get(qa.id)
        unit = unit_of(units.spans[p], inserted.start) if inserted else None
        out.append(None if unit is None or unit in gold[q] else unit)
    return out


def fused(per_signal: Mapping[str, Sequence[np.ndarray]], fusion: Fusion) -> list[np.ndarray]:
    """One fused score array per item."""
    n = len(next(iter(per_signal.values())))
    return [fusion.score({s: per_signal[s][q] for s in fusion.scorers}) for q in range(n)]


def figures(scores: Sequence[np.ndarray], gold: Sequence[set[int]],
            distractors: Sequence[int | None] | None = None) -> dict[str, float]:
    """Top-k recall (%) over the items with an answer unit; with ``distractors``, also the share
    (%) of those items whose best unit is the distractor."""
    hits = dict.fromkeys(TOP_K, 0)
    first = counted = 0
    for q, units in enumerate(gold):
        if not units:
            continue
        counted += 1
        order = ranking(np.asarray(scores[q], dtype=np.float64))
        for k in TOP_K:
            hits[k] += bool(units & set(order[:k].tolist()))
        if distractors is not None and distractors[q] is not None:
            first += int(order[0]) == distractors[q]
    out = {f"top{k}": _pct(hits[k], counted) for k in TOP_K}
    if distractors is not None:
        out["distractor_first"] = _pct(first, counted)
    out["questions"] = counted
    return out


def compare(clean: Mapping[str, Sequence[np.ndarray]], stressed: Mapping[str, Sequence[np.ndarray]],
            clean_gold: Sequence[set[int]], stress_gold: Sequence[set[int]],
            distractors: Sequence[int | None]) -> dict[str, dict[str, float]]:
    """Per signal (or fusion): clean top-1/2/3, stressed top-1, the loss in points, and the
    share of questions whose distractor was ranked first."""
    rows = {}
    for name in clean:
        c = figures(clean[name], clean_gold)
        s = figures(stressed[name], stress_gold, distractors)
        rows[name] = {**{k: c[k] for k in ("top1", "top2", "top3")}, "stress_top1": s["top1"],
                      "top1_loss": round(c["top1"] - s["top1"], 2),
                      "distractor_first": s["distractor_first"]}
    return rows


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0
