"""Equal compute: what one optimiser step of each reader size and length costs on this machine,
and a wall-clock training budget turned into each cell's number of steps.

Why steps and not a timer: the learning-rate schedule must run to zero at the end of the budget,
so the number of steps has to be known when the run starts. It is the budget divided by the
cell's measured seconds per step (:func:`probe`, measured on the same machine before the grid is
planned); the minutes a cell really took are recorded beside it, so a machine that was busier
during one cell shows in its row instead of being hidden in the plan.
"""

from __future__ import annotations

import json
import math
import resource
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...models.qa.features import ReaderConfig, examples_of
from ...models.qa.train import TrainConfig, train_reader
from ...squad.model import SquadDataset


@dataclass(frozen=True)
class ComputeBudget:
    """``minutes`` of training for every cell; ``costs``: a ``readers-costs.json`` (rows with
    ``init_layers``, ``max_seq_length`` and ``seconds_per_step``)."""

    minutes: float
    costs: str

    def steps(self, init_layers: int | None, max_seq_length: int, batch_size: int) -> int:
        """The optimiser steps that fill the budget for that size and length."""
        per_step = seconds_per_step(self.table(), init_layers or 6, max_seq_length, batch_size)
        return max(1, math.floor(self.minutes * 60 / per_step))

    def table(self) -> list[Mapping[str, Any]]:
        path = Path(self.costs)
        if not path.is_file():
            raise ConfigError(f"budget: no costs file {path} (measure it first: "
                              "the costs part of bench/readers.py)")
        rows: list[Mapping[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["rows"]
        return rows


def seconds_per_step(rows: Sequence[Mapping[str, Any]], init_layers: int, max_seq_length: int,
                     batch_size: int) -> float:
    """The measured seconds per step of that configuration (a :class:`ConfigError` when it was
    not measured: a plan is never made from a guess)."""
    for row in rows:
        if (row["init_layers"], row["max_seq_length"], row["batch_size"]) == (
                init_layers, max_seq_length, batch_size):
            return float(row["seconds_per_step"])
    raise ConfigError(f"no measured cost for L{init_layers} at {max_seq_length} tokens, batch "
                      f"{batch_size}; measure it first (the costs part of bench/readers.py)")


def probe(train: SquadDataset, init: str | None, init_layers: int, max_seq_length: int, *,
          steps: int = 14, warmup: int = 4, batch_size: int = 16, precision: str = "auto",
          learning_rate: float = 1e-4) -> dict[str, Any]:
    """Train ``steps`` real optimiser steps (the reader trainer, windows over the contexts) and
    return the median seconds of the steps after ``warmup`` and the process's peak RSS (run
    each probe in its own process for a peak of its own)."""
    from ...models.qa.curve import StepClock

    clock = StepClock()
    cfg = TrainConfig(max_steps=steps, batch_size=batch_size, learning_rate=learning_rate,
                      precision=precision, init_layers=init_layers, save_steps=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        summary = train_reader(train, init, Path(tmp) / "reader",
                               ReaderConfig(max_seq_length=max_seq_length), cfg, quiet=True,
                               callbacks=[clock])
    timed = sorted(clock.seconds[warmup:]) or sorted(clock.seconds)
    return {"init_layers": init_layers, "max_seq_length": max_seq_length,
            "batch_size": batch_size, "precision": summary.precision,
            "seconds_per_step": round(timed[len(timed) // 2], 4),
            "steps_timed": len(timed), "examples": len(examples_of(train)),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
