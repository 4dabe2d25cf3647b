"""The classification output folder: one file per level in the input's format (ids, labels and
other columns unchanged, texts shortened) plus ``manifest.json``; resumable.

Two passes, as the QA engine's (:mod:`.engine`):

1. **score**: per shard of ``shard_size`` texts, segment and score, and save the spans and scores
   to ``.cache/shards-<key>/shard-NNNNN.npz`` atomically (:mod:`.shards`); ``<key>`` hashes what
   produced them (scorer configs with model content hashes, split, unit, segmenter, fusion, the
   input's sha256, limit, columns, shard size). A killed run keeps every finished shard;
2. **write**: select every unfinished level from the cached scores and write its file
   atomically; a level already written with the same config and an intact file is skipped.

Another input or config in the same folder is refused unless ``overwrite``
(:func:`.output.previous_manifest`). Input problems are found when the file is read, before
anything is written.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import config_key, fingerprint, write_json
from ..progress import track
from ..textcls.model import Columns, TextDataset
from ..textcls.read import load
from ..textcls.units import TextUnits
from ..textcls.write import target_name, write_like
from .classify import TextExtractor
from .output import MANIFEST, RunSummary, package_versions, previous_manifest, remove_stale_temps
from .scoring import Scored
from .shards import read_shard, save_shard, shard_arrays

FORMAT = "ids-extract-texts/1"
DEFAULT_TEXT_SHARD_SIZE = 512


def extract_texts_to_dir(extractor: TextExtractor, source: str, out_dir: str | Path, *,
                         columns: Columns | None = None, hf_split: str = "train",
                         limit: int | None = None, overwrite: bool = False,
                         shard_size: int = DEFAULT_TEXT_SHARD_SIZE,
                         dataset: TextDataset | None = None) -> RunSummary:
    """Compress ``source`` at every level of ``extractor`` into ``out_dir`` (see the module doc).
    ``dataset``: the file already read (with the same columns), to avoid reading it twice."""
    if shard_size < 1:
        raise ConfigError("shard size must be at least 1 text")
    out = Path(out_dir)
    if dataset is None:
        dataset = read_input(source, extractor.split, columns, hf_split)
    dataset = dataset.limit(limit)
    digest = fingerprint(str(source))
    manifest = _fresh_manifest(extractor, dataset, digest, limit, shard_size)
    previous = previous_manifest(out, manifest, overwrite)
    names = extractor.level_names()
    done = {lv["name"]: lv for lv in previous.get("levels", []) if _intact(out, lv)}
    todo = [n for n in names if n not in done]
    summary = RunSummary(out, manifest, skipped=[n for n in names if n in done])
    if todo:
        _clean(out)
        key = config_key({"scoring": extractor.scoring_config(), "sha": digest, "limit": limit,
                          "columns": asdict(dataset.columns), "shard_size": shard_size})
        units, scored = _scores(extractor, dataset, out / ".cache" / f"shards-{key}", shard_size)
        for result in extractor.select_all(units, scored, only=todo):
            path = write_like(dataset, result.texts, out / target_name(dataset, result.name))
            done[result.name] = {"name": result.name, "level": str(result.level),
                                 "files": {dataset.format: {"path": path.name,
                                                            "sha256": fingerprint(str(path))}},
                                 "stats": result.stats}
        summary.written = todo
    manifest["levels"] = [done[n] for n in names]
    write_json(manifest, out / MANIFEST)
    return summary


def read_input(source: str, split: str, columns: Columns | None, hf_split: str) -> TextDataset:
    """The input, validated; labels are required on a training split (scorers may use them)."""
    return load(source, columns=columns, hf_split=hf_split,
                labels="required" if split == "train" else "optional")


def _fresh_manifest(extractor: TextExtractor, dataset: TextDataset, digest: str,
                    limit: int | None, shard_size: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "input": {"path": dataset.source, "sha256": digest, "format": dataset.format,
                  "texts": len(dataset), "labels": dataset.label_counts(), "limit": limit},
        "config": {**extractor.config(), "columns": asdict(dataset.columns),
                   "shard_size": shard_size},
        "packages": package_versions(),
        "levels": [],
    }


def _intact(out: Path, entry: dict[str, Any]) -> bool:
    files = entry.get("files", {})
    return bool(files) and all((out / f["path"]).exists()
                               and fingerprint(str(out / f["path"])) == f["sha256"]
                               for f in files.values())


def _clean(out: Path) -> None:
    """Leftovers of a killed run: temporary files and temporary ``datasets`` folders."""
    remove_stale_temps(out)
    if out.is_dir():
        for tmp in [*out.glob(".*.tmpdir"), *out.glob(".*.old")]:
            shutil.rmtree(tmp, ignore_errors=True)


def _scores(extractor: TextExtractor, dataset: TextDataset, cache: Path,
            shard_size: int) -> tuple[TextUnits, Scored]:
    """Score the shards not in the cache yet, then every shard's units and scores from it."""
    n_shards = math.ceil(len(dataset) / shard_size)
    bounds = [range(k * shard_size, min((k + 1) * shard_size, len(dataset)))
              for k in range(n_shards)]
    missing = [k for k in range(n_shards) if not _shard_path(cache, k).exists()]
    quiet, extractor.quiet = extractor.quiet, True
    try:
        for k in track(missing, "scoring shards", len(missing), quiet):
            units = extractor.segment(dataset.select(bounds[k]))
            save_shard(_shard_path(cache, k), shard_arrays(units.spans, extractor.score(units)))
        spans, parts = [], []
        for k in range(n_shards):
            shard_spans, scored = read_shard(_shard_path(cache, k))
            spans += shard_spans
            parts.append(scored)
        units = extractor.segment(dataset, spans_given=spans)
    finally:
        extractor.quiet = quiet
    merged = Scored({n: [a for p in parts for a in p.per_scorer[n]] for n in parts[0].per_scorer},
                    [a for p in parts for a in p.fused])
    return units, merged


def _shard_path(cache: Path, k: int) -> Path:
    return cache / f"shard-{k:05d}.npz"
