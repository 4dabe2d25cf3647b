"""The classification output folder: one file per level in the input's format (ids, labels and
other columns unchanged, texts shortened) plus ``manifest.json``; resumable.

Two passes, as the QA engine's (:mod:`.engine`):

1. **score**: per shard of ``shard_size`` texts, segment and score, and save the spans and scores
   to ``.cache/shards-<key>/shard-NNNNN.npz`` atomically (:mod:`.shards`); ``<key>`` hashes what
   produced them (scorer configs with model content hashes, split, unit, segmenter, fusion, the
   input's sha256, limit, columns, shard size). A killed run keeps every finished shard;
2. **write**: select every unfinished level from the cached scores and write its file
   atomically; a level already written with the same config and an intact file is skipped.

The folder is the one output-folder engine's (:func:`.folder.write_folder`: lock, resume, another
input or config refused unless ``overwrite``, leftovers of a killed run removed). Input problems
are found when the file is read, before anything is written.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import defaults
from ..errors import ConfigError, DataError, check_limit
from ..files import check_out, fingerprint
from ..models.classifier.evaluate import METRICS, evaluate_classifier, write_evaluation
from ..models.classifier.folder import Classifier
from ..models.hub import model_id
from ..progress import track
from ..textcls.model import Columns, TextDataset
from ..textcls.read import load
from ..textcls.units import TextUnits
from ..textcls.write import target_name, write_like
from .classify import TextExtractor
from .folder import RunSummary, file_entry, package_versions, write_folder
from .scoring import Scored
from .shards import ShardCache, score_segmented, silenced
from .validate import TEXTS_FORMAT

DEFAULT_TEXT_SHARD_SIZE = defaults.TEXT_SHARD_SIZE
EVALUATION_FORMAT = "ids-extract-evaluation/1"


def extract_texts_to_dir(extractor: TextExtractor, source: str, out_dir: str | Path, *,
                         columns: Columns | None = None, hf_split: str = "train",
                         limit: int | None = None, overwrite: bool = False,
                         shard_size: int = DEFAULT_TEXT_SHARD_SIZE,
                         dataset: TextDataset | None = None) -> RunSummary:
    """Compress ``source`` at every level of ``extractor`` into ``out_dir`` (see the module doc).
    ``dataset``: the file already read (with the same columns), to avoid reading it twice."""
    out = Path(out_dir)
    check_out(out)
    check_limit(limit, "texts")
    if shard_size < 1:
        raise ConfigError("shard size must be at least 1 text")
    if dataset is None:
        dataset = read_input(source, extractor.split, columns, hf_split)
    dataset = dataset.limit(limit)
    digest = fingerprint(str(source))
    manifest = _fresh_manifest(extractor, dataset, digest, limit, shard_size)
    cache = ShardCache(out, {"scoring": extractor.scoring_config(), "sha": digest, "limit": limit,
                             "columns": asdict(dataset.columns), "shard_size": shard_size})

    def produce(todo: list[str]) -> dict[str, dict[str, Any]]:
        """Score the shards not cached yet, then write the level files of ``todo``."""
        units, scored = _scores(extractor, dataset, cache, shard_size)
        done = {}
        for result in extractor.select_all(units, scored, only=todo):
            path = write_like(dataset, result.texts, out / target_name(dataset, result.name))
            done[result.name] = {"name": result.name, "level": str(result.level),
                                 "files": {dataset.format: file_entry(path)},
                                 "stats": result.stats}
        return done

    return write_folder(out, manifest, extractor.level_names(), produce, overwrite=overwrite)


def read_input(source: str, split: str, columns: Columns | None, hf_split: str) -> TextDataset:
    """The input, validated; labels are required on a training split (scorers may use them)."""
    return load(source, columns=columns, hf_split=hf_split,
                labels="required" if split == "train" else "optional")


def _fresh_manifest(extractor: TextExtractor, dataset: TextDataset, digest: str,
                    limit: int | None, shard_size: int) -> dict[str, Any]:
    return {
        "format": TEXTS_FORMAT,
        "input": {"path": dataset.source, "sha256": digest, "format": dataset.format,
                  "texts": len(dataset), "labels": dataset.label_counts(), "limit": limit},
        "config": {**extractor.config(), "columns": asdict(dataset.columns),
                   "shard_size": shard_size},
        "packages": package_versions(),
        "levels": [],
    }


def _scores(extractor: TextExtractor, dataset: TextDataset, cache: ShardCache,
            shard_size: int) -> tuple[TextUnits, Scored]:
    """Score the shards not in the cache yet, then every shard's units and scores from it."""
    n_shards = math.ceil(len(dataset) / shard_size)
    bounds = [range(k * shard_size, min((k + 1) * shard_size, len(dataset)))
              for k in range(n_shards)]
    missing = [k for k in range(n_shards) if not cache.has(k)]
    quiet, driver = extractor.quiet, extractor.driver
    with silenced(driver):
        for k in track(missing, "scoring shards", len(missing), quiet):
            cache.save(k, score_segmented(driver, driver.units(dataset.select(bounds[k]))))
        spans, parts = [], []
        for k in range(n_shards):
            shard_spans, scored = cache.read(k)
            spans += shard_spans
            parts.append(scored)
        units = extractor.to_units(dataset, spans_given=spans)
    merged = Scored({n: [a for p in parts for a in p.per_scorer[n]] for n in parts[0].per_scorer},
                    [a for p in parts for a in p.fused])
    return units, merged


def evaluate_to_dir(clf: Classifier, data: TextDataset, source: str, out_dir: str | Path, *,
                    mode: str | None = None, batch_size: int = 32, limit: int | None = None,
                    overwrite: bool = False, quiet: bool = True) -> tuple[dict[str, Any], RunSummary]:
    """``evaluate-classifier``'s folder (metrics, predictions, confusion matrix) through the
    output-folder engine: the same input, limit and classifier again is skipped (the metrics
    are read back); another one into the same folder is refused unless ``overwrite``, so an
    evaluation is never replaced silently by one of another file or ``limit``."""
    out = Path(out_dir)
    check_out(out)
    unknown = [r for r in data.records if r.label is not None and r.label not in clf.labels]
    if unknown:
        raise DataError(data.source, unknown[0].where,
                        f"label {unknown[0].label!r} is not a class of the classifier "
                        f"({', '.join(clf.labels)}); {len(unknown)} texts have such labels")
    manifest = {"format": EVALUATION_FORMAT,
                "input": {"path": data.source, "sha256": fingerprint(str(source)),
                          "texts": len(data), "limit": limit},
                "config": {"model": model_id(clf.path), "mode": mode or clf.config.mode,
                           "max_seq_length": clf.config.max_seq_length},
                "packages": package_versions(), "outputs": []}
    found: dict[str, Any] = {}

    def produce(todo: list[str]) -> dict[str, dict[str, Any]]:
        """Score every text, then write the three files."""
        metrics, rows = evaluate_classifier(clf, data, mode, batch_size, quiet)
        found.update(metrics)
        paths = write_evaluation(metrics, rows, out)
        return {"evaluation": {"name": "evaluation",
                               "files": {k: file_entry(p) for k, p in paths.items()}}}

    summary = write_folder(out, manifest, ["evaluation"], produce, overwrite=overwrite,
                           key="outputs")
    if not found:  # skipped: the evaluation in the folder is this one
        found.update(json.loads((out / METRICS).read_text(encoding="utf-8")))
    return found, summary
