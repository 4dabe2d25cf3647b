"""Rich progress bars that a ``quiet`` flag turns off in one place."""

from __future__ import annotations

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
