"""The scoring pass, whatever the task: every scorer over :class:`Units` in batches of whole
documents, then one fused score and one ranking per item.

The result (:class:`Scored`) is what a shard's cache file holds, so a resumed run rebuilds it
without running a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..progress import track
from ..scorers.base import Scorer
from ..select import fusion
from ..select.fusion import Fusion
from ..select.units import Units


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
                chunk_size: int = 4096, quiet: bool = True) -> Scored:
    """Run every scorer over the items in batches of whole documents, then fuse."""
    per_scorer: dict[str, list[np.ndarray]] = {s.name: [] for s in scorers}
    batches = list(units.batches(chunk_size))
    for _, batch in track(batches, "scoring", len(batches), quiet):
        for scorer in scorers:
            per_scorer[scorer.name].extend(scorer.score(batch))
    fused = [fuser.score({n: v[q] for n, v in per_scorer.items()}) for q in range(len(units))]
    return Scored(per_scorer, fused)
