"""The scoring pass as a Ray Data job (``engine="ray"``; install ``ids-extract[ray]``).

Shards go through ``map_batches`` to a pool of actors; each actor unpickles the driver once (the
models stay loaded) and returns the same arrays the local engine computes, so the written datasets
are byte-identical. Ray runs on a local instance by default, or joins ``address`` (a cluster).
Shards are submitted in windows so that the driver never holds the whole input.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from itertools import islice
from typing import Any

import numpy as np

from ..errors import ConfigError
from .shards import AnyDriver, dump_shard, pack_bytes, score_shard


class _ShardScorer:
    """A Ray actor: holds one driver (and its models) and scores the shards it is sent."""

    def __init__(self, driver_blob: bytes, threads: int | None) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.driver: AnyDriver = pickle.loads(driver_blob)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"shard": [], "npz": []}
        for k, blob in zip(batch["shard"], batch["payload"], strict=True):
            out["shard"].append(int(k))
            out["npz"].append(pack_bytes(score_shard(self.driver, pickle.loads(blob))))
        return out


def _init(address: str | None) -> Any:
    try:
        import ray
    except ImportError as err:
        raise ConfigError("`engine` ray needs Ray: pip install 'ids-extract[ray]'") from err
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False,
                                  "include_dashboard": False}
        if address:
            kwargs["address"] = address
        ray.init(**kwargs)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


def score_shards(driver: AnyDriver, shards: Iterator[tuple[int, Any]],
                 address: str | None, actors: int | None) -> Iterator[tuple[int, bytes]]:
    """Yield ``(shard index, packed arrays)`` for every shard, scored on the Ray cluster."""
    ray = _init(address)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    gpus = int(ray.cluster_resources().get("GPU", 0))
    pool = actors or max(1, gpus or 1)
    threads = None if gpus else max(1, min(cpus // pool, os.cpu_count() or 1))
    blob = pickle.dumps(driver)
    window = max(2 * pool, 4)
    for items in _windows(shards, window):
        ds = ray.data.from_items([{"shard": k, "payload": dump_shard(s)} for k, s in items])
        scored = ds.map_batches(
            _ShardScorer, fn_constructor_args=(blob, threads), batch_size=1,
            concurrency=pool, num_cpus=threads or 1, num_gpus=1 if gpus else 0,
            batch_format="numpy",
        )
        for row in scored.iter_rows():
            yield int(row["shard"]), bytes(row["npz"])


def _windows(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(items, size)):
        yield chunk

