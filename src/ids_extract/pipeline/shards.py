"""One shard's scores on disk: what the scoring pass saves (unit spans and every score) and how a
later pass or a resumed run gets them back without running a model.

The local engine and the Ray actors both call :func:`score_shard`, so they write the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..files import config_key, write_bytes
from ..progress import Meter, add_stage, stage
from ..select.segment import Span
from ..select.units import Units
from .driver import D, Driver, Task, U
from .folder import CACHE
from .scoring import Scored

#: any task's driver: the cache holds units' spans and scores, whatever the task
AnyDriver = Driver[Any, Any, Any, Any]


@contextlib.contextmanager
def silenced(driver: AnyDriver) -> Iterator[None]:
    """The driver's own per-step bars off (the engine shows one bar per pass)."""
    quiet, driver.quiet = driver.quiet, True
    try:
        yield
    finally:
        driver.quiet = quiet


def score_shard(driver: AnyDriver, shard: Any,
                meter: Meter | None = None) -> dict[str, np.ndarray]:
    """Segment and score one shard of the task's data; the arrays that the cache file holds."""
    with silenced(driver):
        with stage("segment"):
            units = driver.units(shard)
        return score_segmented(driver, units, meter)


def score_segmented(driver: AnyDriver, units: Units,
                    meter: Meter | None = None) -> dict[str, np.ndarray]:
    """Score one shard already segmented (:func:`segmented_ahead`); the same arrays as
    :func:`score_shard`."""
    with silenced(driver):
        scored = driver.score(units, meter)
    return shard_arrays(units.spans, scored)


def _units_timed(task: Task[D, U, Any, Any], segmenter: str, shard: D) -> tuple[U, float]:
    """What the worker process runs: the task's units of one shard, timed there."""
    start = time.perf_counter()
    units = task.units(shard, segmenter, spans=None, quiet=True)
    return units, time.perf_counter() - start


def _exit_with(parent: int) -> None:
    """Worker initializer: leave when ``parent`` is gone. After a ``kill -9`` of the run nothing
    else tells the worker (its task queue keeps a writer of its own), and it would wait forever."""
    import threading

    def watch() -> None:
        """Poll the parent once a second; exit this worker at once when it has gone (signal 0
        checks that the pid exists without touching the process)."""
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except (ProcessLookupError, PermissionError):  # gone (or the pid is someone else's)
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def segmented_ahead(driver: Driver[D, U, Any, Any], shards: Iterator[tuple[int, D]]
                    ) -> Iterator[tuple[int, U]]:
    """``(k, units)`` per shard, shard k+1 segmented in a worker process while the caller scores
    shard k. The segmenter (pysbd) is pure Python and holds the GIL, so a thread would slow the
    scorers' own Python rather than overlap (measured); a process overlaps with the encoders.

    The worker is started by ``forkserver`` (``spawn`` where there is none), not forked: a
    forked child would inherit the output folder's lock and keep it after a ``kill -9`` of this
    process. It gets only the task (a small picklable object) and the segmenter's name, and
    returns exactly what :meth:`Driver.units` returns."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    run = partial(_units_timed, driver.task, driver.selector.segmenter)
    with ProcessPoolExecutor(1, mp_context=mp.get_context(method), initializer=_exit_with,
                             initargs=(os.getpid(),)) as pool:
        pending: tuple[int, Future[tuple[U, float]]] | None = None
        for k, shard in shards:
            ahead = (k, pool.submit(run, shard))
            if pending is not None:
                yield pending[0], _collect(pending[1])
            pending = ahead
        if pending is not None:
            yield pending[0], _collect(pending[1])


def _collect(future: Future[tuple[U, float]]) -> U:
    units, seconds = future.result()
    add_stage("segment", seconds)  # the worker's time: it overlaps the scoring
    return units


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


def unpack_shard(driver: Driver[D, U, Any, Any], shard: D, path: Path) -> tuple[U, Scored]:
    """A shard's units and scores from its cache file (spans as saved, so no segmenter runs and
    the units are exactly those that were scored)."""
    spans, scored = read_shard(path)
    with silenced(driver):
        units = driver.units(shard, spans)
    return units, scored


def pack_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def save_shard(path: Path, arrays: dict[str, np.ndarray] | bytes) -> None:
    """Write one shard's arrays (or their packed bytes) atomically."""
    write_bytes(arrays if isinstance(arrays, bytes) else pack_bytes(arrays), path)


class ShardCache:
    """The score cache of one run in an output folder: ``.cache/shards-<key>/shard-NNNNN.npz``,
    ``<key>`` a hash of everything the scores depend on (scorer configs with model content
    hashes, split, segmenter, fusion, the input's sha256, limit, shard size, …), so a re-run
    with the same key reuses every finished shard and any change scores afresh."""

    def __init__(self, out: Path, depends_on: Mapping[str, Any]) -> None:
        self.folder = out / CACHE / f"shards-{config_key(dict(depends_on))}"

    def path(self, k: int) -> Path:
        return self.folder / f"shard-{k:05d}.npz"

    def has(self, k: int) -> bool:
        return self.path(k).exists()

    def save(self, k: int, arrays: dict[str, np.ndarray] | bytes) -> None:
        save_shard(self.path(k), arrays)

    def read(self, k: int) -> tuple[list[list[Span]], Scored]:
        return read_shard(self.path(k))


def dump_shard(shard: Any) -> bytes:
    """A shard as bytes for another process (Ray workers)."""
    return pickle.dumps(shard, protocol=pickle.HIGHEST_PROTOCOL)
