"""Rich progress bars that a ``quiet`` flag turns off in one place, and wall time per stage of a
run (``ids-extract extract --timings`` prints it)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")
console = Console(stderr=True)
COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
           TimeElapsedColumn(), TimeRemainingColumn())


def track(items: Iterable[T], description: str, total: int | None = None,
          quiet: bool = False) -> Iterator[T]:
    """Iterate with a progress bar on stderr (nothing when ``quiet``)."""
    if quiet:
        yield from items
        return
    with Progress(*COLUMNS, console=console, transient=False) as progress:
        yield from progress.track(items, total=total, description=description)


class Meter:
    """A bar that the work advances itself (by questions scored, say), for passes whose steps
    are not one loop; a ``quiet`` meter does nothing. Use it as a context manager."""

    def __init__(self, description: str, total: int, quiet: bool = False) -> None:
        self._progress = None if quiet else Progress(*COLUMNS, console=console, transient=False)
        self._task = (self._progress.add_task(description, total=total)
                      if self._progress is not None else None)

    def advance(self, amount: float = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)

    def __enter__(self) -> Meter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


_STAGES: dict[str, float] = {}


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the wall time of the block to stage ``name`` (per process; see :func:`stages`)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        _STAGES[name] = _STAGES.get(name, 0.0) + time.perf_counter() - start


def add_stage(name: str, seconds: float) -> None:
    """Add ``seconds`` measured elsewhere (e.g. in a worker process) to stage ``name``."""
    _STAGES[name] = _STAGES.get(name, 0.0) + seconds


def stages(reset: bool = False) -> dict[str, float]:
    """Seconds per stage since the last reset (a copy); ``reset`` starts again from zero."""
    out = dict(_STAGES)
    if reset:
        _STAGES.clear()
    return out
