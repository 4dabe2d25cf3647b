"""The trained-extractor file ``extractor.json``: which scorers, with which options and models, how
their scores are fused, and how contexts are segmented. This module is the one owner of the format:
``train-extractor`` writes it through :func:`save_spec`; :class:`.trained.TrainedExtractor` (what
``Extractor.from_pretrained`` and the ``extractor`` of every entry point load) reads it through
:func:`load_spec`. It also holds the one rule of what an extractor rules out beside it
(:func:`check_beside_extractor`, by library parameter name).

Models are named in ``models`` by key: a ``path`` relative to the file's folder (the trained
models inside the extractor folder), or a ``name`` (a hub name, or a folder elsewhere). Every
local model gets the **content hash** of its files (:func:`ids_extract.models.hub.content_hash`)
when the file is written, checked on load, so a model changed after the file was written is
refused instead of silently giving other scores; a hand-written profile of public hub models
(see docs/guide/extractor.md) has no hash and is not checked. A learned fusion is a file beside it, hashed the
same way.

```json
{"format": "ids-extract-extractor/1", "segmenter": "pysbd",
 "models": {"reader": {"path": "reader", "sha256": "…"}, "cross": {"path": "cross", "sha256": "…"}},
 "scorers": [{"name": "bm25"}, {"name": "reader", "model": "reader"},
             {"name": "cross", "model": "cross", "options": {"batch_size": 64}}],
 "fusion": {"method": "learned", "file": "fusion.json", "sha256": "…"},
 "reader": "reader"}
```
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

from .. import defaults
from ..errors import ConfigError
from ..files import sha256_file, write_json
from ..models.hub import content_hash, resolve_model
from ..scorers import scorer_class, takes
from ..select.cascade import Cascade
from ..select.learned import LearnedFusion

FILE = "extractor.json"
FORMAT = "ids-extract-extractor/1"
#: extractors that ship inside the package (``package-extractor`` folders), by name
SHIPPED = Path(__file__).resolve().parents[1] / "shipped"


def shipped_extractors() -> dict[str, Path]:
    """The extractors shipped with the package: name -> folder."""
    if not SHIPPED.is_dir():
        return {}
    return {p.name: p for p in sorted(SHIPPED.iterdir()) if (p / FILE).is_file()}


def resolve_extractor(where: str | Path) -> Path:
    """An extractor folder (or its ``extractor.json``) from a path, or from the name of one
    that ships with the package (``squad-en``) when no such path exists."""
    path = Path(where).expanduser()
    if not path.exists() and str(where) in shipped_extractors():
        return shipped_extractors()[str(where)]
    return path


#: what a trained extractor decides, so that no entry point takes it beside one (it would be
#: dropped without a word): the scorers (and so ``fast``), their options and models, their
#: fusion, the segmenter and the cascade
DECIDED = ("scorers", "fast", "scorer options", "models", "fusion", "segmenter", "cascade")

#: every library parameter, of any entry point, that gives one of :data:`DECIDED`: what it
#: decides (``compress()``'s keywords named after a scorer, ``sbert={...}``, are scorer options
#: too). One table, so that a parameter an entry point gains is refused beside an extractor by
#: all of them, and a new thing an extractor decides must be given its parameters here.
DECIDED_BY: dict[str, str] = {
    "scorers": "scorers", "fast": "fast",
    **dict.fromkeys(("scorer_option", "scorer_options", "batch_size", "precision", "backend",
                     "ig_mode", "ig_target", "ig_cascade", "ig_margin"), "scorer options"),
    **dict.fromkeys(("model", "reader_model", "cross_model", "dpr_model", "sbert_model",
                     "static_model"), "models"),
    **dict.fromkeys(("weights", "fusion", "fusion_model"), "fusion"),
    "segmenter": "segmenter", "cascade_k": "cascade"}

#: the values a parameter has when it was not asked for, beyond None, False and empty:
#: ``cascade_k`` is compress's cascade unless changed (an entry point with another one says so
#: with ``unasked``)
UNASKED: dict[str, Any] = {"cascade_k": defaults.CASCADE_K}


def ruled_out(*, unasked: Mapping[str, Any] | None = None, **values: Any) -> list[str]:
    """Which of the values an entry point has (by library parameter name: ``scorers=…,
    weights=…``) a trained extractor decides and were given, as ```name```: a value is given
    when it is not None, False, empty or its parameter's :data:`UNASKED` value (``unasked``:
    this entry point's own, where its default differs). A name this module does not know, or
    a thing of :data:`DECIDED` no parameter gives, is a :class:`TypeError`: the rule must know
    every parameter and every category."""
    from ..scorers import REGISTRY

    missing = [what for what in DECIDED if what not in DECIDED_BY.values()]
    unknown = [name for name in values if name not in DECIDED_BY and name not in REGISTRY]
    if missing or unknown:
        raise TypeError(f"ruled_out: no parameter gives {missing}, or {unknown} are not "
                        "parameters of what an extractor decides (pipeline.pretrained.DECIDED_BY)")
    skip = {**UNASKED, **(unasked or {})}
    return [f"`{name}`" for name, value in values.items()
            if value is not None and value is not False and value not in ({}, [], ())
            and not (name in skip and value == skip[name])]


def decided_of(job: Any) -> dict[str, Any]:
    """A job's (a dataclass of settings) values of what an extractor decides: every field
    :data:`DECIDED_BY` knows, so a field a job gains is checked as soon as the table knows it."""
    return {f.name: getattr(job, f.name) for f in fields(job) if f.name in DECIDED_BY}


#: the extractor ``extract``, ``compress()``, ``compress`` and both RAG adapters use when they
#: are given no scorers or options of scorers (none of :data:`DECIDED`), and its profile
DEFAULT_EXTRACTOR, DEFAULT_PROFILE = defaults.EXTRACTOR, defaults.PROFILE


def default_extractor(*, unasked: Mapping[str, Any] | None = None,
                      **values: Any) -> str | None:
    """The shipped extractor's name when an entry point chose nothing an extractor decides
    (``values`` as for :func:`ruled_out`), else None: the scorers it named, or the paper's
    ``bm25,sbert``. None too when the package ships no such extractor."""
    if ruled_out(unasked=unasked, **values) or DEFAULT_EXTRACTOR not in shipped_extractors():
        return None
    return DEFAULT_EXTRACTOR


def check_beside_extractor(extractor: object, /, *, unasked: Mapping[str, Any] | None = None,
                           **values: Any) -> None:
    """The one rule every entry point (the command line, ``compress()``, both RAG adapters, the
    jobs, ``answer``) asks before it uses a trained extractor: none of :data:`DECIDED` may be
    given beside it. Each passes every value it has of them by parameter name (see
    :func:`ruled_out`); the message names the given ones as ```name```, which the command line
    shows as its flags."""
    clash = ruled_out(unasked=unasked, **values)
    if clash:
        raise ConfigError(f"the extractor {extractor} decides the scorers, their options, models "
                          f"and fusion, the segmenter and the cascade: leave out {', '.join(clash)}")


class LoadedExtractor(Protocol):
    """What :meth:`.selector.Selector.from_pretrained` reads of a loaded extractor
    (:class:`.trained.TrainedExtractor`, which imports this module and the selector, so the
    selector cannot import it): its spec, what it was loaded from (``str()``: a manifest's name
    of it) and the check of a profile's files."""

    spec: ExtractorSpec

    def check(self, profile: str | None = None) -> None: ...


@dataclass
class ScorerSpec:
    """One scorer: its registry name, the key of its model in ``models`` (None: the scorer's
    default), and other constructor options."""

    name: str
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExtractorSpec:
    """What ``extractor.json`` holds; ``folder`` is where relative model paths start."""

    scorers: list[ScorerSpec]
    models: dict[str, dict[str, str]] = field(default_factory=dict)
    fusion: dict[str, Any] = field(default_factory=lambda: {"method": "weighted"})
    segmenter: str = defaults.SEGMENTER
    reader: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    folder: Path = field(default_factory=Path)
    #: the retrieve-then-rerank cascade (:class:`ids_extract.select.cascade.Cascade` config)
    cascade: dict[str, Any] | None = None
    #: named profiles: a subset of the scorers with its own fusion and cascade (``fast``,
    #: ``best``), chosen by ``train-extractor`` on held-out articles
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def profile(self, name: str | None) -> ExtractorSpec:
        """The extractor restricted to profile ``name`` (None: the whole extractor)."""
        if name is None:
            return self
        if name not in self.profiles:
            have = ", ".join(self.profiles) or "none"
            raise ConfigError(f"{self.folder / FILE}: no profile {name!r} (profiles: {have})")
        chosen = self.profiles[name]
        scorers = [s for s in self.scorers if s.name in chosen["scorers"]]
        return replace(self, scorers=scorers, fusion=dict(chosen["fusion"]),
                       cascade=chosen.get("cascade"), profiles={},
                       info={**self.info, "profile": name})

    def model_path(self, key: str) -> str:
        """Where model ``key`` is: a folder (relative paths start at the file's folder) or a
        hub name."""
        if key not in self.models:
            raise ConfigError(f"{self.folder / FILE}: no model {key!r} in 'models'")
        ref = self.models[key]
        if "path" in ref:
            return str((self.folder / ref["path"]).resolve())
        return resolve_model(ref["name"])

    def scorer_names(self) -> list[str]:
        return [s.name for s in self.scorers]

    def scorer_options(self, device: str | None = None) -> dict[str, dict[str, Any]]:
        """Constructor options per scorer, models resolved; ``device`` goes to every scorer that
        takes one."""
        out: dict[str, dict[str, Any]] = {}
        for s in self.scorers:
            options = dict(s.options)
            if s.model is not None:
                options["model"] = self.model_path(s.model)
            if device is not None and takes(s.name, "device"):
                options["device"] = device
            out[s.name] = options
        return out

    def reader_path(self) -> str:
        """The extractive QA model of the extractor (``answer`` and ``explain`` read with it)."""
        if not self.reader:
            raise ConfigError(f"{self.folder / FILE}: this extractor names no reader "
                              "('reader': a key of 'models')")
        return self.model_path(self.reader)

    def fusion_model(self) -> LearnedFusion | None:
        """The learned fusion (None for weighted fusion)."""
        if self.fusion.get("method") != "learned":
            return None
        return LearnedFusion.load(self.folder / self.fusion["file"])


def save_spec(spec: ExtractorSpec, folder: str | Path) -> Path:
    """Write ``folder/extractor.json``; models given by ``path`` (relative to ``folder``) get
    their content hash, a learned fusion file its sha256 (what :func:`load_spec` checks)."""
    folder = Path(folder)
    models = {}
    for key, ref in spec.models.items():
        ref = dict(ref)
        if "path" in ref:
            target = folder / ref["path"]
            if not target.exists():
                raise ConfigError(f"{folder / FILE}: model {key!r} at {target} does not exist")
            ref["sha256"] = content_hash(str(target))
        elif "sha256" not in ref and Path(resolve_model(ref["name"])).exists():
            ref["sha256"] = content_hash(resolve_model(ref["name"]))  # a local model by name
        models[key] = ref
    fusion = _hashed(spec.fusion, folder)
    profiles = {n: {**p, "fusion": _hashed(p["fusion"], folder)} for n, p in spec.profiles.items()}
    payload = {"format": FORMAT, "segmenter": spec.segmenter, "models": models,
               "scorers": [{"name": s.name, **({"model": s.model} if s.model else {}),
                            **({"options": s.options} if s.options else {})}
                           for s in spec.scorers],
               "fusion": fusion, "reader": spec.reader, "info": spec.info,
               **({"cascade": spec.cascade} if spec.cascade else {}),
               **({"profiles": profiles} if profiles else {})}
    write_json(payload, folder / FILE)
    return folder / FILE


def _hashed(fusion: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A fusion entry with the sha256 of its learned-fusion file (what :func:`verify` checks)."""
    out = dict(fusion)
    if out.get("method") == "learned":
        out["sha256"] = sha256_file(folder / out["file"])
    return out


def origin_of(where: str | Path, spec: ExtractorSpec, profile: str | None) -> dict[str, Any]:
    """What a manifest says of the extractor a run used: its name (a shipped one's) or folder,
    the sha256 of the file it was read from (its ``extractor.json``, or a hand-written one of
    another name: every model's content hash is in it) and the profile."""
    shipped = {p.resolve(): n for n, p in shipped_extractors().items()}
    name = shipped.get(spec.folder.resolve(), str(where))
    path = resolve_extractor(where)
    file = path if path.is_file() else spec.folder / FILE
    return {"name": name, "sha256": sha256_file(file), "profile": profile}


def load_spec(where: str | Path, check: bool = True) -> ExtractorSpec:
    """An extractor folder (or its ``extractor.json``); with ``check``, every hashed model and
    the fusion file must be what was written, else :class:`ConfigError` naming it."""
    path = resolve_extractor(where)
    file = path / FILE if path.is_dir() else path
    if not file.is_file():
        have = ", ".join(shipped_extractors()) or "none"
        raise ConfigError(f"{where}: no {FILE} (train one with 'ids-extract train-extractor'; "
                          f"shipped: {have})")
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError(f"format is {raw.get('format')!r}, not {FORMAT!r}")
        scorers = [ScorerSpec(s["name"], s.get("model"), dict(s.get("options", {})))
                   for s in raw["scorers"]]
        spec = ExtractorSpec(scorers, dict(raw.get("models", {})),
                             dict(raw.get("fusion", {"method": "weighted"})),
                             raw.get("segmenter", defaults.SEGMENTER), raw.get("reader"),
                             dict(raw.get("info", {})), file.parent, raw.get("cascade"),
                             dict(raw.get("profiles", {})))
        Cascade.from_config(spec.cascade)  # a malformed cascade is refused here
        for name, chosen in spec.profiles.items():
            Cascade.from_config(chosen.get("cascade"))
            unknown = set(chosen["scorers"]) - set(spec.scorer_names())
            if unknown or chosen["fusion"].get("method") not in ("learned", "weighted"):
                raise ValueError(f"profile {name!r} names scorers {sorted(unknown)} that are not "
                                 "the extractor's, or an unknown fusion")
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ConfigError(f"{file}: not an extractor file ({err})") from None
    for s in spec.scorers:
        scorer_class(s.name)  # an unknown scorer is refused here, by name
        if s.model is not None and s.model not in spec.models:
            raise ConfigError(f"{file}: scorer {s.name!r} names model {s.model!r}, which is "
                              "not in 'models'")
    if check:
        verify(spec)
    return spec


def verify(spec: ExtractorSpec) -> None:
    """Every model the spec's scorers (or its reader) read that has a recorded hash, and the
    fusion file, are still what was written. A model only other profiles read is not checked
    for a profile (``spec.profile(name)``): the shipped extractor's ``fast`` profile must not be
    refused because the installed MiniLM that its sbert signal names differs."""
    file = spec.folder / FILE
    used = {s.model for s in spec.scorers} | {spec.reader}
    for key, ref in spec.models.items():
        if "sha256" not in ref or ref["sha256"] == "hub" or key not in used:
            continue
        where = Path(spec.model_path(key))
        if not where.exists() and "path" not in ref:
            continue  # a model by name that is not installed here: the hub's download
        if not where.exists():
            raise ConfigError(f"{file}: model {key!r} is missing ({where})")
        if content_hash(str(where)) != ref["sha256"]:
            raise ConfigError(f"{file}: model {key!r} ({where}) changed since the extractor was "
                              "written (content hash differs); train it again, or restore it")
    for fusion in [spec.fusion, *(p["fusion"] for p in spec.profiles.values())]:
        if fusion.get("method") != "learned":
            continue
        fusion_file = spec.folder / fusion.get("file", "")
        if not fusion_file.is_file():
            raise ConfigError(f"{file}: fusion file {fusion_file} is missing")
        recorded = fusion.get("sha256")
        if recorded and sha256_file(fusion_file) != recorded:
            raise ConfigError(f"{file}: fusion file {fusion_file} changed since the extractor "
                              "was written (sha256 differs)")
