"""The output folder, one engine for every command that writes one (``extract``,
``extract-texts``, ``evaluate-classifier``): a ``manifest.json`` that names the input (sha256,
limit) and the config, and lists every output with its files' sha256.

:func:`write_folder` is the one place that

- refuses an ``out`` that is a file (:func:`ids_extract.files.check_out`);
- holds the folder's lock, so a second run into the same folder is refused while one writes;
- resumes: an output listed in the manifest of the same input and config whose files are intact
  is skipped; outputs added to the same input and config (a level more) are written beside
  them, from the same score cache; another input or config is refused unless ``overwrite``
  (then its files and score cache go), and so is a run that would drop outputs of the same one
  (then only those outputs go: the score cache stays);
- removes what a killed run left (temporary files and folders) before writing again;
- writes the manifest last, atomically, so a folder with a manifest is complete.

What a command writes into the folder is its own (``produce``); what ``stats`` and ``validate``
read back is :mod:`.validate`'s.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import TEMP_SUFFIX, check_out, fingerprint, folder_lock, write_json

MANIFEST = "manifest.json"
CACHE = ".cache"
#: an output of a level ladder: D<n>-<level>, a file or a ``datasets`` folder
LEVEL_FILE = re.compile(r"^D\d+-.+$")
PACKAGES = ("ids-extract", "torch", "transformers", "sentence-transformers", "bm25s", "pysbd",
            "numpy", "pyarrow", "onnxruntime")

#: ``produce(todo)``: write the outputs named in ``todo``; their manifest entries by name
Produce = Callable[[list[str]], dict[str, dict[str, Any]]]


def package_versions() -> dict[str, str]:
    """Python and the versions of the packages that decide the output (for the manifest)."""
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


def write_folder(out: Path, manifest: dict[str, Any], names: Sequence[str], produce: Produce, *,
                 overwrite: bool = False, key: str = "levels",
                 carry: Sequence[str] = ()) -> RunSummary:
    """Write the outputs ``names`` of ``manifest`` into ``out`` (see the module doc): those not
    already intact there are made by ``produce``; ``manifest[key]`` lists every output's entry
    (``{"name", "files": {fmt: {"path", "sha256"}}, …}``), ``carry`` names manifest parts kept
    from the previous manifest when nothing replaces them."""
    check_out(out)
    with folder_lock(out):  # a second run into ``out`` is refused while this one writes
        previous = previous_manifest(out, manifest, overwrite, key)
        for part in carry:
            manifest[part] = previous.get(part, manifest.get(part))
        kept = _kept_outputs(out, previous, manifest, names, key, overwrite)
        done = {e["name"]: e for e in kept if intact(out, e)}
        todo = [n for n in names if n not in done]
        summary = RunSummary(out, manifest, skipped=[n for n in names if n in done])
        if todo:
            remove_stale(out)
            done.update(produce(todo))
            summary.written = list(todo)
        manifest[key] = [done[n] for n in names]
        write_json(manifest, out / MANIFEST)
    return summary


def previous_manifest(out: Path, manifest: dict[str, Any], overwrite: bool,
                      key: str = "levels") -> dict[str, Any]:
    """The manifest already in ``out`` if it is of the same input and config, the outputs
    (``config[key]``, e.g. the levels) aside: its finished outputs may be kept. Another one is an
    error unless ``overwrite``."""
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):  # broken: not the same run's
        previous = {}

    def config(m: dict[str, Any]) -> Any:
        return {k: v for k, v in m.get("config", {}).items() if k != key}

    same = (previous.get("format") == manifest.get("format")
            and previous.get("input", {}).get("sha256") == manifest["input"]["sha256"]
            and previous.get("input", {}).get("limit") == manifest["input"]["limit"]
            and config(previous) == config(manifest))
    if same:
        return previous
    if not overwrite:
        raise ConfigError(
            f"{out} already holds an output of another input or config; "
            "use `overwrite` to replace it, or choose another `out`"
        )
    _remove_listed(out, previous)
    return {}


def _kept_outputs(out: Path, previous: dict[str, Any], manifest: dict[str, Any],
                  names: Sequence[str], key: str, overwrite: bool) -> list[dict[str, Any]]:
    """The previous run's outputs this run asks for again (same name, same level). Outputs it
    does not ask for would be left unlisted in the folder: refused unless ``overwrite``, which
    removes them (their scores stay in the cache, keyed by the scoring config)."""
    wanted = dict(zip(names, manifest.get("config", {}).get(key) or [None] * len(names),
                      strict=False))
    entries = previous.get(key, [])
    kept = [e for e in entries if e.get("name") in wanted
            and (not e.get("level") or e["level"] == wanted[e["name"]])]
    dropped = [e for e in entries if e not in kept]
    if dropped and not overwrite:
        raise ConfigError(
            f"{out} holds {', '.join(e.get('name', '?') for e in dropped)} of the same input and "
            "scoring config, which this run does not ask for; ask for them too (a level may be "
            "added at the end), or use `overwrite` to replace them (the score cache is kept)")
    for entry in dropped:
        for f in entry.get("files", {}).values():
            _remove(out / Path(f["path"]).name)
    return kept


def _remove_listed(out: Path, previous: dict[str, Any]) -> None:
    """``overwrite``: the replaced run's files, score cache and manifest go, so the folder never
    mixes two configs (a broken manifest: every ``D<n>-…`` output goes)."""
    listed = [f["path"] for entries in previous.values() if isinstance(entries, list)
              for e in entries if isinstance(e, dict) for f in e.get("files", {}).values()]
    if not previous:
        listed = [p.name for p in out.iterdir() if LEVEL_FILE.match(p.name)]
    for name in listed:
        _remove(out / Path(name).name)
    shutil.rmtree(out / CACHE, ignore_errors=True)
    (out / MANIFEST).unlink(missing_ok=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def file_entry(path: Path) -> dict[str, str]:
    """A written output's manifest record: its name in the folder and its sha256 (a ``datasets``
    folder: the hash of its files)."""
    return {"path": path.name, "sha256": fingerprint(str(path))}


def intact(out: Path, entry: dict[str, Any]) -> bool:
    """Every file of the manifest entry is there with the sha256 it was written with."""
    files = entry.get("files", {})
    return bool(files) and all(
        (out / f["path"]).exists() and fingerprint(str(out / f["path"])) == f["sha256"]
        for f in files.values()
    )


def remove_stale(out: Path) -> None:
    """What a killed run left (kill -9 cannot clean up after itself): temporary files, and the
    temporary folders of a ``datasets`` output."""
    if out.is_dir():
        for tmp in out.glob(f".*{TEMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)
        for tmp in [*out.glob(".*.tmpdir"), *out.glob(".*.old")]:
            shutil.rmtree(tmp, ignore_errors=True)
