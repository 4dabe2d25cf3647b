"""Checks of an output folder read back from disk (``ids-extract validate``), whichever task wrote
it: every level file's checksum as in the manifest, then the file read back by its format's own
read-back (:class:`.product.FileFormat`, found through the manifest's ``format`` in
:mod:`.products`; QA: every answer equal to the text at its remapped offset, ids unique;
classification: every record valid, ids unique), with the count of items as reported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, IdsExtractError
from ..files import fingerprint
from ..tabular import read_json
from .folder import MANIFEST
from .product import Product
from .products import product_of


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
    """Re-read every output: checksum as in the manifest, then the file through its format's
    read-back (see the module doc)."""
    out = Path(out_dir)
    manifest = read_manifest(out)
    product = product_of(manifest, str(out / MANIFEST))
    checks = [_check(out, product, entry, fmt, f, manifest)
              for entry in manifest.get("levels", [])
              for fmt, f in entry.get("files", {}).items()]
    if not checks:
        checks.append(Check("-", MANIFEST, False, "the manifest lists no level files"))
    return checks + _unknown_files(out, manifest)


def _check(out: Path, product: Product[Any], entry: dict[str, Any], fmt: str, f: dict[str, str],
           manifest: dict[str, Any]) -> Check:
    """One level file: there, as hashed in the manifest, and read back by its format."""
    path = out / f["path"]
    try:
        if not path.exists():
            raise IdsExtractError(f"{path}: missing")
        if fingerprint(str(path)) != f["sha256"]:
            raise IdsExtractError(f"{path}: sha256 differs from the manifest")
        found = product.file_format(fmt).read(path, entry, manifest)
        return Check(entry["name"], f["path"], True, f"{found} ({fmt})")
    except IdsExtractError as err:
        return Check(entry["name"], f["path"], False, str(err))


def _unknown_files(out: Path, manifest: dict[str, Any]) -> list[Check]:
    """A file the manifest does not list (left by another config, or put there by hand) makes
    the folder something the manifest does not describe."""
    listed = {f["path"] for lv in manifest.get("levels", []) for f in lv.get("files", {}).values()}
    return [Check("-", p.name, False, "not listed in the manifest (another config's output?)")
            for p in sorted(out.iterdir())
            if not p.name.startswith(".") and p.name != MANIFEST
            and p.name not in listed]
