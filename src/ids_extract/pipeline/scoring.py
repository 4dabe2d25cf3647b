"""The scoring pass, whatever the task: every scorer over :class:`Units` in batches of whole
documents, then one fused score and one ranking per item.

The result (:class:`Scored`) is what a shard's cache file holds, so a resumed run rebuilds it
without running a model. :func:`score_cached` is the same pass one scorer at a time, each
scorer's scores kept on their own (:class:`ScoreCache`): the held-out stages of
``train-extractor`` and the benches measure every subset of signals from one such pass, and a
killed pass resumes with the scorers already done.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ScorerError
from ..files import config_key, write_bytes, write_json
from ..models.runtime import speed_flags
from ..progress import Meter, console, stage
from ..scorers.base import Scorer
from ..select import fusion
from ..select.cascade import Cascade, masked
from ..select.cascade import candidates as cascade_candidates
from ..select.fusion import Fusion
from ..select.units import ScoringBatch, Units


@dataclass
class Scored:
    """Raw scores per scorer and the fused scores, one array per item."""

    per_scorer: dict[str, list[np.ndarray]]
    fused: list[np.ndarray]
    #: the seconds each scorer took (:func:`score_cached`: as measured now, or as its cache
    #: file recorded; None for a file written before times were kept); empty for one pass
    seconds: dict[str, float | None] = field(default_factory=dict)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat form for the on-disk cache (``np.savez``)."""
        lengths = np.array([len(f) for f in self.fused], dtype=np.int64)
        arrays = {"lengths": lengths, "fused": _flat(self.fused)}
        arrays.update({f"scorer:{k}": _flat(v) for k, v in self.per_scorer.items()})
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Scored:
        """Back from :meth:`to_arrays` (a resumed run needs no model for finished shards)."""
        bounds = np.cumsum(np.concatenate([[0], arrays["lengths"]]))

        def split(flat: np.ndarray) -> list[np.ndarray]:
            return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

        per_scorer = {k.split(":", 1)[1]: split(v) for k, v in arrays.items()
                      if k.startswith("scorer:")}
        return cls(per_scorer, split(arrays["fused"]))

    def rankings(self, names: Sequence[str]) -> list[np.ndarray]:
        """Per item, its unit indices best first (ties broken by the scorers' own z-scores in
        the order ``names`` gives, then by position: see :func:`fusion.ranking`)."""
        return [fusion.ranking(f, *(fusion.zscore(self.per_scorer[n][q]) for n in names))
                for q, f in enumerate(self.fused)]


def _flat(parts: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)


def score_units(units: Units, scorers: Sequence[Scorer], fuser: Fusion, *,
                chunk_size: int = 4096, quiet: bool = True, meter: Meter | None = None,
                cascade: Cascade | None = None,
                candidates: Sequence[np.ndarray] | None = None) -> Scored:
    """Run every scorer over the items in batches of whole documents, then fuse. Progress is
    advanced in items × scorers and shows items (``Meter.per``), on ``meter`` when the caller
    has one (the engine's pass).

    With ``cascade``, the cheap scorers run first and the expensive ones read only each item's
    top-k units of the cheap fusion (:mod:`ids_extract.select.cascade`); ``candidates`` (one
    index array per item) gives those units directly, for scorers scored one at a time."""
    if meter is None:
        with Meter("scoring", len(units), quiet, per=len(scorers)) as own:
            return score_units(units, scorers, fuser, chunk_size=chunk_size, meter=own,
                               cascade=cascade, candidates=candidates)
    if cascade is not None:
        cascade.check([s.name for s in scorers])
        scorers = sorted(scorers, key=lambda s: s.name in cascade.expensive)  # cheap ones first
    per_scorer: dict[str, list[np.ndarray]] = {s.name: [] for s in scorers}
    for items, batch in units.batches(chunk_size):
        found: dict[str, list[np.ndarray]] = {}
        for scorer in scorers:
            chosen = _chosen(scorer.name, cascade, found, candidates, items)
            found[scorer.name] = _score(scorer, batch, chosen, meter)
        for name, scores in found.items():
            per_scorer[name].extend(scores)
    with stage("fuse"):
        fused = [fuser.score({n: v[q] for n, v in per_scorer.items()}) for q in range(len(units))]
    return Scored(per_scorer, fused)


def score_cached(units: Units, scorers: Sequence[Scorer], fuser: Fusion, cache: Path, *,
                 cascade: Cascade | None = None, quiet: bool = True) -> Scored:
    """:func:`score_units`, one scorer at a time over every item, each scorer's scores read
    from ``cache`` or scored and kept there (:class:`ScoreCache`); with ``cascade``, the
    expensive scorers read each item's top-k units of the cheap ones, as in one pass."""
    if cascade is not None:
        cascade.check([s.name for s in scorers])
    store = ScoreCache(cache)
    per_scorer: dict[str, list[np.ndarray]] = {}
    seconds: dict[str, float | None] = {}
    for scorer in sorted(scorers, key=lambda s: cascade is not None and s.name in cascade.expensive):
        chosen = None
        if cascade is not None and scorer.name in cascade.expensive:
            chosen = cascade_candidates({n: v for n, v in per_scorer.items()
                                         if n not in cascade.expensive}, cascade.k)
        per_scorer[scorer.name], seconds[scorer.name] = store.scores(units, scorer, chosen, quiet)
    per_scorer = {s.name: per_scorer[s.name] for s in scorers}
    with stage("fuse"):
        fused = [fuser.score({n: v[q] for n, v in per_scorer.items()}) for q in range(len(units))]
    return Scored(per_scorer, fused, {s.name: seconds[s.name] for s in scorers})


def units_key(units: Units) -> str:
    """A short hash of what is scored: texts, unit spans, queries and which text each reads."""
    return config_key([units.texts, units.spans, units.queries, units.owner])


@dataclass
class ScoreCache:
    """One scorer's scores of some units, in ``folder/<scorer>-<key>.npz``, keyed by the
    scorer's config (every option that can change a score, models by content hash), the units
    and, under a cascade, the units it read; beside it ``.time.json``: the seconds scoring took,
    the items, the units read and the CPU flags."""

    folder: Path

    def path(self, units: Units, scorer: Scorer, chosen: Sequence[np.ndarray] | None = None
             ) -> Path:
        key: list[Any] = [scorer.config(), units_key(units)]
        if chosen is not None:
            key.append(config_key([c.tolist() for c in chosen]))
        return self.folder / f"{scorer.name}-{config_key(key)}.npz"

    def scores(self, units: Units, scorer: Scorer, chosen: Sequence[np.ndarray] | None = None,
               quiet: bool = True) -> tuple[list[np.ndarray], float | None]:
        """The scorer's scores of every item (read, or scored now and kept) and their seconds."""
        path = self.path(units, scorer, chosen)
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
        buffer = io.BytesIO()
        np.savez(buffer, flat=np.concatenate(scores) if scores else np.zeros(0),
                 lengths=np.array([len(s) for s in scores], dtype=np.int64), seconds=took)
        write_bytes(buffer.getvalue(), path)
        read = sum(len(c) for c in chosen) if chosen is not None else sum(len(s) for s in scores)
        write_json({"seconds": round(took, 3), "items": len(scores), "units_read": read,
                    "cpu_flags": speed_flags()}, path.with_suffix(".time.json"))
        return scores, took

    def timing(self, units: Units, scorer: Scorer) -> dict[str, Any] | None:
        """What scoring these units (every unit read) cost when it was kept: seconds, items,
        units read, CPU flags; None when it was not timed."""
        path = self.path(units, scorer).with_suffix(".time.json")
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


class _Only:
    """The identity 'fusion' of one scorer (the scoring pass wants one)."""

    def __init__(self, name: str) -> None:
        self.scorers = [name]

    def score(self, per_scorer: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(per_scorer[self.scorers[0]])

    def config(self) -> dict[str, Any]:
        return {"method": "none"}


def _chosen(name: str, cascade: Cascade | None, found: Mapping[str, list[np.ndarray]],
            given: Sequence[np.ndarray] | None, items: range) -> list[np.ndarray] | None:
    """The units scorer ``name`` reads per item of this batch (None: all of them)."""
    if given is not None:
        return [given[q] for q in items]
    if cascade is None or name not in cascade.expensive:
        return None
    cheap = {n: v for n, v in found.items() if n not in cascade.expensive}
    chosen = cascade_candidates(cheap, cascade.k)
    every = next(iter(cheap.values()))
    if all(len(c) == len(s) for c, s in zip(chosen, every, strict=True)):
        return None  # k covers every unit: the expensive scorers read all, as without a cascade
    return chosen


def _score(scorer: Scorer, batch: ScoringBatch, chosen: list[np.ndarray] | None,
           meter: Meter) -> list[np.ndarray]:
    """One scorer over one batch, in its calls; with ``chosen``, the scorer is told the
    candidate units and every other unit's score is replaced (:func:`cascade.masked`)."""
    if chosen is not None:
        batch = replace(batch, candidates=chosen)
    out: list[np.ndarray] = []
    for part in _calls(batch, scorer.items_per_call):
        with stage(f"score: {scorer.name}"):
            scores = scorer.score(part)
        out.extend(checked(scorer, part, scores))
        meter.advance(len(part.queries))
    return out if chosen is None else [masked(s, c) for s, c in zip(out, chosen, strict=True)]


def _calls(batch: ScoringBatch, size: int | None) -> list[ScoringBatch]:
    """The batch, or its items in groups of ``size`` (same documents), for a slow scorer."""
    n = len(batch.queries)
    if size is None or n <= size:
        return [batch]

    def part(xs: Sequence[Any] | None, i: int) -> Any:
        return xs[i:i + size] if xs is not None else None

    return [ScoringBatch(batch.contexts, batch.queries[i:i + size], batch.owner[i:i + size],
                         part(batch.labels, i), part(batch.candidates, i))
            for i in range(0, n, size)]


def checked(scorer: Scorer, batch: ScoringBatch, scores: Any) -> list[np.ndarray]:
    """The scorer's output if it is one finite score per unit for every item of the batch; a
    :class:`ScorerError` naming the scorer and the item otherwise (a custom scorer that returns
    too few scores or NaN would otherwise be used silently, or fail far away)."""
    if not isinstance(scores, list | tuple) or len(scores) != len(batch.queries):
        count = len(scores) if isinstance(scores, list | tuple) else type(scores).__name__
        raise ScorerError(f"scorer {scorer.name!r} returned {count} score arrays for a batch of "
                          f"{len(batch.queries)} items (one array per item is needed)")
    out = []
    for q, item in enumerate(scores):
        arr = np.asarray(item, dtype=np.float64)
        units = len(batch.contexts[batch.owner[q]])
        where = f"item {q} of the batch ({batch.queries[q][:50]!r})"
        if arr.shape != (units,):
            raise ScorerError(f"scorer {scorer.name!r} returned scores of shape {arr.shape} for "
                              f"{where}, whose text has {units} units")
        if not np.isfinite(arr).all():
            raise ScorerError(f"scorer {scorer.name!r} returned NaN or infinite scores for {where}")
        out.append(arr)
    return out
