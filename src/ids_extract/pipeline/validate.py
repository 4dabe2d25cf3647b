"""Checks of an output folder read back from disk (``ids-extract validate``): every level file's
checksum as in the manifest, every answer equal to the text at its remapped offset (the loader's own
check), ids unique, and the question count as reported."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, IdsExtractError
from ..files import sha256_file
from ..squad.read import load
from .output import MANIFEST


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    """The folder's manifest, or a :class:`DataError` saying the folder is not an output."""
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
                ds = load(path)
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
    return checks + _unknown_files(out, manifest)


def _unknown_files(out: Path, manifest: dict[str, Any]) -> list[Check]:
    """A file the manifest does not list (left by another config, or put there by hand) makes
    the folder something the manifest does not describe."""
    listed = {f["path"] for lv in manifest.get("levels", []) for f in lv.get("files", {}).values()}
    return [Check("-", p.name, False, "not listed in the manifest (another config's output?)")
            for p in sorted(out.iterdir())
            if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST
            and p.name not in listed]
