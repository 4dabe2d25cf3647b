"""Selection levels: from ranked sentences to the kept set, and answer remapping.

A level is one selection rule; a ladder of levels gives D1 (mild) … Dn (strong compression):

- ``ratio:r``      best sentences until at least ``r`` of the context's tokens are kept;
- ``max-ratio:r``  the best sentences that fit in at most ``r`` of the context's tokens (a token
  budget, as ``tokens:L`` is: ``compress``'s ratio; the whole text counted as written);
- ``top-k:k``      the ``k`` best sentences;
- ``tokens:L[@tokenizer]``  the best sentences that fit, with the question and the special tokens,
  into ``max_seq_length = L`` of that tokenizer (greedy by rank; a sentence that does not fit is
  skipped and smaller, lower-ranked ones may still fill the room);
- ``threshold:t``  sentences whose min-max normalised fused score is ``>= t``.

Every rule keeps at least the best sentence, and kept sentences stay in their original order.
Token counts and budgets for ``tokens:L`` come from :mod:`.budget`; joining the kept sentences and
moving answer offsets, from :mod:`.join`; the whole selection step (budgets enforced, units
cut) is :mod:`.step`'s.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

KINDS = ("ratio", "max-ratio", "top-k", "tokens", "threshold")
#: the smallest tokens:L that can hold a short question, the special tokens and some context
MIN_TOKENS = 8


@dataclass(frozen=True)
class Level:
    kind: str
    value: float
    tokenizer: str | None = None

    @property
    def name(self) -> str:
        value = int(self.value) if self.kind in ("top-k", "tokens") else self.value
        return f"{self.kind}{value}"

    def __str__(self) -> str:
        value = int(self.value) if self.kind in ("top-k", "tokens") else self.value
        suffix = f"@{self.tokenizer}" if self.tokenizer else ""
        return f"{self.kind}:{value}{suffix}"


def parse_level(spec: str) -> Level:
    """``"tokens:128@bert-base-uncased"`` -> ``Level("tokens", 128, "bert-base-uncased")``."""
    kind, sep, rest = spec.strip().partition(":")
    if not sep or kind not in KINDS:
        raise ConfigError(f"level {spec!r}: expected KIND:VALUE with KIND in {', '.join(KINDS)}")
    value_text, _, tokenizer = rest.partition("@")
    try:
        value = float(value_text)
    except ValueError:
        raise ConfigError(f"level {spec!r}: {value_text!r} is not a number") from None
    if kind in ("ratio", "max-ratio") and not 0 < value <= 1:
        raise ConfigError(f"level {spec!r}: {kind} must be in (0, 1]")
    if kind in ("top-k", "tokens") and (value < 1 or value != int(value)):
        raise ConfigError(f"level {spec!r}: {kind} needs a positive whole number")
    if kind == "tokens" and value < MIN_TOKENS:
        raise ConfigError(f"level {spec!r}: {int(value)} tokens cannot hold a question, the "
                          f"special tokens and any context; use tokens:{MIN_TOKENS} or more")
    if kind == "threshold" and not 0 <= value <= 1:
        raise ConfigError(f"level {spec!r}: threshold must be in [0, 1]")
    if tokenizer and kind != "tokens":
        raise ConfigError(f"level {spec!r}: only tokens:L takes @tokenizer")
    return Level(kind, value, tokenizer or None)


def parse_budget(spec: str) -> Level:
    """A budget, as ``compress`` takes one: ``tokens:L[@tokenizer]``, ``max-ratio:R`` or
    ``ratio:R`` (at least R, as everywhere: a :class:`FutureWarning` says, for one release, that
    compress read it as at most R before and spells that ``max-ratio:R`` now). Anything else is
    a :class:`ConfigError`."""
    level = parse_level(spec)
    if level.kind == "ratio":
        warnings.warn(f"budget {spec!r} keeps at least {level.value} of the text, as ratio:R does "
                      f"everywhere; compress read it as at most {level.value} before this "
                      f"release: for that, give max-ratio:{level.value}", FutureWarning,
                      stacklevel=1)
    if level.kind not in ("tokens", "max-ratio", "ratio"):
        raise ConfigError(f"budget {spec!r}: give tokens:L[@tokenizer], max-ratio:R or ratio:R")
    return level


def parse_levels(spec: str | Sequence[str]) -> list[Level]:
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    levels = [parse_level(p) for p in parts if p.strip()]
    if not levels:
        raise ConfigError("no levels given")
    if len({lv.name for lv in levels}) != len(levels):
        raise ConfigError(f"levels {spec!r}: a level is given twice")
    return levels


def pick(
    level: Level,
    scores: np.ndarray,
    order: np.ndarray,
    lengths: np.ndarray,
    budget: int | None = None,
) -> list[int]:
    """Indices of the kept sentences, in original order.

    ``order`` is the ranking (best first), ``lengths`` the token count of each sentence, and
    ``budget`` the room left for context tokens (``tokens`` levels only).
    """
    if level.kind == "top-k":
        kept = order[: int(level.value)].tolist()
    elif level.kind == "ratio":
        need = level.value * float(lengths.sum())
        cumulative = np.cumsum(lengths[order])
        count = int(np.searchsorted(cumulative, need - 1e-9)) + 1
        kept = order[:count].tolist()
    elif level.kind == "tokens":
        kept = fit(order, lengths, budget if budget is not None else int(level.value))
    elif level.kind == "max-ratio":  # the selection step gives the room (the text's own count)
        kept = fit(order, lengths, budget if budget is not None
                   else int(level.value * float(lengths.sum())))
    elif level.kind == "threshold":
        lo, hi = float(scores.min()), float(scores.max())
        norm = (scores - lo) / (hi - lo) if hi > lo else np.ones_like(scores)
        kept = [int(i) for i in order if norm[i] >= level.value] or [int(order[0])]
    else:  # parse_level guards this
        raise ConfigError(f"unknown level kind {level.kind!r}")
    return sorted(int(i) for i in kept)


def fit(order: np.ndarray, lengths: np.ndarray, budget: int) -> list[int]:
    """The best unit, then every next-best one that still fits ``budget`` tokens (a unit that
    does not fit is skipped, so smaller lower-ranked ones may fill the room); rank order."""
    kept = [int(order[0])]
    used = int(lengths[order[0]])
    for i in order[1:]:
        if used + lengths[i] <= budget:
            kept.append(int(i))
            used += int(lengths[i])
    return kept


def add_gold(
    kept: list[int],
    gold: Sequence[int],
    order: np.ndarray,
    lengths: np.ndarray,
    budget: int | None,
) -> list[int]:
    """``keep-gold``: put the answer's sentences back; under a token budget, drop the
    lowest-ranked other sentences until it fits again (the gold ones always stay)."""
    chosen = set(kept) | set(gold)
    if budget is not None:
        for i in order[::-1]:
            if sum(int(lengths[j]) for j in chosen) <= budget:
                break
            if int(i) in chosen and int(i) not in gold:
                chosen.discard(int(i))
    return sorted(chosen)
