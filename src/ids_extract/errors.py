"""Errors that carry the place they come from, so a user can find the bad record at once.

A message names the library's parameters in backticks (```cascade_k` -1: give 0 or more``):
that is what a Python caller passed. The command line shows each as its own flag
(``cli/app.py``'s ``in_flags``): the library speaks parameters, the CLI speaks flags."""

from __future__ import annotations

import re
from collections.abc import Callable

#: a parameter named in a message: `name`
PARAM = re.compile(r"`([a-z][a-z0-9_]*)`")


def shown(message: str, flag_of: Callable[[str], str | None]) -> str:
    """``message`` with each `parameter` written as ``flag_of(parameter)`` (its flag on the
    command line), or as the bare name where that gives none."""
    return PARAM.sub(lambda m: flag_of(m.group(1)) or m.group(1), message)


class IdsExtractError(Exception):
    """Base class of every error this package raises on purpose (the CLI exits 2 on these)."""


class DataError(IdsExtractError):
    """Input data is malformed: the message names the file and the article/paragraph/question."""

    def __init__(self, path: str, where: str, problem: str) -> None:
        self.path, self.where, self.problem = path, where, problem
        location = f"{path}: {where}" if where else path
        super().__init__(f"{location}: {problem}")


class ConfigError(IdsExtractError):
    """A level, scorer or option given by the user cannot be understood."""


class ScorerError(IdsExtractError):
    """A scorer returned something the pipeline cannot use (wrong count or shape, NaN): the
    message names the scorer and the question."""


def check_limit(limit: int | None, what: str = "records") -> None:
    """``limit``: 1 or more (0 or less would make an empty run, and fail far away)."""
    if limit is not None and limit < 1:
        raise ConfigError(f"`limit` {limit}: give a number of {what} of 1 or more")
