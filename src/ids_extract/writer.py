"""The dataset writer: one dataset per level plus ``manifest.json`` in an output folder.

Every file is written atomically and the manifest is rewritten after each finished level, so an
interrupted run leaves only whole files behind; a re-run with the same input and config skips the
levels already written (and reuses cached scores), and gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import data
from .errors import ConfigError, DataError, IdsExtractError
from .extractor import Extractor, Scored

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


def _key(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class RunSummary:
    out_dir: Path
    manifest: dict[str, Any]
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def extract_to_dir(
    extractor: Extractor,
    source: str,
    out_dir: str | Path,
    *,
    formats: tuple[str, ...] = ("squad",),
    on_bad_answer: data.BadAnswerPolicy = "error",
    limit: int | None = None,
    overwrite: bool = False,
    hf_split: str = "validation",
) -> RunSummary:
    """Run the ladder on ``source`` and write it to ``out_dir``; resumable, see module doc."""
    for fmt in formats:
        if fmt not in FORMATS:
            raise ConfigError(f"format {fmt!r}: choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    fingerprint = input_fingerprint(source)
    dataset = data.load(source, on_bad_answer=on_bad_answer, split=hf_split).limit(limit)
    manifest = _fresh_manifest(extractor, source, fingerprint, dataset, formats, limit)
    previous = _previous_manifest(out, manifest, overwrite)
    done = {lv["name"]: lv for lv in previous.get("levels", []) if _level_intact(out, lv)}
    names = [f"D{n}-{lv.name}" for n, lv in enumerate(extractor.levels, 1)]
    todo = [n for n in names if n not in done]
    summary = RunSummary(out, manifest, skipped=[n for n in names if n in done])
    if todo:
        seg = extractor.segment(dataset)
        scored = _cached_scores(extractor, seg, out, manifest)
        result = extractor.select_all(dataset, seg, scored, only=todo)
        manifest["ranking"] = result.ranking.to_dict()
        for level_result in result.levels:
            done[level_result.stats.name] = _write_level(out, level_result, formats)
            summary.written.append(level_result.stats.name)
            manifest["levels"] = [done[n] for n in names if n in done]
            data.write_json(manifest, out / MANIFEST)
    else:
        manifest["ranking"] = previous.get("ranking", {})
    manifest["levels"] = [done[n] for n in names]
    data.write_json(manifest, out / MANIFEST)
    return summary


def _fresh_manifest(extractor: Extractor, source: str, fingerprint: str,
                    dataset: data.SquadDataset, formats: tuple[str, ...],
                    limit: int | None) -> dict[str, Any]:
    return {
        "format": "ids-extract/1",
        "input": {"path": source, "sha256": fingerprint, "version": dataset.version,
                  "articles": len(dataset.articles),
                  "paragraphs": sum(len(a.paragraphs) for a in dataset.articles),
                  "questions": dataset.num_questions, "limit": limit,
                  "answers_repaired_or_skipped": dataset.repairs},
        "config": {**extractor.config(), "formats": list(formats)},
        "packages": package_versions(),
        "ranking": {},
        "levels": [],
    }


def _previous_manifest(out: Path, manifest: dict[str, Any], overwrite: bool) -> dict[str, Any]:
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


def _level_intact(out: Path, entry: dict[str, Any]) -> bool:
    files = entry.get("files", {})
    return bool(files) and all(
        (out / f["path"]).exists() and sha256_file(out / f["path"]) == f["sha256"]
        for f in files.values()
    )


def _cached_scores(extractor: Extractor, seg: Any, out: Path, manifest: dict[str, Any]) -> Scored:
    """Scores are the expensive part: keep them under ``.cache/`` so adding a level, or re-running
    after an interruption, does not score again."""
    key = _key({"scoring": extractor.scoring_config(), "input": manifest["input"]["sha256"],
                "limit": manifest["input"]["limit"]})
    path = out / ".cache" / f"scores-{key}.npz"
    if path.exists():
        with np.load(path) as arrays:
            return Scored.from_arrays(dict(arrays))
    scored = extractor.score(seg)
    with data.atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **scored.to_arrays())  # type: ignore[arg-type]
    return scored


def _write_level(out: Path, result: Any, formats: tuple[str, ...]) -> dict[str, Any]:
    name = result.stats.name
    files = {}
    for fmt in formats:
        target = out / f"{name}{SUFFIX[fmt]}"
        if fmt == "squad":
            data.write_squad(result.dataset, target)
        else:
            data.write_parquet(result.dataset, target)
        files[fmt] = {"path": target.name, "sha256": sha256_file(target)}
    return {"name": name, "level": str(result.level), "files": files, "stats": result.stats.summary}


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
