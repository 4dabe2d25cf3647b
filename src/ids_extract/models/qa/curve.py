"""A reader's learning curve: F1 on a fixed dev sample at regular checkpoints of a training run,
against the minutes of training spent so far; optionally the stopping rule of a run trained to
convergence.

Why a callback: the question "is this reader converged?" is answered by the curve, not assumed
from a step count, and "at equal compute" needs the minutes of *training* at every point (the
time spent scoring the sample is measured apart and not counted). The curve lives in the reader's
folder as ``curve.json`` (this module is its one owner), written atomically after every point, so
a run killed and resumed from its last checkpoint keeps the points up to that checkpoint and goes
on from there (points after the checkpoint it resumes from are dropped: they will be measured
again by the resumed run).

Scoring uses the reader being trained, in place (:class:`~.reader.Reader` over the live model,
eval mode, then back to train mode), so no checkpoint has to be written to measure a point.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from ...files import write_json
from ...squad.evaluate import evaluate, headline
from .features import Example, ReaderConfig
from .reader import Reader

FILE = "curve.json"


@dataclass
class Point:
    """One checkpoint of the curve."""

    step: int
    epoch: float
    train_minutes: float
    f1: float
    exact_match: float
    eval_seconds: float


@dataclass
class StopRule:
    """Stop when two consecutive points are less than ``delta`` F1 apart (``max_epochs`` bounds
    the run through its own schedule, not here)."""

    delta: float = 0.5

    def met(self, points: Sequence[Point]) -> bool:
        return len(points) >= 2 and abs(points[-1].f1 - points[-2].f1) < self.delta


@dataclass
class CurveSample:
    """What a point is scored on: the reader's inputs (contexts as the cell reads them, e.g.
    extracted) and the original dev answers by question id (``gold``: a SQuAD dataset whose
    questions are those of ``examples``)."""

    examples: list[Example]
    gold: Any
    batch_size: int = 64


@dataclass
class Curve:
    """The points so far and the rule that ended the run (None: its schedule ended it)."""

    points: list[Point] = field(default_factory=list)
    stopped_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"points": [asdict(p) for p in self.points], "stopped_by": self.stopped_by}

    @classmethod
    def read(cls, folder: str | Path) -> Curve:
        """The curve recorded in ``folder`` (empty when there is none)."""
        path = Path(folder) / FILE
        if not path.is_file():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls([Point(**p) for p in raw.get("points", [])], raw.get("stopped_by"))

    def write(self, folder: str | Path) -> None:
        write_json(self.to_dict(), Path(folder) / FILE)


class LearningCurve(TrainerCallback):
    """Every ``every`` optimiser steps, score the live reader on ``sample`` and append a point to
    ``folder/curve.json``; with ``stop``, end the run when its rule is met."""

    def __init__(self, folder: str | Path, sample: CurveSample, reader_cfg: ReaderConfig,
                 every: int, *, precision: str = "fp32", stop: StopRule | None = None) -> None:
        self.folder, self.sample, self.reader_cfg = Path(folder), sample, reader_cfg
        self.every, self.precision, self.stop = max(1, every), precision, stop
        self.curve = Curve()
        self._offset = 0.0  # training minutes of a resumed run before this process
        self._clock = 0.0  # training seconds in this process (scoring excluded)
        self._mark = 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Keep the recorded points up to the step this run starts from (a resume)."""
        recorded = Curve.read(self.folder)
        self.curve = Curve([p for p in recorded.points if p.step <= state.global_step])
        self._offset = self.curve.points[-1].train_minutes if self.curve.points else 0.0
        self._mark = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        """Score the sample every ``every`` steps and at the last; stop the training when the
        stop rule is met (the clock counts training only, not the scoring)."""
        self._clock += time.perf_counter() - self._mark
        if state.global_step % self.every == 0 or state.global_step >= state.max_steps:
            self.measure(state, kwargs["model"], kwargs["processing_class"])
            if self.stop is not None and self.stop.met(self.curve.points):
                self.curve.stopped_by = f"two points less than {self.stop.delta} F1 apart"
                self.curve.write(self.folder)
                control.should_training_stop = True
        self._mark = time.perf_counter()
        return control

    def measure(self, state: Any, model: Any, tokenizer: Any) -> Point:
        """Score the live model on the sample (eval mode, no gradients) and record the point."""
        if self.curve.points and self.curve.points[-1].step == state.global_step:
            return self.curve.points[-1]
        start = time.perf_counter()
        device = str(next(model.parameters()).device)
        reader = Reader(model, tokenizer, self.reader_cfg, device=device,
                        precision=self.precision)
        predictions = reader.predict(self.sample.examples, self.sample.batch_size)
        model.train()
        em, f1 = headline(evaluate(self.sample.gold, {p.id: p.text for p in predictions}))
        point = Point(int(state.global_step), round(float(state.epoch or 0.0), 4),
                      round(self._offset + self._clock / 60, 3), round(f1, 2), round(em, 2),
                      round(time.perf_counter() - start, 1))
        self.curve.points.append(point)
        self.curve.write(self.folder)
        return point


class StepClock(TrainerCallback):
    """The wall time of every optimiser step (what a step costs, for planning equal compute)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._mark = 0.0

    def on_step_begin(self, *args: Any, **kwargs: Any) -> None:
        self._mark = time.perf_counter()

    def on_step_end(self, *args: Any, **kwargs: Any) -> None:
        self.seconds.append(time.perf_counter() - self._mark)
