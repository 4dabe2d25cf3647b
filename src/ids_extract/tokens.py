"""Token counting with a named Hugging Face tokenizer (for ``tokens:L`` levels and compression)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from .models import resolve_model


@lru_cache(maxsize=8)
def load_tokenizer(name: str | None = None) -> Any:
    """A fast tokenizer by name or folder; ``None`` is the default model's (bert-base-uncased
    vocabulary, resolved offline)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model(name))


def count_tokens(texts: Sequence[str], tokenizer: Any, batch_size: int = 4096) -> np.ndarray:
    """Number of tokens of each text, without special tokens."""
    counts = np.zeros(len(texts), dtype=np.int64)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        encoded = tokenizer(chunk, add_special_tokens=False, return_attention_mask=False,
                            return_token_type_ids=False, verbose=False)["input_ids"]
        counts[start : start + len(chunk)] = [len(ids) for ids in encoded]
    return counts


def pair_overhead(tokenizer: Any) -> int:
    """Special tokens a (question, context) pair adds: 3 for BERT ([CLS] q [SEP] c [SEP])."""
    return int(tokenizer.num_special_tokens_to_add(pair=True))
