"""Budgets in an OpenAI model's own tokens: ``tokens:L@tiktoken:o200k_base`` (or
``cl100k_base``) counts with that encoding through ``tiktoken``, for users whose prompt goes to
such a model; ``tiktoken:/path/to/file.tiktoken`` reads a BPE ranks file of one's own (with the
``cl100k_base`` split pattern).

:class:`TiktokenTokenizer` offers the part of a fast tokenizer's interface that
:mod:`ids_extract.select.budget` and :mod:`ids_extract.select.cut` use: token ids, character
offsets, and no special tokens (an OpenAI prompt adds none around the text). Written by hand
because tiktoken has no such adapter; ``Encoding.decode_with_offsets`` gives the character offsets.

A named encoding must be installed (``pip install tiktoken``) and in tiktoken's cache (it is
downloaded on first use where there is internet); otherwise the budget is refused with a
:class:`~ids_extract.errors.ConfigError` before any work.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError

PREFIX = "tiktoken:"
#: cl100k_base's pre-tokenisation pattern (tiktoken_ext.openai_public), for a ranks file
PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++"""
           r"""[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""")


def is_tiktoken(name: str | None) -> bool:
    return bool(name) and str(name).startswith(PREFIX)


class TiktokenTokenizer:
    """A tiktoken ``Encoding`` seen as a budget's tokenizer (see the module doc)."""

    def __init__(self, encoding: Any) -> None:
        self.encoding = encoding

    def __call__(self, text: str | Sequence[str], add_special_tokens: bool = True,
                 return_offsets_mapping: bool = False, **_: Any) -> dict[str, Any]:
        """``input_ids`` (and ``offset_mapping``: each token's character span) of one text or a
        list of them; there are no special tokens to add."""
        single = isinstance(text, str)
        texts: list[str] = [text] if isinstance(text, str) else list(text)
        ids = self.encoding.encode_ordinary_batch(texts)
        out: dict[str, Any] = {"input_ids": ids}
        if return_offsets_mapping:
            out["offset_mapping"] = [self._offsets(t, i) for t, i in zip(texts, ids, strict=True)]
        return {k: v[0] for k, v in out.items()} if single else out

    def _offsets(self, text: str, ids: list[int]) -> list[tuple[int, int]]:
        """Character spans of the tokens: each starts where ``decode_with_offsets`` puts it and
        ends where the next one starts (a token that holds part of a character shares it)."""
        decoded, starts = self.encoding.decode_with_offsets(ids)
        if decoded != text:  # lone surrogates do not survive a round trip
            raise ConfigError("a text that does not encode to UTF-8 cannot be counted in "
                              "tiktoken tokens")
        ends = [*starts[1:], len(text)]
        return [(s, max(s, e)) for s, e in zip(starts, ends, strict=True)]

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 0


@lru_cache(maxsize=8)
def load_tiktoken(name: str) -> TiktokenTokenizer:
    """``tiktoken:ENCODING`` or ``tiktoken:/path/to/ranks.tiktoken`` (see the module doc)."""
    what = name[len(PREFIX):]
    try:
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe
    except ImportError:
        raise ConfigError(f"tokenizer {name!r} needs tiktoken: pip install tiktoken") from None
    if Path(what).is_file():
        ranks = load_tiktoken_bpe(what)
        return TiktokenTokenizer(tiktoken.Encoding(Path(what).stem, pat_str=PATTERN,
                                                   mergeable_ranks=ranks, special_tokens={}))
    try:
        return TiktokenTokenizer(tiktoken.get_encoding(what))
    except ValueError as err:
        raise ConfigError(f"tokenizer {name!r}: {err}") from None
    except Exception as err:  # tiktoken downloads an uncached encoding: no network here
        raise ConfigError(f"tokenizer {name!r}: the encoding is not in tiktoken's cache and "
                          f"cannot be downloaded ({type(err).__name__}); run once with internet, "
                          "or set TIKTOKEN_CACHE_DIR to a folder holding it") from None
