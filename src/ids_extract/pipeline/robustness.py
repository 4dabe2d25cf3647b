"""Figures of every signal and of fusions on a QA set and on its stress set (the same questions,
each with its distractor inserted, :mod:`ids_extract.squad.stress`): top-1/2/3 sentence recall,
and how often the distractor itself is ranked first.

Shared by ``train-extractor`` (held-out training articles) and ``bench/extractor.py`` (dev). Each
signal's scores are cached in a folder, keyed by the scorer's config and the units, so that a
killed scoring pass resumes with the signals already scored.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..files import config_key, write_bytes, write_json
from ..models.runtime import speed_flags
from ..progress import console
from ..scorers.base import Scorer
from ..select.cascade import Cascade, candidates
from ..select.fusion import Fusion
from ..select.stats import TOP_K
from ..select.units import Units, unit_of
from ..squad.stress import StressSet
from ..squad.units import SquadUnits, answer_units
from .scoring import score_units

PerSignal = dict[str, list[np.ndarray]]


def units_key(units: Units) -> str:
    """A short hash of what is scored: texts, unit spans and questions."""
    return config_key([units.texts, units.spans, units.queries, units.owner])


def signal_scores(units: SquadUnits, scorers: Sequence[Scorer], cache: Path | None,
                  cascade: Cascade | None = None, quiet: bool = True) -> PerSignal:
    """Every scorer over every item, each cached on its own (:func:`cached_scores`); with a
    ``cascade``, the expensive ones read only the top-k units of the cheap ones, as
    :func:`~.scoring.score_units` does in one pass."""
    if cascade is not None:
        cascade.check([s.name for s in scorers])
    out: PerSignal = {}
    for scorer in sorted(scorers, key=lambda s: cascade is not None and s.name in cascade.expensive):
        chosen = None
        if cascade is not None and scorer.name in cascade.expensive:
            chosen = candidates({n: v for n, v in out.items() if n not in cascade.expensive},
                                cascade.k)
        out[scorer.name] = cached_scores(units, scorer, cache, quiet, chosen)
    return {s.name: out[s.name] for s in scorers}


def cached_scores(units: Units, scorer: Scorer, cache: Path | None,
                  quiet: bool = True, chosen: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """One scorer over every item (only the units ``chosen`` per item, when given: a cascade);
    with ``cache``, read from or written to ``cache/<name>-<key>.npz`` (key: the scorer's config,
    the units and the chosen units)."""
    return timed_scores(units, scorer, cache, quiet, chosen)[0]


def timed_scores(units: Units, scorer: Scorer, cache: Path | None, quiet: bool = True,
                 chosen: list[np.ndarray] | None = None) -> tuple[list[np.ndarray], float | None]:
    """:func:`cached_scores` and the seconds the scoring took: measured now, or as the cache file
    recorded it (None for a file written before the time was recorded)."""
    path = None
    if cache is not None:
        path = cache_path(units, scorer, cache, chosen)
        if path.is_file():
            with np.load(path) as z:
                flat, lengths = z["flat"], z["lengths"]
                seconds = float(z["seconds"]) if "seconds" in z.files else None
            bounds = np.cumsum(np.concatenate([[0], lengths]))
            return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)], seconds
    if not quiet:
        console.print(f"scoring {len(units)} items with {scorer.name}")
    began = time.perf_counter()
    scores = score_units(units, [scorer], _Only(scorer.name), quiet=quiet,
                         candidates=chosen).per_scorer[scorer.name]
    took = time.perf_counter() - began
    if path is not None:
        buffer = io.BytesIO()
        np.savez(buffer, flat=np.concatenate(scores) if scores else np.zeros(0),
                 lengths=np.array([len(s) for s in scores], dtype=np.int64), seconds=took)
        write_bytes(buffer.getvalue(), path)
        read = sum(len(c) for c in chosen) if chosen is not None else sum(len(s) for s in scores)
        write_json({"seconds": round(took, 3), "items": len(scores), "units_read": read,
                    "cpu_flags": speed_flags()}, path.with_suffix(".time.json"))
    return scores, took


def cache_path(units: Units, scorer: Scorer, cache: Path,
               chosen: list[np.ndarray] | None = None) -> Path:
    """Where :func:`cached_scores` keeps one scorer's scores of these units."""
    key: list[Any] = [scorer.config(), units_key(units)]
    if chosen is not None:
        key.append(config_key([c.tolist() for c in chosen]))
    return cache / f"{scorer.name}-{config_key(key)}.npz"


def scoring_seconds(units: Units, scorer: Scorer, cache: Path) -> dict[str, Any] | None:
    """What scoring these units with ``scorer`` cost when it was cached (seconds, items, units
    read, CPU flags); None when it was not timed."""
    path = cache_path(units, scorer, cache).with_suffix(".time.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


class _Only:
    """The identity 'fusion' of one scorer (the scoring pass wants one)."""

    def __init__(self, name: str) -> None:
        self.scorers = [name]

    def score(self, per_scorer: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(per_scorer[self.scorers[0]])

    def config(self) -> dict[str, Any]:
        return {"method": "none"}


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
        order = np.argsort(-np.asarray(scores[q], dtype=np.float64), kind="stable")
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
