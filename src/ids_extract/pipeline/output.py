"""The output folder: one dataset per level plus ``manifest.json``, and what a re-run needs to
resume in it (is the manifest of the same input and config, which levels are intact).

Every file is written atomically (a temporary file moved into place on success), so an interrupted
run leaves only whole files behind. The pipeline that feeds the writer is :mod:`.engine`; the
checks read back from a folder are :mod:`.validate`'s.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import TEMP_SUFFIX, commit_temp, sha256_file, temp_beside
from ..squad.model import Article, SquadDataset
from ..squad.write import article_dict, rows_schema, to_rows

MANIFEST = "manifest.json"
CACHE = ".cache"
LEVEL_FILE = re.compile(r"^D\d+-.+\.(json|parquet)$")
FORMATS = ("squad", "parquet")
SUFFIX = {"squad": ".json", "parquet": ".parquet"}
PACKAGES = ("ids-extract", "torch", "transformers", "sentence-transformers", "bm25s", "pysbd",
            "numpy", "pyarrow", "onnxruntime")


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@dataclass
class RunSummary:
    out_dir: Path
    manifest: dict[str, Any]
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage, and "total"


def previous_manifest(out: Path, manifest: dict[str, Any], overwrite: bool) -> dict[str, Any]:
    """The manifest already in ``out`` if it is of the same input and config (then its finished
    levels are kept); another one is an error unless ``overwrite``."""
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        previous = {}
    same = (previous.get("input", {}).get("sha256") == manifest["input"]["sha256"]
            and previous.get("input", {}).get("limit") == manifest["input"]["limit"]
            and previous.get("config") == manifest["config"])
    if same:
        return previous
    if not overwrite:
        raise ConfigError(
            f"{out} already holds an extraction of another input or config; "
            "use --overwrite to replace it, or choose another --out"
        )
    _remove_listed(out, previous)
    return {}


def _remove_listed(out: Path, previous: dict[str, Any]) -> None:
    """``overwrite``: the replaced extraction's level files, score cache and manifest go, so the
    folder never mixes two configs (a broken manifest: every ``D<n>-…`` level file goes)."""
    listed = [f["path"] for lv in previous.get("levels", []) for f in lv.get("files", {}).values()]
    if not previous:
        listed = [p.name for p in out.iterdir() if LEVEL_FILE.match(p.name)]
    for name in listed:
        (out / Path(name).name).unlink(missing_ok=True)
    shutil.rmtree(out / CACHE, ignore_errors=True)
    (out / MANIFEST).unlink(missing_ok=True)


def level_intact(out: Path, entry: dict[str, Any]) -> bool:
    files = entry.get("files", {})
    return bool(files) and all(
        (out / f["path"]).exists() and sha256_file(out / f["path"]) == f["sha256"]
        for f in files.values()
    )


class LevelWriter:
    """Streams one level's dataset to its files shard by shard, in every requested format.

    Articles cut by a shard boundary are joined again; the SQuAD JSON bytes equal those of
    ``json.dumps(to_squad_dict(...))`` of the whole dataset. Files appear only on ``close``."""

    def __init__(self, out: Path, name: str, formats: tuple[str, ...], version: str,
                 v2: bool) -> None:
        self.out, self.name, self.formats, self.version, self.v2 = out, name, formats, version, v2
        self.targets = {fmt: out / f"{name}{SUFFIX[fmt]}" for fmt in formats}
        self.temps = {fmt: temp_beside(t) for fmt, t in self.targets.items()}
        self._pending: Article | None = None
        self._first = True
        self._json: Any = None
        self._parquet: Any = None
        if "squad" in self.temps:
            self._json = self.temps["squad"].open("w", encoding="utf-8")
            self._json.write('{"data": [')
        if "parquet" in self.temps:
            import pyarrow.parquet as pq

            self._parquet = pq.ParquetWriter(self.temps["parquet"], rows_schema())

    def add(self, articles: list[Article]) -> None:
        """Append one shard's articles; an article continued from the last shard is joined to
        it, so the file is the same whatever the shard size."""
        if self._parquet is not None and articles:
            import pyarrow as pa

            rows = to_rows(SquadDataset(self.version, articles))
            self._parquet.write_table(pa.Table.from_pylist(rows, schema=rows_schema()))
        if self._json is None:
            return
        for article in articles:
            if self._pending is not None and self._pending.title == article.title:
                self._pending.paragraphs.extend(article.paragraphs)
                continue
            self._flush()
            self._pending = Article(article.title, list(article.paragraphs))

    def _flush(self) -> None:
        if self._pending is None:
            return
        text = json.dumps(article_dict(self._pending, self.v2), ensure_ascii=False)
        self._json.write(text if self._first else ", " + text)
        self._first = False
        self._pending = None

    def close(self) -> dict[str, Any]:
        """Finish the files and move them into place; returns their manifest entry."""
        if self._json is not None:
            self._flush()
            self._json.write(f'], "version": {json.dumps(self.version)}}}\n')
        self._close_handles()
        for fmt, tmp in self.temps.items():
            commit_temp(tmp, self.targets[fmt])
        return {fmt: {"path": t.name, "sha256": sha256_file(t)} for fmt, t in self.targets.items()}

    def abort(self) -> None:
        """Drop the unfinished files."""
        self._close_handles()
        for tmp in self.temps.values():
            tmp.unlink(missing_ok=True)

    def _close_handles(self) -> None:
        if self._json is not None:
            self._json.close()
        if self._parquet is not None:
            self._parquet.close()


def remove_stale_temps(out: Path) -> None:
    """Temporary files left by a run that was killed (kill -9 cannot clean up after itself)."""
    if out.is_dir():
        for tmp in out.glob(f".*{TEMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)
