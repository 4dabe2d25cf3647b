"""A resumable pipeline of named stages in one folder, with the time and peak memory of each.

Each stage has a **key** (a hash of its settings and of the keys of the stages it reads from).
``stages.json`` in the folder records every finished stage with its key, wall time, peak memory
and result, and is rewritten (atomically) as soon as a stage finishes. Re-running therefore
skips every finished stage of the same key and starts at the first unfinished one (a stage that
was killed half-way starts again, and a trainer inside it resumes from its own checkpoints). A
finished stage recorded with another key is refused unless ``overwrite``: the folder would
otherwise mix two configurations.

Peak memory is the resident set size sampled every 0.2 s while the stage runs (``ru_maxrss`` is
the peak of the whole process, not of one stage), and the CUDA allocator's peak on a GPU.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import config_key, write_json
from ..progress import console

STATE = "stages.json"


@dataclass
class Stage:
    """A named step: ``run()`` does the work and returns a JSON-able result; ``outputs`` are the
    paths (relative to the folder) that must still exist for a finished stage to count."""

    name: str
    settings: dict[str, Any]
    run: Callable[[], dict[str, Any]]
    after: Sequence[str] = ()
    outputs: Sequence[str] = ()
    key: str = ""


@dataclass
class Record:
    key: str
    wall_s: float
    peak_rss_mib: float
    peak_gpu_mib: float | None
    result: dict[str, Any] = field(default_factory=dict)


class PeakMemory:
    """Context manager sampling this process's resident memory (MiB) until it exits."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s, self.peak = every_s, _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, _rss_mib())

    def __enter__(self) -> PeakMemory:
        _reset_gpu_peak()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())


def _rss_mib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            line = next(line for line in fh if line.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):  # not Linux: the process peak is the best there is
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_gpu_peak() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def _gpu_peak_mib() -> float | None:
    import sys

    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def read_state(folder: Path) -> dict[str, Record]:
    """The finished stages recorded in ``folder`` (none for a new folder)."""
    path = folder / STATE
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {name: Record(**rec) for name, rec in raw.get("stages", {}).items()}


def run_stages(folder: Path, stages: Sequence[Stage], *, overwrite: bool = False,
               quiet: bool = False) -> dict[str, Record]:
    """Run every stage not yet finished with its key, in order (see the module doc); returns
    the records of all of them."""
    keys: dict[str, str] = {}
    for stage in stages:
        stage.key = config_key({"stage": stage.name, "settings": stage.settings,
                                "after": [keys[a] for a in stage.after]})
        keys[stage.name] = stage.key
    state = read_state(folder)
    stale = [s.name for s in stages if s.name in state and state[s.name].key != s.key]
    if stale and not overwrite:
        raise ConfigError(f"{folder} holds stages {', '.join(stale)} run with other settings; use "
                          "`overwrite` to run them again, or another `out`")
    for n, stage in enumerate(stages, 1):
        done = state.get(stage.name)
        if done and done.key == stage.key and all((folder / o).exists() for o in stage.outputs):
            if not quiet:
                console.print(f"[{n}/{len(stages)}] {stage.name}: done before, skipped")
            continue
        if not quiet:
            console.print(f"[bold][{n}/{len(stages)}] {stage.name}[/]")
        began = time.perf_counter()
        with PeakMemory() as memory:
            result = stage.run()
        state[stage.name] = Record(stage.key, round(time.perf_counter() - began, 1),
                                   round(memory.peak, 1), _gpu_peak_mib(), result)
        _save(folder, state, [s.name for s in stages])
        if not quiet:
            rec = state[stage.name]
            console.print(f"[{n}/{len(stages)}] {stage.name}: {rec.wall_s:.0f} s, peak "
                          f"{rec.peak_rss_mib / 1024:.1f} GiB")
    return {s.name: state[s.name] for s in stages}


def _save(folder: Path, state: dict[str, Record], order: Sequence[str]) -> None:
    ordered = {n: state[n] for n in order if n in state}
    ordered.update({n: r for n, r in state.items() if n not in ordered})
    write_json({"stages": {n: r.__dict__ for n, r in ordered.items()}}, folder / STATE)
