"""A trained extractor as one object: :class:`TrainedExtractor`, what ``train-extractor`` (or
``package-extractor``) writes, loaded once and handed to any entry point.

    >>> from ids_extract import TrainedExtractor, compress
    >>> trained = TrainedExtractor.from_pretrained("squad-en")          # doctest: +SKIP
    >>> compress(question, context, extractor=trained, profile="fast")  # doctest: +SKIP
    >>> trained.save_pretrained("my-extractor")                         # doctest: +SKIP

It owns what every entry point used to do on its own with a folder: read ``extractor.json``
(:mod:`.pretrained`, the file's format), check what its files hash to, build the
:class:`~.selector.Selector` of a profile (``Selector.from_pretrained`` and
``Extractor.from_pretrained`` go through it) and write a copy elsewhere.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import atomic_folder
from .pretrained import (
    FILE,
    ExtractorSpec,
    load_spec,
    resolve_extractor,
    save_spec,
    verify,
)
from .selector import Selector

#: what a folder holds beside its models and fusion files that a copy keeps: the card, the
#: held-out report and frontier and the stage records (``package-extractor`` keeps the same)
BESIDE = ("README.md", "heldout/report.json", "heldout/frontier.json", "stages.json")


class TrainedExtractor:
    """A ``train-extractor`` folder (or a shipped one, by name) loaded: its spec, card and
    profiles; :meth:`selector` scores with it, :meth:`save_pretrained` copies it. Entry points
    take it wherever they take an extractor's name or folder (``extractor=``), so a folder is
    read and checked once however many use it."""

    def __init__(self, spec: ExtractorSpec, source: str | Path, *, checked: bool = False) -> None:
        self.spec = spec
        #: what it was loaded from, as given (a manifest names a shipped one by name, any other
        #: by this)
        self.source = str(source)
        self._checked = checked  # every recorded hash was checked on load

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, *, check: bool = True) -> TrainedExtractor:
        """The extractor shipped under ``name_or_path`` (``squad-en``), or in that folder (or
        ``extractor.json``). With ``check``, every model and fusion file with a recorded hash
        must be what was written (:class:`ConfigError` naming it, as :func:`.pretrained.
        load_spec`); without, only those a :meth:`selector` reads are checked, when it is built
        (a profile is not refused for a model only another profile reads)."""
        return cls(load_spec(name_or_path, check=check), name_or_path, checked=check)

    @classmethod
    def of(cls, extractor: str | Path | TrainedExtractor) -> TrainedExtractor:
        """``extractor`` as given to an entry point: itself, or loaded unchecked (each selector
        checks the models it reads)."""
        if isinstance(extractor, TrainedExtractor):
            return extractor
        return cls.from_pretrained(extractor, check=False)

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"TrainedExtractor({self.source!r})"

    @property
    def folder(self) -> Path:
        return self.spec.folder

    @property
    def card(self) -> str:
        """Its ``README.md``: how it was trained, its held-out figures and its files ("" when the
        folder has none, as a hand-written ``extractor.json``)."""
        card = self.folder / "README.md"
        return card.read_text(encoding="utf-8") if card.is_file() else ""

    @property
    def profiles(self) -> dict[str, dict[str, Any]]:
        """Its profiles by name (``fast``, ``best``): scorers, fusion, cascade, held-out
        figures."""
        return {name: dict(p) for name, p in self.spec.profiles.items()}

    def reader_path(self) -> str:
        """Its extractive QA model (``answer`` reads with it)."""
        return self.spec.reader_path()

    def check(self, profile: str | None = None) -> None:
        """Every model the extractor (or its ``profile``) reads, its reader and every fusion
        file are what was written (:class:`ConfigError` naming the one that is not); done once,
        on load, for an extractor loaded with ``check``."""
        if not self._checked:
            verify(self.spec.profile(profile))

    def selector(self, profile: str | None = None, device: str | None = None, *,
                 cascade_k: int | None = None) -> Selector:
        """The scorers (models checked by content hash, unless the whole extractor was checked
        on load), fusion, cascade and segmenter of the extractor, or of one of its ``profile``s;
        ``device`` for its models. ``cascade_k``: when it has no cascade of its own, the
        scorers that are not cheap read only the cheap ones' top ``cascade_k`` units (as
        ``compress`` does with its own scorers)."""
        return Selector.from_pretrained(self, device, profile, cascade_k=cascade_k)

    def save_pretrained(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write a copy that loads on its own to ``path`` (a folder): its models (a model
        outside the folder is copied in, under ``models/``; a model named on the hub stays a
        name), fusion files, card and records, and an ``extractor.json`` with relative paths
        and every hash recorded anew. Every hash is checked first, so a changed file is not
        copied as if it were the trained one. Written to a folder beside ``path`` and renamed,
        so ``path`` never holds half a copy. The folder written."""
        out = Path(path)
        if out.exists() and not overwrite:
            raise ConfigError(f"{out} exists; give overwrite=True to replace it")
        if out.resolve() == self.folder.resolve():
            raise ConfigError(f"{out} is the extractor's own folder")
        verify(self.spec)
        with atomic_folder(out) as tmp:
            tmp.mkdir()
            save_spec(self._copied(tmp), tmp)
        return out

    def _copied(self, out: Path) -> ExtractorSpec:
        """The spec of a copy in ``out``, its files copied there: models by path and every
        fusion file at a path inside the folder, and what :data:`BESIDE` names."""
        models = {}
        for key, ref in self.spec.models.items():
            if "path" not in ref:
                models[key] = dict(ref)
                continue
            inside = _inside(ref["path"], self.folder, f"models/{key}")
            _copy(Path(self.spec.model_path(key)), out / inside)
            models[key] = {**ref, "path": inside}
        fusions = [self.spec.fusion, *(p["fusion"] for p in self.spec.profiles.values())]
        for fusion in fusions:
            if fusion.get("method") == "learned":
                inside = _inside(fusion["file"], self.folder, f"fusion/{Path(fusion['file']).name}")
                _copy(self.folder / fusion["file"], out / inside)
        for name in BESIDE:
            _copy(self.folder / name, out / name)
        profiles = {n: {**p, "fusion": _moved(p["fusion"], self.folder)}
                    for n, p in self.spec.profiles.items()}
        return replace(self.spec, models=models, fusion=_moved(self.spec.fusion, self.folder),
                       profiles=profiles, folder=out)


def _inside(relative: str, folder: Path, elsewhere: str) -> str:
    """Where a file the extractor names by ``relative`` path goes in a copy: the same path when
    it is inside the folder, else ``elsewhere``."""
    target = (folder / relative).resolve()
    return relative if target.is_relative_to(folder.resolve()) else elsewhere


def _moved(fusion: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A fusion entry as a copy names its file (see :func:`_inside`)."""
    if fusion.get("method") != "learned":
        return dict(fusion)
    name = fusion["file"]
    return {**fusion, "file": _inside(name, folder, f"fusion/{Path(name).name}")}


def _copy(src: Path, dst: Path) -> None:
    """A file or a folder (training checkpoints left out), where there is one."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("checkpoints"),
                        dirs_exist_ok=True)
    elif src.is_file():
        shutil.copy2(src, dst)


def extractor_key(extractor: str | Path | TrainedExtractor) -> str | TrainedExtractor:
    """What a cache of selectors keys an extractor by: a loaded one itself, a name or folder by
    its resolved folder (so two spellings of one folder share its loaded models)."""
    if isinstance(extractor, TrainedExtractor):
        return extractor
    return str(resolve_extractor(extractor).resolve())


__all__ = ["FILE", "TrainedExtractor", "extractor_key"]
