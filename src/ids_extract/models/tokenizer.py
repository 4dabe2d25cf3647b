"""A tokenizer without transformers: the model folder's ``tokenizer.json`` run by the
``tokenizers`` library, which is what a transformers fast tokenizer runs inside.

Importing transformers (and with it torch) takes seconds; a budget needs only token counts,
offsets and the number of special tokens. :class:`RustTokenizer` offers exactly the part of a fast
tokenizer's interface that :mod:`ids_extract.select.budget` and :mod:`ids_extract.select.cut` use,
with the same counts and offsets (tests/test_compress_cli.py checks them against transformers on
dev-v1.1 contexts). A model without a ``tokenizer.json`` gets the transformers tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from .hub import load_tokenizer, resolve_model, transformer_folder
from .openai_tokens import is_tiktoken, load_tiktoken

TOKENIZER_FILE = "tokenizer.json"


class RustTokenizer:
    """The budget's view of a fast tokenizer: ``tokenizer(texts, add_special_tokens=...,
    return_offsets_mapping=...)``, ``num_special_tokens_to_add(pair)`` and ``backend_tokenizer``
    (truncation and padding off, as a budget counts whole texts)."""

    def __init__(self, backend: Any) -> None:
        backend.no_truncation()
        backend.no_padding()
        self.backend_tokenizer = backend

    @classmethod
    def from_file(cls, path: str | Path) -> RustTokenizer:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(path)))

    def __call__(self, text: str | Sequence[str], add_special_tokens: bool = True,
                 return_offsets_mapping: bool = False, **_: Any) -> dict[str, Any]:
        """``input_ids`` (and ``offset_mapping``) of one text or a list of them, as a fast
        tokenizer returns them; other keyword arguments (masks, verbosity) are not needed."""
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        encodings = self.backend_tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": [e.ids for e in encodings]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encodings]
        return {k: v[0] for k, v in out.items()} if single else out

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return int(self.backend_tokenizer.num_special_tokens_to_add(pair))


@lru_cache(maxsize=8)
def load_light_tokenizer(name: str | None = None) -> Any:
    """The tokenizer a budget names (``None``: the default model's), without importing
    transformers when the model folder has a ``tokenizer.json``; ``tiktoken:ENCODING`` an
    OpenAI encoding (:mod:`.openai_tokens`)."""
    if is_tiktoken(name):
        assert name is not None
        return load_tiktoken(name)
    folder = Path(transformer_folder(resolve_model(name)))
    if (folder / TOKENIZER_FILE).is_file():
        return RustTokenizer.from_file(folder / TOKENIZER_FILE)
    return load_tokenizer(name)
