"""The classification output folder: one file per level in the input's format (ids, labels and
other columns unchanged, texts shortened: :data:`.output.TEXTS_PRODUCT`) plus ``manifest.json``;
resumable, through the one output-folder engine (:func:`.run.run_to_dir`).

What is classification's here: the input is read (and checked) whole before anything is
written; its shards are ``shard_size`` texts; a level is selected over every text at once (its
statistics are percentiles over the input), from the scores cached per shard. The score cache's
key adds the columns to the scoring config, input sha256, limit and shard size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import defaults
from ..errors import DataError
from ..files import check_out, fingerprint
from ..models.classifier.evaluate import METRICS, evaluate_classifier, write_evaluation
from ..models.classifier.folder import Classifier
from ..models.hub import model_id
from ..textcls.model import Columns, TextDataset
from ..textcls.read import load
from .classify import TextExtractor
from .folder import RunSummary, file_entry, package_versions, write_folder
from .run import Options, check_run, run_to_dir

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
    check_run(out, limit, shard_size, "texts")
    if dataset is None:
        dataset = read_input(source, extractor.split, columns, hf_split)
    dataset = dataset.limit(limit)
    digest = fingerprint(str(source))
    return run_to_dir(
        extractor.driver, TextSource(dataset, shard_size), out,
        {"path": dataset.source, "sha256": digest, "format": dataset.format,
         "texts": len(dataset), "labels": dataset.label_counts(), "limit": limit},
        {**extractor.config(), "columns": asdict(dataset.columns), "shard_size": shard_size},
        Options((dataset.format,), dataset, overwrite),
        cache={"scoring": extractor.scoring_config(), "sha": digest, "limit": limit,
               "columns": asdict(dataset.columns), "shard_size": shard_size})


@dataclass
class TextSource:
    """A classification file read whole, as the engine's source: ``shard_size`` texts a shard,
    every level selected over the whole file."""

    dataset: TextDataset
    shard_size: int

    @property
    def items(self) -> int:
        return len(self.dataset)

    @property
    def whole(self) -> TextDataset:
        return self.dataset

    @property
    def n_shards(self) -> int:
        return -(-len(self.dataset) // self.shard_size)

    def shards(self) -> Iterator[TextDataset]:
        n = len(self.dataset)
        for start in range(0, n, self.shard_size):
            yield self.dataset.select(range(start, min(start + self.shard_size, n)))

    def count(self, shard: TextDataset) -> int:
        return len(shard)


def read_input(source: str, split: str, columns: Columns | None, hf_split: str) -> TextDataset:
    """The input, validated; labels are required on a training split (scorers may use them)."""
    return load(source, columns=columns, hf_split=hf_split,
                labels="required" if split == "train" else "optional")


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
