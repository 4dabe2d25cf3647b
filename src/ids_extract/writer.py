"""The dataset writer: one dataset per level plus ``manifest.json`` in an output folder, and the
checks and tables read back from it.

Every file is written atomically (a temporary file moved into place on success), so an interrupted
run leaves only whole files behind. The pipeline that feeds the writer is :mod:`ids_extract.engine`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from . import data
from .errors import ConfigError, DataError, IdsExtractError

MANIFEST = "manifest.json"
FORMATS = ("squad", "parquet")
SUFFIX = {"squad": ".json", "parquet": ".parquet"}
PACKAGES = ("ids-extract", "torch", "transformers", "sentence-transformers", "bm25s", "pysbd",
            "numpy", "pyarrow")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_fingerprint(source: str) -> str:
    """sha256 of a file, of a folder's files (sorted), or of a hub name."""
    path = Path(source)
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(f.relative_to(path)).encode() + b"\0" + sha256_file(f).encode())
    else:
        digest.update(f"hub:{source}".encode())
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def config_key(obj: Any) -> str:
    """Short stable hash of a JSON-able config (names cache folders)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class RunSummary:
    out_dir: Path
    manifest: dict[str, Any]
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


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
    return {}


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
        self.temps = {fmt: data.temp_beside(t) for fmt, t in self.targets.items()}
        self._pending: data.Article | None = None
        self._first = True
        self._json: Any = None
        self._parquet: Any = None
        if "squad" in self.temps:
            self._json = self.temps["squad"].open("w", encoding="utf-8")
            self._json.write('{"data": [')
        if "parquet" in self.temps:
            import pyarrow.parquet as pq

            self._parquet = pq.ParquetWriter(self.temps["parquet"], data.rows_schema())

    def add(self, articles: list[data.Article]) -> None:
        if self._parquet is not None and articles:
            import pyarrow as pa

            rows = data.to_rows(data.SquadDataset(self.version, articles))
            self._parquet.write_table(pa.Table.from_pylist(rows, schema=data.rows_schema()))
        if self._json is None:
            return
        for article in articles:
            if self._pending is not None and self._pending.title == article.title:
                self._pending.paragraphs.extend(article.paragraphs)
                continue
            self._flush()
            self._pending = data.Article(article.title, list(article.paragraphs))

    def _flush(self) -> None:
        if self._pending is None:
            return
        text = json.dumps(data.article_dict(self._pending, self.v2), ensure_ascii=False)
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
            data.commit_temp(tmp, self.targets[fmt])
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
        for tmp in out.glob(f".*{data.TEMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------- stats/validate


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        raise DataError(str(out_dir), "", f"no {MANIFEST}: not an ids-extract output folder")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return manifest
    except json.JSONDecodeError as err:
        raise DataError(str(path), f"line {err.lineno}", f"broken manifest: {err.msg}") from None


@dataclass
class Check:
    level: str
    file: str
    ok: bool
    message: str


def validate_dir(out_dir: str | Path) -> list[Check]:
    """Re-read every output: checksum as in the manifest, every answer equal to the text at its
    remapped offset (the loader's own check), ids unique, and the question count as reported."""
    out = Path(out_dir)
    manifest = read_manifest(out)
    checks = []
    for entry in manifest.get("levels", []):
        stats = entry.get("stats", {})
        expected = stats.get("questions", 0) - stats.get("dropped", 0)
        for fmt, f in entry.get("files", {}).items():
            path = out / f["path"]
            try:
                if not path.exists():
                    raise IdsExtractError(f"{path}: missing")
                if sha256_file(path) != f["sha256"]:
                    raise IdsExtractError(f"{path}: sha256 differs from the manifest")
                ds = data.load(path)
                if ds.num_questions != expected:
                    raise IdsExtractError(
                        f"{path}: {ds.num_questions} questions, manifest says {expected}")
                answers = sum(len(qa.answers) for _, _, qa in ds.iter_qas())
                checks.append(Check(entry["name"], f["path"], True,
                                    f"{ds.num_questions} questions, {answers} answers at their "
                                    f"offsets ({fmt})"))
            except IdsExtractError as err:
                checks.append(Check(entry["name"], f["path"], False, str(err)))
    if not checks:
        checks.append(Check("-", MANIFEST, False, "the manifest lists no level files"))
    return checks


def print_stats(manifest: dict[str, Any]) -> None:
    """The per-level table (and top-k recall per scorer) on the console."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console.width = 160

    table = Table(title=f"ids-extract: {manifest['input']['path']}")
    for col in ("level", "questions", "retention %", "lost", "dropped", "compression",
                "p50", "p90", "kept tokens", "sentences kept/all"):
        table.add_column(col, justify="right" if col != "level" else "left")
    for entry in manifest.get("levels", []):
        s = entry["stats"]
        table.add_row(entry["name"], str(s["questions"]), f"{s['retention_pct']:.2f}",
                      str(s["lost_after_policy"]), str(s["dropped"]),
                      f"{s['compression']['mean']:.3f}", f"{s['compression']['p50']:.3f}",
                      f"{s['compression']['p90']:.3f}", f"{s['kept_tokens']['mean']:.1f}",
                      f"{s['kept_sentences_mean']:.2f}/{s['sentences_mean']:.2f}")
    console.print(table)
    recall = manifest.get("ranking", {}).get("top_k_recall_pct", {})
    if recall:
        rt = Table(title=f"top-k sentence recall % ({manifest['ranking']['answerable']} answerable)")
        for col in ("scorer", "top1", "top2", "top3"):
            rt.add_column(col, justify="left" if col == "scorer" else "right")
        for name, r in recall.items():
            rt.add_row(name, f"{r['top1']:.2f}", f"{r['top2']:.2f}", f"{r['top3']:.2f}")
        console.print(rt)
