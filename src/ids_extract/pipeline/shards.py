"""One shard's scores on disk: what the scoring pass saves (unit spans and every score) and how a
later pass or a resumed run gets them back without running a model.

The local engine and the Ray actors both call :func:`score_shard`, so they write the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..files import write_bytes
from ..progress import Meter, stage
from ..select.segment import Span
from ..squad.model import SquadDataset
from ..squad.units import SquadUnits
from .extractor import Extractor
from .scoring import Scored


@contextlib.contextmanager
def silenced(extractor: Extractor) -> Iterator[None]:
    """The extractor's own per-step bars off (the engine shows one bar per pass)."""
    quiet, extractor.quiet = extractor.quiet, True
    try:
        yield
    finally:
        extractor.quiet = quiet


def score_shard(extractor: Extractor, shard: SquadDataset,
                meter: Meter | None = None) -> dict[str, np.ndarray]:
    """Segment and score one shard; the arrays that the cache file holds."""
    with silenced(extractor):
        with stage("segment"):
            units = extractor.segment(shard)
        scored = extractor.score(units, meter)
    return shard_arrays(units.spans, scored)


def shard_arrays(spans: Sequence[Sequence[Span]], scored: Scored) -> dict[str, np.ndarray]:
    """The arrays of one shard's cache file: every document's unit spans and every score."""
    counts = np.array([len(s) for s in spans], dtype=np.int64)
    flat = np.array([se for s in spans for se in s], dtype=np.int64).reshape(-1, 2)
    return {"span_counts": counts, "spans": flat, **scored.to_arrays()}


def read_shard(path: Path) -> tuple[list[list[Span]], Scored]:
    """Spans and scores back from a shard's cache file (no model, no segmenter)."""
    with stage("read cache"), np.load(path) as arrays:
        loaded = {k: arrays[k] for k in arrays.files}
    bounds = np.cumsum(np.concatenate([[0], loaded["span_counts"]]))
    spans: list[list[Span]] = [[(int(s), int(e)) for s, e in loaded["spans"][a:b]]
                               for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return spans, Scored.from_arrays(loaded)


def unpack_shard(extractor: Extractor, shard: SquadDataset,
                 path: Path) -> tuple[SquadUnits, Scored]:
    """A shard's units and scores from its cache file (spans as saved, so no segmenter runs and
    the units are exactly those that were scored)."""
    spans, scored = read_shard(path)
    with silenced(extractor):
        units = extractor.segment(shard, spans_given=spans)
    return units, scored


def pack_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def save_shard(path: Path, arrays: dict[str, np.ndarray] | bytes) -> None:
    """Write one shard's arrays (or their packed bytes) atomically."""
    write_bytes(arrays if isinstance(arrays, bytes) else pack_bytes(arrays), path)


def dump_shard(shard: SquadDataset) -> bytes:
    """A shard as bytes for another process (Ray workers)."""
    return pickle.dumps(shard, protocol=pickle.HIGHEST_PROTOCOL)
