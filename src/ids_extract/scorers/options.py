"""Option defaults that several scorers and commands share, declared once, and the reading of
the options every command hands its scorers.

The IG step count was 50, 16 and 8 in five places (``extract``, ``extract-texts``, ``explain``,
``sanity-check``, ``train-extractor``, and the two IG scorers); every one of them reads
:data:`IG_STEPS` now.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .. import defaults
from ..errors import ConfigError

#: Integrated Gradients steps (Gauss-Legendre): 16 steps rank the sentences as 50 do (Spearman
#: 0.992 at 3.4x the speed; docs/benchmarks.md, "Integrated Gradients")
IG_STEPS = 16
DEFAULT_SCORERS, FAST_SCORERS = ",".join(defaults.SCORERS), ",".join(defaults.FAST_SCORERS)
DEFAULT_TASK = defaults.TASK


def task_scorers(task: str) -> list[str]:
    """The scorer names of ``task`` (``qa`` or ``text``); another task is a ConfigError."""
    from . import TASKS

    if task not in TASKS:
        raise ConfigError(f"`task` {task!r}: choose from {', '.join(TASKS)}")
    return list(TASKS[task])


def names_of(spec: str | Sequence[str]) -> list[str]:
    """``"bm25, sbert"`` (or a list) as ``["bm25", "sbert"]``."""
    parts = spec.split(",") if isinstance(spec, str) else spec
    return [p.strip() for p in parts if p.strip()]


def chosen_scorers(scorers: str | Sequence[str] | None, fast: bool = False) -> list[str]:
    """The scorers asked for: ``scorers``, or the ``fast`` profile, or the default; both given
    is an error (the profile would silently replace the list)."""
    if fast and scorers is not None:
        raise ConfigError(f"`fast` sets the scorers ({FAST_SCORERS}): leave out `scorers`")
    return names_of(FAST_SCORERS if fast else scorers or DEFAULT_SCORERS)


def parse_scorer_options(specs: Sequence[str] | None, names: Sequence[str]
                         ) -> dict[str, dict[str, Any]]:
    """``["ig.n_steps=8"]`` as ``{"ig": {"n_steps": 8}}`` (so a new scorer's options
    reach it without a flag of its own; a JSON value, else text); the scorer must be among
    ``names``."""
    out: dict[str, dict[str, Any]] = {}
    for spec in specs or []:
        key, sep, text = spec.partition("=")
        name, dot, option = key.partition(".")
        if not sep or not dot or not option:
            raise ConfigError(f"`scorer_option` {spec!r}: expected SCORER.OPTION=VALUE")
        if name not in names:
            raise ConfigError(f"`scorer_option` {spec!r}: {name!r} is not among the scorers "
                              f"({', '.join(names)})")
        out.setdefault(name, {})[option] = json_or_text(text)
    return out


def json_or_text(text: str) -> Any:
    """A ``NAME=VALUE`` setting's value: JSON (numbers, true, null, lists) where it parses, else
    the text itself (so ``pysbd`` needs no quotes)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def merged(base: Mapping[str, Mapping[str, Any]], extra: Mapping[str, Mapping[str, Any]]
           ) -> dict[str, dict[str, Any]]:
    """Per scorer, the command's options with the ``scorer_option`` ones over them."""
    return {n: {**base.get(n, {}), **extra.get(n, {})} for n in {*base, *extra}}
