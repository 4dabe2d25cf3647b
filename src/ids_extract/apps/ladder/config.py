"""The ladder config: data, cells and training settings, read from JSON (or TOML on Python ≥ 3.11)
and checked key by key (a misspelt key is an error, not a silently ignored setting)::

    {"train": "train.json", "dev": "dev.json", "out": "runs/ladder",
     "train_limit": 3000, "dev_limit": 1000, "subset": "spread",
     "scorers": ["bm25", "sbert"], "methods": ["window", "truncate", "ids"],
     "training": {"max_steps": 300, "batch_size": 16, "learning_rate": 1e-4},
     "grid": {"sizes": [{"name": "L2", "init_layers": 2}, {"name": "L6", "init_layers": 6}],
              "max_seq_lengths": [64, 128]},
     "cells": [{"name": "L6", "init_layers": 6, "max_seq_length": 384, "methods": ["window"]}],
     "levels": {"max_seq_length": 128, "levels": ["ratio:0.8", "ratio:0.4"]}}

Equal compute (:mod:`.compute`): ``"budget": {"minutes": 20, "costs": "readers-costs.json"}``
gives every cell the same minutes of training, as the optimiser steps its measured cost allows
(the schedule runs to zero at the end of them); ``"curve": {"sample": 2000, "points": 6}`` scores
each cell on a fixed sample of that many dev questions ``points`` times during training (a
learning curve, :mod:`ids_extract.models.qa.curve`). A cell with ``"stop": {"delta": 0.5,
"max_epochs": 3, "every_minutes": 15}`` is trained to convergence instead: a point every
``every_minutes`` of its measured cost, until two points are less than ``delta`` F1 apart or
``max_epochs`` are done.

``grid`` expands to every size × length (× the methods); ``cells`` adds cells one by one; ``levels``
adds, per grid size, IDS cells at one ``max_seq_length`` trained on each extraction level (the
paper's Figure 2: F1 against D1…Dn). ``training`` takes any ``train-reader`` setting (and
``limit``: the first N training questions of that cell); a cell may override it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ... import defaults
from ...errors import ConfigError
from ...models.qa.train import TrainConfig
from ...select.levels import parse_level
from ...tabular import read_json, read_utf8
from .compute import ComputeBudget

METHODS = ("ids", "window", "truncate")
SUBSETS = ("first", "spread")
TOP_KEYS = ("train", "dev", "out", "cells", "grid", "levels", "scorers", "methods", "training",
            "train_limit", "dev_limit", "subset", "doc_stride", "budget", "curve")
CELL_KEYS = ("name", "model", "init_layers", "max_seq_length", "level", "methods", "training",
             "stop")
STOP_KEYS = ("delta", "max_epochs", "every_minutes")
SIZE_KEYS = ("name", "model", "init_layers")
TRAINING_KEYS = tuple(f.name for f in fields(TrainConfig)) + ("limit",)


@dataclass
class Cell:
    """One (model size, max_seq_length, level) with the methods trained on it."""

    name: str
    model: str | None
    max_seq_length: int
    level: str
    methods: list[str]
    training: TrainConfig
    limit: int | None = None  # first N training questions (training "limit")
    stop: StopSettings | None = None  # trained to convergence instead of a budget
    curve_every: int | None = None  # optimiser steps between two points of its curve

    def folder(self, method: str) -> str:
        """``L4-128-ids``; an IDS cell at another level than ``tokens:L`` names it too."""
        base = f"{self.name}-{self.max_seq_length}-{method}"
        if method == "ids" and self.level != f"tokens:{self.max_seq_length}":
            base += f"-{parse_level(self.level).name}"
        return base


@dataclass(frozen=True)
class StopSettings:
    """A cell trained to convergence (see the module doc)."""

    delta: float = 0.5
    max_epochs: float = 3.0
    every_minutes: float = 15.0


@dataclass(frozen=True)
class CurveSettings:
    """``sample`` dev questions (spread over the file) scored ``points`` times per budget cell."""

    sample: int = 2000
    points: int = 6


@dataclass
class LadderConfig:
    train: str
    dev: str
    out: str
    cells: list[Cell]
    scorers: list[str] = field(default_factory=lambda: list(defaults.SCORERS))
    train_limit: int | None = None
    dev_limit: int | None = None
    subset: str = "first"
    doc_stride: int | None = None
    budget: ComputeBudget | None = None
    curve: CurveSettings | None = None


def load_config(path: str | Path, out: str | Path | None = None) -> LadderConfig:
    """Read and check a ladder config; relative data paths are taken from the config's folder
    when they exist there."""
    p = Path(path)
    raw = _read(p)
    _known(raw, TOP_KEYS, p, "the config")
    for key in ("train", "dev"):
        if key not in raw:
            raise ConfigError(f"{p}: missing {key!r}")
    base = raw.get("training", {})
    _known(base, TRAINING_KEYS, p, "training")
    methods = list(raw.get("methods", METHODS))
    specs = [*_grid(raw.get("grid"), methods, p), *raw.get("cells", []),
             *_level_cells(raw.get("levels"), raw.get("grid"), p)]
    budget = _budget(raw.get("budget"), p)
    curve = (CurveSettings(**_known(raw["curve"], ("sample", "points"), p, "curve"))
             if "curve" in raw else None)
    cells = [_planned(_cell(c, n, base, methods, p), budget, curve)
             for n, c in enumerate(specs, 1)]
    if not cells:
        raise ConfigError(f"{p}: no cells (give 'grid' or 'cells')")
    folders = [c.folder(m) for c in cells for m in c.methods]
    if len(set(folders)) != len(folders):
        twice = sorted({f for f in folders if folders.count(f) > 1})
        raise ConfigError(f"{p}: two cells would train the same thing: {twice}")
    subset = str(raw.get("subset", "first"))
    if subset not in SUBSETS:
        raise ConfigError(f"{p}: subset {subset!r}: choose first or spread")
    return LadderConfig(
        train=_data_path(raw["train"], p), dev=_data_path(raw["dev"], p),
        out=str(out or raw.get("out") or "runs/ladder"), cells=cells,
        scorers=list(raw.get("scorers", defaults.SCORERS)), train_limit=raw.get("train_limit"),
        dev_limit=raw.get("dev_limit"), subset=subset, doc_stride=raw.get("doc_stride"),
        budget=budget, curve=curve)


def _budget(raw: Any, p: Path) -> ComputeBudget | None:
    """The equal-compute budget; its costs file is taken from the config's folder."""
    if raw is None:
        return None
    _known(raw, ("minutes", "costs"), p, "budget")
    if "minutes" not in raw or "costs" not in raw or float(raw["minutes"]) <= 0:
        raise ConfigError(f"{p}: budget needs minutes > 0 and a costs file")
    return ComputeBudget(float(raw["minutes"]), _data_path(str(raw["costs"]), p))


def _planned(cell: Cell, budget: ComputeBudget | None, curve: CurveSettings | None) -> Cell:
    """The cell's steps: its budget's (schedule to zero at the end), or up to ``max_epochs``
    with a stop rule; and the steps between two points of its curve."""
    if budget is None:
        if cell.stop is not None:
            raise ConfigError(f"cell {cell.name}: a stop rule needs a budget section (its costs "
                              "set the interval between points)")
        return cell
    per = budget.steps(cell.training.init_layers, cell.max_seq_length, cell.training.batch_size)
    if cell.stop is not None:  # minutes -> steps of this cell, through its measured cost
        every = max(1, round(per * cell.stop.every_minutes / budget.minutes))
        training = replace(cell.training, epochs=cell.stop.max_epochs, max_steps=-1,
                           save_steps=every)
    else:
        every = max(1, math.ceil(per / (curve.points if curve else 1)))
        training = replace(cell.training, max_steps=per, save_steps=every)
    return replace(cell, training=training, curve_every=every if curve else None)


def _read(p: Path) -> dict[str, Any]:
    if not p.exists():
        raise ConfigError(f"{p}: no such config file")
    if p.suffix.lower() != ".toml":
        raw = read_json(p)  # a bad byte, an empty file, a lone surrogate: located errors
    else:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise ConfigError(f"{p}: TOML needs Python 3.11; use a JSON config") from None
        try:
            raw = tomllib.loads(read_utf8(p))
        except ValueError as err:
            raise ConfigError(f"{p}: cannot parse: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a table/object at the top")
    return raw


def _known(raw: Any, allowed: tuple[str, ...], p: Path, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: {where} must be a table/object")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ConfigError(f"{p}: {where}: unknown keys {unknown}; allowed {sorted(allowed)}")
    return raw


def _grid(raw: Any, methods: list[str], p: Path) -> list[dict[str, Any]]:
    """Every size × max_seq_length of the ``grid`` section, as cell specs."""
    if raw is None:
        return []
    _known(raw, ("sizes", "max_seq_lengths", "methods"), p, "grid")
    sizes = [_known(s, SIZE_KEYS, p, "grid size") for s in raw.get("sizes", [])]
    return [{**size, "max_seq_length": int(length), "methods": raw.get("methods", methods)}
            for size in sizes for length in raw.get("max_seq_lengths", [])]


def _level_cells(raw: Any, grid: Any, p: Path) -> list[dict[str, Any]]:
    """Per grid size, IDS cells at one max_seq_length, one per extraction level."""
    if raw is None:
        return []
    _known(raw, ("max_seq_length", "levels", "sizes"), p, "levels")
    sizes = raw.get("sizes") or (grid or {}).get("sizes", [])
    length = int(raw["max_seq_length"])
    return [{**_known(size, SIZE_KEYS, p, "levels size"), "max_seq_length": length,
             "level": level, "methods": ["ids"]}
            for size in sizes for level in raw.get("levels", [])]


def _cell(raw: Any, n: int, base: dict[str, Any], methods: list[str], p: Path) -> Cell:
    _known(raw, CELL_KEYS, p, f"cell {n}")
    if "max_seq_length" not in raw:
        raise ConfigError(f"{p}: cell {n} needs at least max_seq_length")
    length = int(raw["max_seq_length"])
    cell_methods = list(raw.get("methods", methods))
    bad = [m for m in cell_methods if m not in METHODS]
    if bad:
        raise ConfigError(f"{p}: cell {n}: unknown methods {bad}; choose from {list(METHODS)}")
    level = str(raw.get("level", f"tokens:{length}"))
    parse_level(level)
    own = _known(raw.get("training", {}), TRAINING_KEYS, p, f"cell {n} training")
    merged = {**base, **own}
    if raw.get("init_layers") is not None:
        merged["init_layers"] = int(raw["init_layers"])
    limit = merged.pop("limit", None)
    training = replace(TrainConfig(), **merged)
    name = str(raw.get("name", f"cell{n}"))
    stop = (StopSettings(**_known(raw["stop"], STOP_KEYS, p, f"cell {n} stop"))
            if "stop" in raw else None)
    return Cell(name, raw.get("model"), length, level, cell_methods, training, limit, stop)


def _data_path(value: str, config: Path) -> str:
    beside = config.parent / value
    return str(beside) if not Path(value).is_absolute() and beside.exists() else value
