"""Relevance scorers behind one interface (:class:`Scorer`), built by name with :func:`build_scorer`.

Scorers are imported lazily so that, say, ``bm25`` alone never loads torch.
"""

from __future__ import annotations

from collections.abc import Callable
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
}


def scorer_class(name: str) -> Callable[..., Scorer]:
    if name not in REGISTRY:
        raise ConfigError(f"unknown scorer {name!r} (choose from {', '.join(REGISTRY)})")
    module, cls = REGISTRY[name].split(":")
    return getattr(import_module(f"{__name__}.{module}"), cls)


def build_scorer(name: str, **options: Any) -> Scorer:
    """``build_scorer("sbert", model="path/or/name", device="cpu")``; unknown options are an error."""
    cls = scorer_class(name)
    try:
        return cls(**options)
    except TypeError as err:
        raise ConfigError(f"scorer {name!r}: {err}") from None


__all__ = ["REGISTRY", "Scorer", "ScoringBatch", "build_scorer", "scorer_class"]
