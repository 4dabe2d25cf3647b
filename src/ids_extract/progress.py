"""Rich progress bars that a ``quiet`` flag turns off in one place (plain lines, not bars, when
stderr is not a terminal; the trainers' bars too: :mod:`ids_extract.models.training`), and wall
time per stage of a run (``extract``'s ``timings`` prints it)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sized
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


#: seconds between two plain progress lines when stderr is not a terminal (a log file)
LINE_EVERY_S = 30.0


def track(items: Iterable[T], description: str, total: int | None = None,
          quiet: bool = False) -> Iterator[T]:
    """Iterate with a progress bar on stderr (nothing when ``quiet``; see :class:`Meter`)."""
    if quiet:
        yield from items
        return
    if total is None and isinstance(items, Sized):
        total = len(items)
    with Meter(description, total) as meter:
        for item in items:
            yield item
            meter.advance()


class Meter:
    """A bar that the work advances itself (by questions scored, say), for passes whose steps
    are not one loop; a ``quiet`` meter does nothing. Use it as a context manager.

    On a terminal it is a rich bar; otherwise (a log file) a plain line every
    :data:`LINE_EVERY_S` seconds and one at the end, so a log holds no carriage returns.
    ``per``: the work of one counted thing (a question scored by 2 scorers is 2), so the bar
    counts questions while the work advances it scorer by scorer."""

    def __init__(self, description: str, total: int | None, quiet: bool = False,
                 per: int = 1) -> None:
        self.description, self.total, self.per = description, total, max(per, 1)
        self.done = 0.0  # in work, not in counted things
        self._lines = not quiet and not console.is_terminal
        self._progress = (None if quiet or self._lines
                          else Progress(*COLUMNS, console=console, transient=False))
        self._task = (self._progress.add_task(description, total=total)
                      if self._progress is not None else None)
        self._began = self._said = time.monotonic()

    def advance(self, amount: float = 1) -> None:
        self.done += amount
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.done / self.per)
        elif self._lines and time.monotonic() - self._said >= LINE_EVERY_S:
            self.line()

    def line(self) -> None:
        """One plain line: how far, of how many, and the time so far."""
        self._said = time.monotonic()
        done = self.done / self.per
        of = f"/{self.total} ({100 * done / self.total:.0f} %)" if self.total else ""
        console.print(f"{self.description}: {done:.0f}{of}, "
                      f"{self._said - self._began:.0f} s", highlight=False, markup=False)

    def __enter__(self) -> Meter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        elif self._lines:
            self.line()


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
