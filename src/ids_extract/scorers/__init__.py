"""Relevance scorers behind one interface (:class:`Scorer`), built by name with :func:`build_scorer`.

Scorers are imported lazily so that, say, ``bm25`` alone never loads torch. Each task has its own
names: ``task="qa"`` (a question asked of a context) and ``task="text"`` (a text read alone, for
classification: ``ig`` there explains a classifier's class logit, not a reader's span).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any

from ..errors import ConfigError
from .base import Scorer, ScoringBatch

#: scorer name -> "module:Class" (relative to this package)
REGISTRY: dict[str, str] = {
    "bm25": "bm25:BM25Scorer",
    "sbert": "sbert:SBERTScorer",
    "dpr": "dpr:DPRScorer",
    "ig": "ig:IGScorer",
    "reader": "reader:ReaderScorer",
    "cross": "cross:CrossScorer",
    "static": "static:StaticScorer",
    # a second cross-encoder in one fusion (train-extractor's small one, read on the cascade's
    # top k): the same scorer class under its own name, so both have their own scores
    "cross-small": "cross:CrossScorer",
}
#: classification (no question): scorer name -> "module:Class"
TEXT_REGISTRY: dict[str, str] = {
    "ig": "cls_ig:ClassifierIGScorer",
    "alone": "cls_alone:SentenceAloneScorer",
    "label": "label:LabelScorer",
    "lead": "position:LeadScorer",
    "headtail": "position:HeadTailScorer",
}
TASKS = {"qa": REGISTRY, "text": TEXT_REGISTRY}


def scorer_class(name: str, task: str = "qa") -> Callable[..., Scorer]:
    """The class registered as ``name``; a class registered under another name than its own
    (``cross-small``) is handed out as a subclass that carries the registry name, so the
    scores, fusion weights and cache keys of the two never mix."""
    registry = TASKS[task]
    if name not in registry:
        raise ConfigError(f"unknown scorer {name!r} (choose from {', '.join(registry)})")
    module, attr = registry[name].split(":")
    cls = getattr(import_module(module if "." in module else f"{__name__}.{module}"), attr)
    return cls if cls.name == name else _named(cls, name)


@functools.cache
def _named(cls: type[Scorer], name: str) -> type[Scorer]:
    return type(f"{cls.__name__}[{name}]", (cls,), {"name": name, "__module__": cls.__module__})


def register(name: str, target: str, tasks: tuple[str, ...] = ("qa",)) -> None:
    """A registry line made at run time (a plugin's own scorer): ``target`` is
    ``"package.module:Class"``, or ``"module:Class"`` inside this package."""
    for task in tasks:
        TASKS[task][name] = target


def takes(name: str, option: str, task: str = "qa") -> bool:
    """Whether scorer ``name``'s constructor has the option ``option`` (so a shared setting such
    as ``device`` goes to exactly the scorers that use it)."""
    return option in inspect.signature(scorer_class(name, task)).parameters


def options_from(names: Sequence[str], values: Mapping[str, Any], task: str = "qa"
                 ) -> dict[str, dict[str, Any]]:
    """Per scorer in ``names``, the options it declares it reads (:attr:`Scorer.reads`) from a
    command's ``values``; a value that is None (a flag not given) is left to the scorer's own
    default."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        reads = scorer_class(name, task).reads  # type: ignore[attr-defined]
        out[name] = {option: values[key] for option, key in reads.items()
                     if values.get(key) is not None}
    return out


def describe(name: str, task: str = "qa") -> list[dict[str, Any]]:
    """Every constructor option of scorer ``name``: its default, its help and the command flag
    that sets it (a value whose name starts with ``_`` is worked out by the command, not a flag;
    ``scorer_option`` ``NAME.OPTION=VALUE`` sets any option)."""
    cls = scorer_class(name, task)
    helps, reads = cls.option_help, cls.reads  # type: ignore[attr-defined]
    out = []
    for option, param in inspect.signature(cls).parameters.items():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        default = None if param.default is inspect.Parameter.empty else param.default
        out.append({"option": option, "default": default, "help": helps.get(option, ""),
                    "flag": _flag(reads.get(option))})
    return out


def _flag(key: str | None) -> str | None:
    if key is None:
        return None
    return "(the command's)" if key.startswith("_") else "--" + key.replace("_", "-")


def build_scorer(name: str, task: str = "qa", **options: Any) -> Scorer:
    """``build_scorer("sbert", model="path/or/name", device="cpu")``; unknown options are an
    error; ``task="text"`` for the classification scorers."""
    cls = scorer_class(name, task)
    try:
        return cls(**options)
    except TypeError as err:
        raise ConfigError(f"scorer {name!r}: {err}") from None


__all__ = ["REGISTRY", "TEXT_REGISTRY", "Scorer", "ScoringBatch", "build_scorer", "register",
           "scorer_class", "takes"]
