"""Running the ladder: extract the data of every level once, then train and score every
(cell, method), each resumable on its own.

The training file is extracted with ``split="train", lost="keep-gold"``, the dev file with
``split="eval"`` (no gold used); every cell is scored against the ORIGINAL dev answers by id, so an
answer the extraction cut costs what it should. The extracted data live under a folder keyed by
what produced them (scorers, segmenter, input files and subsets); a finished cell's
``metrics.json`` records its whole config, and a re-run skips it only when that is unchanged
(another config is refused unless ``overwrite``).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...files import config_key, fingerprint, write_json
from ...models.hub import model_id
from ...models.qa.decode import write_predictions
from ...models.qa.features import ReaderConfig, examples_of
from ...models.qa.folder import backbone_path
from ...models.qa.reader import Reader
from ...models.qa.train import train_reader
from ...models.runtime import speed_flags
from ...pipeline.extractor import Extractor
from ...select.levels import parse_level
from ...squad.evaluate import evaluate, headline
from ...squad.model import SquadDataset
from ...squad.read import load
from ...squad.write import write_squad
from .config import Cell, LadderConfig
from .plots import write_results


def subset(dataset: SquadDataset, n: int | None, how: str) -> SquadDataset:
    """The first ``n`` questions, or ``n`` spread over the file."""
    return dataset.spread(n) if how == "spread" else dataset.limit(n)


def data_folder(cfg: LadderConfig) -> Path:
    """Where the extracted levels live: keyed by everything that produced them."""
    key = config_key({"scorers": cfg.scorers, "train": fingerprint(cfg.train),
                      "dev": fingerprint(cfg.dev), "train_limit": cfg.train_limit,
                      "dev_limit": cfg.dev_limit, "subset": cfg.subset})
    return Path(cfg.out) / "data" / key


def extract_levels(cfg: LadderConfig, quiet: bool = False) -> dict[str, dict[str, Path]]:
    """Extract train (keep-gold) and dev (no gold) at every IDS cell's level, once; each level
    file gets its statistics beside it (``<level>.stats.json``); files are written atomically and
    reused on a re-run."""
    levels = sorted({c.level for c in cfg.cells if "ids" in c.methods})
    out = data_folder(cfg)
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
        result = ex.run(subset(load(source), limit, cfg.subset))
        for lv, level in zip(todo, result.levels, strict=True):
            write_json(level.stats.summary, wanted[lv].with_suffix(".stats.json"))
            write_squad(level.dataset, wanted[lv])
    return paths


def run_ladder(cfg: LadderConfig, quiet: bool = False,
               overwrite: bool = False) -> list[dict[str, Any]]:
    """Train and score every (cell, method); returns the result rows (also written to disk)."""
    out = Path(cfg.out)
    levels = extract_levels(cfg, quiet)
    train_full = subset(load(cfg.train), cfg.train_limit, cfg.subset)
    dev_full = subset(load(cfg.dev), cfg.dev_limit, cfg.subset)
    rows = []
    for cell in cfg.cells:
        for method in cell.methods:
            folder = out / "cells" / cell.folder(method)
            identity = _identity(cell, method, cfg)
            done = folder / "metrics.json"
            if not _finished(done, identity, overwrite):
                ids = method == "ids"
                train = load(levels["train"][cell.level]) if ids else train_full
                dev = load(levels["dev"][cell.level]) if ids else dev_full
                row = _run_cell(cell, method, train.limit(cell.limit), dev, dev_full, folder,
                                cfg, quiet, overwrite)
                if ids:
                    stats = json.loads(levels["dev"][cell.level].with_suffix(".stats.json")
                                       .read_text(encoding="utf-8"))
                    row["dev_retention_pct"] = stats["retention_pct"]
                    row["dev_compression"] = stats["compression"]["mean"]
                write_json({**row, "cell_config": identity}, done)
            rows.append(json.loads(done.read_text(encoding="utf-8")))
            write_results(rows, out)
    return rows


def _identity(cell: Cell, method: str, cfg: LadderConfig) -> dict[str, Any]:
    """Everything a cell's numbers depend on (compared before a finished cell is reused)."""
    training = {k: v for k, v in asdict(cell.training).items()
                if k not in ("device", "save_steps", "logging_steps")}
    return {"model": model_id(backbone_path(cell.model)), "max_seq_length": cell.max_seq_length,
            "method": method, "level": cell.level if method == "ids" else None,
            "training": training, "limit": cell.limit, "doc_stride": cfg.doc_stride,
            "data": data_folder(cfg).name}


def _finished(done: Path, identity: dict[str, Any], overwrite: bool) -> bool:
    if not done.exists() or overwrite:
        return False
    recorded = json.loads(done.read_text(encoding="utf-8")).get("cell_config")
    if recorded == identity:
        return True
    raise ConfigError(f"{done.parent} holds a cell finished with other settings; use `overwrite` "
                      "to train it again, or another `out`")


def _curve(cell: Cell, dev: SquadDataset, gold: SquadDataset, folder: Path,
           reader_cfg: ReaderConfig, cfg: LadderConfig) -> list[Any]:
    """The learning-curve callback of a cell (none without a ``curve`` section): a fixed sample
    of dev questions, read as the cell reads them, scored against the original answers."""
    if cfg.curve is None or cell.curve_every is None:
        return []
    from ...models.qa.curve import CurveSample, LearningCurve, StopRule
    from ...models.runtime import pick_device, pick_precision

    ids = [qa.id for _, _, qa in gold.spread(cfg.curve.sample).iter_qas()]
    sample = CurveSample(examples_of(dev.only(ids)), gold.only(ids))
    precision = pick_precision(cell.training.precision, pick_device(cell.training.device))
    stop = StopRule(cell.stop.delta) if cell.stop is not None else None
    return [LearningCurve(folder / "model", sample, reader_cfg, cell.curve_every,
                          precision=precision, stop=stop)]


def _run_cell(cell: Cell, method: str, train: SquadDataset, dev: SquadDataset,
              gold: SquadDataset, folder: Path, cfg: LadderConfig, quiet: bool,
              overwrite: bool) -> dict[str, Any]:
    """Train one reader (with its learning curve when asked) and score it on dev against the
    original answers."""
    reader_cfg = ReaderConfig(max_seq_length=cell.max_seq_length, doc_stride=cfg.doc_stride,
                              mode="truncate" if method == "truncate" else "window")
    summary = train_reader(train, cell.model, folder / "model", reader_cfg, cell.training,
                           quiet=quiet, overwrite=overwrite,
                           callbacks=_curve(cell, dev, gold, folder, reader_cfg, cfg))
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
            "init_layers": cell.training.init_layers, "max_seq_length": cell.max_seq_length,
            "method": method, "level": cell.level if method == "ids" else "",
            "exact_match": round(em, 2), "f1": round(f1, 2),
            "train_seconds": round(summary.train_seconds, 1), "eval_seconds": round(seconds, 1),
            "train_examples": summary.examples, "train_features": summary.features,
            "steps": summary.steps, "peak_rss_mb": round(summary.peak_rss_mb, 1),
            "peak_gpu_mb": summary.peak_gpu_mb, "precision": summary.precision,
            "epochs": round(summary.steps * cell.training.batch_size / max(summary.features, 1), 3),
            "cpu_flags": speed_flags(), **_curve_record(folder / "model"), "metrics": metrics}


def _curve_record(model: Path) -> dict[str, Any]:
    """The learning curve a cell recorded, and its training minutes (scoring excluded)."""
    from ...models.qa.curve import Curve

    curve = Curve.read(model)
    if not curve.points:
        return {}
    return {"train_minutes": curve.points[-1].train_minutes, "curve": curve.to_dict()["points"],
            "stopped_by": curve.stopped_by}
