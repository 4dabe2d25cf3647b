"""What a task makes of its levels: its product. A task (:class:`.driver.Task`) carries one, so
the one output-folder engine (:mod:`.run`), ``validate`` and ``stats`` need no branch on the task:

- its **file formats** (:class:`FileFormat`): per format name, the writer a level streams into
  and the read-back ``validate`` runs on the written file. A new output format is one such pair,
  added to the product (:meth:`Product.add`);
- its **level sink** (``Product.level``): what a level's outputs (one per shard, or one for the
  whole input) become in the manifest: the files' entry and the level's statistics;
- its **statistics** (:class:`Statistics`): the tables ``stats`` prints from the manifest;
- optionally a **tally** over every selection (QA's ranking recall), written beside the levels.

Products are found again from a folder's ``manifest.json`` by its ``format``
(:mod:`.products`, the registry).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from ..errors import IdsExtractError
from .folder import file_entry

O_contra = TypeVar("O_contra", contravariant=True)
O = TypeVar("O")  # noqa: E741 (a task's output of one level)


class FileWriter(Protocol):
    """One level's file being written: parts added in order, then the whole file moved into
    place (``close``) or dropped (``abort``), so a folder only ever holds whole files."""

    def add(self, part: Any) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


#: ``open(target, context)``: a writer of ``target``; the context is the run's (see :mod:`.run`)
Open = Callable[[Path, Any], FileWriter]
#: ``read(path, entry, manifest)``: the file read back through its own loader, checked against
#: its manifest entry; a line saying what was found, or an :class:`IdsExtractError`
ReadBack = Callable[[Path, Mapping[str, Any], Mapping[str, Any]], str]


@dataclass(frozen=True)
class FileFormat:
    """One output format of a product: the suffix of a level's file, its writer, its read-back."""

    name: str
    suffix: str
    open: Open
    read: ReadBack


class Files:
    """One level's files in every chosen format: each part goes to every writer; ``close``
    moves them all into place and returns their manifest records, ``abort`` drops them all."""

    def __init__(self, out: Path, name: str, formats: Sequence[FileFormat], context: Any) -> None:
        self.targets = {f.name: out / f"{name}{f.suffix}" for f in formats}
        self.writers = {f.name: f.open(self.targets[f.name], context) for f in formats}

    def add(self, part: Any) -> None:
        for writer in self.writers.values():
            writer.add(part)

    def close(self) -> dict[str, dict[str, str]]:
        for writer in self.writers.values():
            writer.close()
        return {fmt: file_entry(target) for fmt, target in self.targets.items()}

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()


class LevelSink(Protocol[O_contra]):
    """What the engine feeds one level's outputs to (one per shard, in order)."""

    def add(self, output: O_contra) -> None: ...

    def close(self) -> dict[str, Any]:
        """The level's manifest entry (``name``, ``files``, ``stats``, …), its files in place."""
        ...

    def abort(self) -> None: ...


class Tally(Protocol):
    """Counts over every selection of a run (not per level); what it finds goes into the
    manifest beside the levels."""

    def add(self, units: Any, scored: Any, orders: Sequence[Any]) -> None: ...

    def finish(self) -> dict[str, Any]:
        """The manifest parts it fills (e.g. ``{"ranking": …}``)."""
        ...


@dataclass(frozen=True)
class Table:
    """One table of ``stats``: a title, column heads, rows of cells (rendered by the CLI)."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[str]]


#: one column of the per-level table: its head and the cell of a level's ``stats``
Column = tuple[str, Callable[[Mapping[str, Any]], str]]


def _none(manifest: Mapping[str, Any]) -> list[Table]:
    return []


@dataclass(frozen=True)
class Statistics:
    """What ``stats`` prints for a folder: one row per level (``columns``) under ``title``, then
    the product's ``more`` tables."""

    title: Callable[[Mapping[str, Any]], str]
    columns: Sequence[Column]
    more: Callable[[Mapping[str, Any]], list[Table]] = _none

    def tables(self, manifest: Mapping[str, Any]) -> list[Table]:
        levels = [(e["name"], e["stats"]) for e in manifest.get("levels", [])]
        rows: list[Sequence[str]] = [(n, *(cell(s) for _, cell in self.columns))
                                     for n, s in levels]
        return [Table(self.title(manifest), ("level", *(h for h, _ in self.columns)), rows),
                *self.more(manifest)]


#: ``level(files, name, level, context)``: the sink of one level
Level = Callable[[Files, str, str, Any], LevelSink[Any]]


@dataclass(frozen=True)
class Product(Generic[O]):
    """A task's product (see the module doc). ``format`` is the manifest's ``format``;
    ``carry``: the manifest parts the tally fills, kept from the last run when it does not run."""

    format: str
    files: dict[str, FileFormat]
    level: Level
    statistics: Statistics
    tally: Callable[[], Tally] | None = None
    carry: tuple[str, ...] = field(default_factory=tuple)

    def add(self, file_format: FileFormat) -> FileFormat:
        """A new output format of this product: its writer and read-back pair."""
        self.files[file_format.name] = file_format
        return file_format

    def file_format(self, name: str) -> FileFormat:
        try:
            return self.files[name]
        except KeyError:
            raise IdsExtractError(f"format {name!r} is not one of {self.format}'s "
                                  f"({', '.join(self.files)})") from None


@runtime_checkable
class Producing(Protocol):
    """A task that writes an output folder (a :class:`.driver.Task` with a product; a task that
    only answers in memory, as ``compress``'s, has none)."""

    @property
    def product(self) -> Product[Any]: ...
