"""Checks of an output folder read back from disk (``ids-extract validate``), whichever task wrote
it: every level file's checksum as in the manifest, the file read back by its task's own loader
(QA: every answer equal to the text at its remapped offset, ids unique; classification: every
record valid, ids unique), and the count of questions or texts as reported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, IdsExtractError
from ..files import fingerprint
from ..squad.read import load
from ..tabular import read_json
from ..textcls.model import Columns
from ..textcls.read import load as load_texts
from .folder import MANIFEST

TEXTS_FORMAT = "ids-extract-texts/1"


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    """The folder's manifest, or a :class:`DataError` saying the folder is not an output."""
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        raise DataError(str(out_dir), "", f"no {MANIFEST}: not an ids-extract output folder")
    manifest = read_json(path)  # a bad byte, an empty file, broken JSON: located errors
    if not isinstance(manifest, dict):
        raise DataError(str(path), "", "broken manifest: not a JSON object")
    return manifest


@dataclass
class Check:
    level: str
    file: str
    ok: bool
    message: str


def validate_dir(out_dir: str | Path) -> list[Check]:
    """Re-read every output: checksum as in the manifest, the file through its task's loader,
    and the count of questions (QA) or texts (classification) as reported."""
    out = Path(out_dir)
    manifest = read_manifest(out)
    reread = _reread_texts if manifest.get("format") == TEXTS_FORMAT else _reread_squad
    checks = []
    for entry in manifest.get("levels", []):
        for fmt, f in entry.get("files", {}).items():
            path = out / f["path"]
            try:
                if not path.exists():
                    raise IdsExtractError(f"{path}: missing")
                if fingerprint(str(path)) != f["sha256"]:
                    raise IdsExtractError(f"{path}: sha256 differs from the manifest")
                found = reread(path, entry.get("stats", {}), manifest)
                checks.append(Check(entry["name"], f["path"], True, f"{found} ({fmt})"))
            except IdsExtractError as err:
                checks.append(Check(entry["name"], f["path"], False, str(err)))
    if not checks:
        checks.append(Check("-", MANIFEST, False, "the manifest lists no level files"))
    return checks + _unknown_files(out, manifest)


def _reread_squad(path: Path, stats: dict[str, Any], manifest: dict[str, Any]) -> str:
    """A QA level read back (the loader checks every answer at its offset)."""
    expected = stats.get("questions", 0) - stats.get("dropped", 0)
    ds = load(path)
    if ds.num_questions != expected:
        raise IdsExtractError(f"{path}: {ds.num_questions} questions, manifest says {expected}")
    answers = sum(len(qa.answers) for _, _, qa in ds.iter_qas())
    return f"{ds.num_questions} questions, {answers} answers at their offsets"


def _reread_texts(path: Path, stats: dict[str, Any], manifest: dict[str, Any]) -> str:
    """A classification level read back with the columns it was written with."""
    columns = Columns(**manifest.get("config", {}).get("columns", {}))
    data = load_texts(path, columns=columns, labels="optional")
    expected = stats.get("texts", manifest.get("input", {}).get("texts"))
    if len(data) != expected:
        raise IdsExtractError(f"{path}: {len(data)} texts, manifest says {expected}")
    return f"{len(data)} texts, ids unique"


def _unknown_files(out: Path, manifest: dict[str, Any]) -> list[Check]:
    """A file the manifest does not list (left by another config, or put there by hand) makes
    the folder something the manifest does not describe."""
    listed = {f["path"] for lv in manifest.get("levels", []) for f in lv.get("files", {}).values()}
    return [Check("-", p.name, False, "not listed in the manifest (another config's output?)")
            for p in sorted(out.iterdir())
            if not p.name.startswith(".") and p.name != MANIFEST
            and p.name not in listed]
