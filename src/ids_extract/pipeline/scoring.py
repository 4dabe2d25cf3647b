"""The scoring pass, whatever the task: every scorer over :class:`Units` in batches of whole
documents, then one fused score and one ranking per item.

The result (:class:`Scored`) is what a shard's cache file holds, so a resumed run rebuilds it
without running a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import ScorerError
from ..progress import Meter, stage
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
