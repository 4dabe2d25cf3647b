"""The size-matched ladder (METHOD.md §5): each model size trained and evaluated at the level that
fits it, next to the same model with a sliding window and with plain truncation.

A config (JSON, or TOML on Python ≥ 3.11) names the data, the cells and the training settings::

    {"train": "train-v1.1.json", "dev": "dev-v1.1.json", "out": "runs/ladder",
     "scorers": ["bm25", "sbert"], "methods": ["ids", "window", "truncate"],
     "training": {"epochs": 2, "batch_size": 32, "learning_rate": 5e-5},
     "cells": [{"name": "Tiny", "model": "google/bert_uncased_L-2_H-128_A-2", "max_seq_length": 64},
               {"name": "Mini", "model": "google/bert_uncased_L-4_H-256_A-4", "max_seq_length": 128}]}

The training file is extracted with ``split="train", lost="keep-gold"``, the dev file with
``split="eval"`` (no gold used); every cell is scored against the ORIGINAL dev answers by id.
Each finished cell writes ``metrics.json`` and is skipped on a re-run (a half-trained one resumes
from its last checkpoint). Results: ``results.csv``, ``results.json`` and ``f1_vs_length.png``.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import atomic_path, write_json
from ..models.qa.decode import write_predictions
from ..models.qa.features import ReaderConfig, examples_of
from ..models.qa.reader import Reader
from ..models.qa.train import TrainConfig, train_reader
from ..pipeline.extractor import Extractor
from ..select.levels import parse_level
from ..squad.evaluate import evaluate, headline
from ..squad.model import SquadDataset
from ..squad.read import load
from ..squad.write import write_squad

METHODS = ("ids", "window", "truncate")


@dataclass
class Cell:
    name: str
    model: str | None
    max_seq_length: int
    level: str
    methods: list[str]
    training: TrainConfig


@dataclass
class LadderConfig:
    train: str
    dev: str
    out: str
    cells: list[Cell]
    scorers: list[str] = field(default_factory=lambda: ["bm25", "sbert"])
    train_limit: int | None = None
    dev_limit: int | None = None
    doc_stride: int | None = None


def load_config(path: str | Path, out: str | Path | None = None) -> LadderConfig:
    """Read and check a ladder config; relative data paths are taken from the config's folder
    when they exist there."""
    p = Path(path)
    raw = _read(p)
    for key in ("train", "dev", "cells"):
        if key not in raw:
            raise ConfigError(f"{p}: missing {key!r}")
    base = TrainConfig(**_known(raw.get("training", {}), TrainConfig, p, "training"))
    methods = list(raw.get("methods", METHODS))
    cells = [_cell(c, n, base, methods, p) for n, c in enumerate(raw["cells"], 1)]
    if not cells:
        raise ConfigError(f"{p}: no cells")
    names = [f"{c.name}-{c.max_seq_length}" for c in cells]
    if len(set(names)) != len(names):
        raise ConfigError(f"{p}: two cells share a name and max_seq_length")
    return LadderConfig(
        train=_data_path(raw["train"], p), dev=_data_path(raw["dev"], p),
        out=str(out or raw.get("out") or "runs/ladder"), cells=cells,
        scorers=list(raw.get("scorers", ["bm25", "sbert"])), train_limit=raw.get("train_limit"),
        dev_limit=raw.get("dev_limit"), doc_stride=raw.get("doc_stride"))


def _read(p: Path) -> dict[str, Any]:
    if not p.exists():
        raise ConfigError(f"{p}: no such config file")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                raise ConfigError(f"{p}: TOML needs Python 3.11; use a JSON config") from None
            raw = tomllib.loads(text)
        else:
            raw = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"{p}: cannot parse: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a table/object at the top")
    return raw


def _known(raw: Any, cls: type, p: Path, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: {where} must be a table/object")
    allowed = {f.name for f in fields(cls)}
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{p}: {where}: unknown keys {sorted(unknown)}; allowed {sorted(allowed)}")
    return dict(raw)


def _cell(raw: Any, n: int, base: TrainConfig, methods: list[str], p: Path) -> Cell:
    if not isinstance(raw, dict) or "max_seq_length" not in raw:
        raise ConfigError(f"{p}: cell {n} needs at least max_seq_length")
    length = int(raw["max_seq_length"])
    cell_methods = list(raw.get("methods", methods))
    bad = [m for m in cell_methods if m not in METHODS]
    if bad:
        raise ConfigError(f"{p}: cell {n}: unknown methods {bad}; choose from {list(METHODS)}")
    level = str(raw.get("level", f"tokens:{length}"))
    parse_level(level)
    training = TrainConfig(**{**base.__dict__, **_known(raw.get("training", {}), TrainConfig, p,
                                                          f"cell {n} training")})
    return Cell(str(raw.get("name", f"cell{n}")), raw.get("model"), length, level, cell_methods,
                training)


def _data_path(value: str, config: Path) -> str:
    beside = config.parent / value
    return str(beside) if not Path(value).is_absolute() and beside.exists() else value


# ------------------------------------------------------------------------------- running


def extract_levels(cfg: LadderConfig, quiet: bool = False) -> dict[str, dict[str, Path]]:
    """Extract train (keep-gold) and dev (no gold) at every cell's level, once; the files are
    written atomically and reused on a re-run."""
    levels = sorted({c.level for c in cfg.cells if "ids" in c.methods})
    out = Path(cfg.out) / "data"
    paths: dict[str, dict[str, Path]] = {"train": {}, "dev": {}}
    for split, source, limit in (("train", cfg.train, cfg.train_limit),
                                 ("dev", cfg.dev, cfg.dev_limit)):
        wanted = {lv: out / split / f"{parse_level(lv).name}.json" for lv in levels}
        paths[split] = wanted
        todo = [lv for lv, path in wanted.items() if not path.exists()]
        if not todo:
            continue
        ex = Extractor(cfg.scorers, todo, split="train" if split == "train" else "eval",
                       quiet=quiet)
        result = ex.run(load(source).limit(limit))
        for lv, level in zip(todo, result.levels, strict=True):
            write_squad(level.dataset, wanted[lv])
    return paths


def run_ladder(cfg: LadderConfig, quiet: bool = False) -> list[dict[str, Any]]:
    """Train and score every (cell, method); returns the result rows (also written to disk)."""
    out = Path(cfg.out)
    levels = extract_levels(cfg, quiet)
    train_full = load(cfg.train).limit(cfg.train_limit)
    dev_full = load(cfg.dev).limit(cfg.dev_limit)
    rows = []
    for cell in cfg.cells:
        for method in cell.methods:
            folder = out / "cells" / f"{cell.name}-{cell.max_seq_length}-{method}"
            done = folder / "metrics.json"
            if not done.exists():
                train = load(levels["train"][cell.level]) if method == "ids" else train_full
                dev = load(levels["dev"][cell.level]) if method == "ids" else dev_full
                row = _run_cell(cell, method, train, dev, dev_full, folder, cfg, quiet)
                write_json(row, done)
            rows.append(json.loads(done.read_text(encoding="utf-8")))
            write_results(rows, out)
    return rows


def _run_cell(cell: Cell, method: str, train: SquadDataset, dev: SquadDataset,
              gold: SquadDataset, folder: Path, cfg: LadderConfig,
              quiet: bool) -> dict[str, Any]:
    reader_cfg = ReaderConfig(max_seq_length=cell.max_seq_length, doc_stride=cfg.doc_stride,
                              mode="truncate" if method == "truncate" else "window")
    summary = train_reader(train, cell.model, folder / "model", reader_cfg, cell.training,
                           quiet=quiet)
    start = time.perf_counter()
    reader = Reader.load(folder / "model", device=cell.training.device,
                         precision=cell.training.precision)
    predictions = reader.predict(examples_of(dev), quiet=quiet)
    seconds = time.perf_counter() - start
    write_predictions(predictions, folder, reader.config.version2)
    metrics = evaluate(gold, {p.id: p.text for p in predictions},
                       {p.id: p.na_prob for p in predictions} if gold.is_v2 else None)
    em, f1 = headline(metrics)
    return {"name": cell.name, "model": cell.model or "all-MiniLM-L6-v2",
            "max_seq_length": cell.max_seq_length, "method": method,
            "level": cell.level if method == "ids" else "", "exact_match": round(em, 2),
            "f1": round(f1, 2), "train_seconds": round(summary.train_seconds, 1),
            "eval_seconds": round(seconds, 1), "train_examples": summary.examples,
            "train_features": summary.features, "steps": summary.steps,
            "peak_rss_mb": round(summary.peak_rss_mb, 1), "peak_gpu_mb": summary.peak_gpu_mb,
            "metrics": metrics}


COLUMNS = ("name", "model", "max_seq_length", "method", "level", "exact_match", "f1",
           "train_seconds", "eval_seconds", "train_examples", "train_features", "steps",
           "peak_rss_mb", "peak_gpu_mb")


def write_results(rows: Sequence[dict[str, Any]], out: Path) -> None:
    """``results.csv``, ``results.json`` and the plot (all atomic)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(out / "results.csv") as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    write_json(list(rows), out / "results.json")
    plot(rows, out / "f1_vs_length.png")


def plot(rows: Sequence[dict[str, Any]], target: Path) -> None:
    """F1 against max_seq_length, one line per method, each point labelled with its model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for method in METHODS:
        points = sorted((r["max_seq_length"], r["f1"], r["name"]) for r in rows
                        if r["method"] == method)
        if not points:
            continue
        xs, ys, names = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", label={"ids": "IDS-extracted", "window": "sliding window",
                                            "truncate": "truncation"}[method])
        for x, y, name in points:
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xscale("log", base=2)
    lengths = sorted({r["max_seq_length"] for r in rows})
    ax.set_xticks(lengths, [str(v) for v in lengths])
    ax.set_xlabel("max_seq_length (tokens)")
    ax.set_ylabel("dev F1")
    ax.set_title("Reader F1 by max_seq_length and method")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
