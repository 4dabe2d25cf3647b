"""Token budgets of ``tokens:L`` levels: counting tokens with the level's tokenizer, the room each
item leaves for context units, and the check of the real joined text against it.

A ``tokens:L`` level is made for a model with ``max_seq_length = L``: the kept units, the query and
the tokenizer's special tokens must fit in L together. Unit token counts add up to the joined
text's count for BERT-style tokenizers but not always for others, so the joined text is counted
again and the lowest-ranked units are dropped until it fits (:func:`enforce`).

The tokenizer is any Hugging Face tokenizer object; which one a level names is resolved by the
caller (:func:`ids_extract.models.hub.load_tokenizer`), so this module never loads a model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from .levels import Level
from .segment import Span


def count_tokens(texts: Sequence[str], tokenizer: Any, batch_size: int = 4096) -> np.ndarray:
    """Number of tokens of each text, without special tokens.

    A fast tokenizer's Rust backend counts directly (``encode_batch_fast``, no offsets), on a
    private copy with truncation and padding off (a saved ``tokenizer.json`` may carry them):
    the transformers wrapper spends more time turning each encoding into Python lists than the
    backend spends tokenising. Slow tokenizers go through the wrapper."""
    counts = np.zeros(len(texts), dtype=np.int64)
    backend = _plain_backend(tokenizer)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        if backend is not None:
            lengths = [len(e) for e in backend.encode_batch_fast(chunk, add_special_tokens=False)]
        else:
            lengths = [len(ids) for ids in tokenizer(
                chunk, add_special_tokens=False, return_attention_mask=False,
                return_token_type_ids=False, verbose=False)["input_ids"]]
        counts[start : start + len(chunk)] = lengths
    return counts


_PLAIN: dict[int, Any] = {}


def _plain_backend(tokenizer: Any) -> Any:
    """A copy of the tokenizer's Rust backend with no truncation or padding (None for a slow
    tokenizer); made once per tokenizer object."""
    key = id(tokenizer)
    if key not in _PLAIN:
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None or not hasattr(backend, "encode_batch_fast"):
            _PLAIN[key] = None
        else:
            from tokenizers import Tokenizer

            plain = Tokenizer.from_str(backend.to_str())
            plain.no_truncation()
            plain.no_padding()
            _PLAIN[key] = (tokenizer, plain)  # the tokenizer is held so its id stays unique
    found = _PLAIN[key]
    return found[1] if found is not None else None


def pair_overhead(tokenizer: Any, pair: bool = True) -> int:
    """Special tokens a (query, context) pair adds: 3 for BERT ([CLS] q [SEP] c [SEP]); 2 for a
    single text ([CLS] t [SEP])."""
    return int(tokenizer.num_special_tokens_to_add(pair=pair))


def unit_lengths(texts: Sequence[str], spans: Sequence[Sequence[Span]],
                 tokenizer: Any) -> list[np.ndarray]:
    """Per document, the token count of each of its units (one batched tokenizer pass)."""
    flat = count_tokens([t[s:e] for t, sp in zip(texts, spans, strict=True) for s, e in sp],
                        tokenizer)
    bounds = np.cumsum([0] + [len(s) for s in spans])
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def rooms(max_seq_length: int, queries: Sequence[str] | None, tokenizer: Any,
          items: int | None = None) -> list[int]:
    """Per item, the tokens left for context units once its query and the special tokens are
    in (negative when the query alone does not fit). ``queries=None``: the items are texts read
    alone (a classifier's ``[CLS] text [SEP]``), ``items`` of them."""
    if queries is None:
        return [max_seq_length - pair_overhead(tokenizer, pair=False)] * int(items or 0)
    room = max_seq_length - pair_overhead(tokenizer)
    return [int(room - n) for n in count_tokens(list(queries), tokenizer)]


def ratio_room(share: float, whole: int) -> int:
    """The tokens a ``max-ratio:R`` budget leaves of a text of ``whole`` tokens: R of them,
    rounded down (at most R)."""
    return math.floor(share * whole)


def check_room(level: Level, queries: Sequence[str], tokenizer: Any, *,
               ids: Sequence[str] | None = None, texts: Sequence[str] | None = None) -> None:
    """The one room check: a level that leaves no room for any text is a :class:`ConfigError`
    before any work (an empty output would look like an answer). ``tokens:L``: after each query
    (``ids`` name them) and the special tokens; ``max-ratio:R``: of each text's own tokens
    (``texts``, when known); other levels always keep something."""
    if level.kind == "tokens" and queries:
        room = rooms(int(level.value), list(queries), tokenizer)
        worst = int(np.argmin(room))
        if room[worst] < 1:
            who = f"question id {ids[worst]}" if ids is not None else "the question"
            need = int(level.value) - room[worst] + 1
            raise ConfigError(f"level {level}: {who} ({queries[worst][:60]!r}) with the special "
                              f"tokens takes {need - 1} of the {int(level.value)} tokens, leaving "
                              f"no room for text; give a larger L: tokens:{need} or more")
    elif level.kind == "max-ratio" and texts:
        whole = count_tokens(list(texts), tokenizer)
        worst = int(np.argmin(whole))
        if ratio_room(level.value, int(whole[worst])) < 1:
            raise ConfigError(f"level {level}: {level.value} of this text's {int(whole[worst])} "
                              "tokens is less than one token, leaving no room for text; give a "
                              "larger R")


def enforce(kept: list[list[int]], orders: Sequence[np.ndarray], budgets: Sequence[int],
            joined: Callable[[int, list[int]], str], tokenizer: Any,
            protected: Callable[[int], set[int]]) -> tuple[list[list[int]], list[int]]:
    """Count the real joined text of every item and, where it is over its budget, drop the
    lowest-ranked units (never those in ``protected(item)``, never the last one) until it fits.

    ``joined(item, kept units)`` gives the text the item's kept units make. Returns the kept
    units and the items still over budget (one unit, or only protected ones, too long: those
    are cut by :func:`ids_extract.select.cut.cut_span`)."""
    actual = count_tokens([joined(q, k) for q, k in enumerate(kept)], tokenizer)
    out = list(kept)
    over = []
    for q, budget in enumerate(budgets):
        if int(actual[q]) <= budget:
            continue
        keep = list(out[q])
        safe = protected(q)
        fits = False
        for i in orders[q][::-1]:
            if int(i) in keep and int(i) not in safe and len(keep) > 1:
                keep.remove(int(i))
                if count_tokens([joined(q, keep)], tokenizer)[0] <= budget:
                    fits = True
                    break
        out[q] = keep
        if not fits:
            over.append(q)
    return out, over
