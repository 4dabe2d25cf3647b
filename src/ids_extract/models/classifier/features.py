"""What a text classifier reads of a text: its head, its head and tail, or all of it in windows.

- ``head``: the first ``max_seq_length`` tokens (special tokens included), the usual truncation;
- ``headtail``: the first ``head_ratio`` of the room and the last tokens (Sun et al. 2019, "How
  to fine-tune BERT for text classification": 128 head + 382 tail tokens of 510 was their best,
  hence the default ratio 0.25);
- ``windows``: overlapping windows of ``max_seq_length`` over the whole text (``overlap`` tokens
  shared by neighbours, default ``max_seq_length // 3`` as the QA reader's stride); a prediction
  averages the windows' logits.

The tokenizer's own truncation and overflow do ``head`` and ``windows``; ``headtail`` cuts the
full tokenisation, keeping the tokenizer's special tokens at both ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import ConfigError

MODES: tuple[str, ...] = ("head", "headtail", "windows")
KEYS = ("input_ids", "attention_mask", "token_type_ids", "offset_mapping")


@dataclass
class ClassifierConfig:
    """How the classifier reads a text (saved with it, used again at prediction)."""

    max_seq_length: int = 128
    mode: str = "head"
    head_ratio: float = 0.25
    overlap: int | None = None
    init_layers: int | None = None

    def check(self, specials: int = 2) -> ClassifierConfig:
        """A :class:`ConfigError` for settings that cannot work (before any model is loaded)."""
        if self.mode not in MODES:
            raise ConfigError(f"mode {self.mode!r}: choose from {', '.join(MODES)}")
        if self.max_seq_length < specials + 2:
            raise ConfigError(f"max_seq_length {self.max_seq_length} leaves no room for text")
        if not 0 <= self.head_ratio <= 1:
            raise ConfigError(f"head_ratio {self.head_ratio}: must be in [0, 1]")
        if self.overlap is not None and not 0 <= self.overlap < self.max_seq_length - specials:
            raise ConfigError(f"overlap {self.overlap}: must be >= 0 and below the window's room")
        return self

    @property
    def window_overlap(self) -> int:
        return self.max_seq_length // 3 if self.overlap is None else self.overlap


@dataclass
class Encoded:
    """Model inputs (one dict per feature), the text each feature reads, and, when asked for,
    each token's character span in its text (None for special tokens)."""

    inputs: list[dict[str, list[int]]]
    text_index: list[int]
    offsets: list[list[tuple[int, int] | None]] = field(default_factory=list)


def encode(tokenizer: Any, texts: Sequence[str], cfg: ClassifierConfig, mode: str | None = None,
           offsets: bool = False) -> Encoded:
    """Features of ``texts`` in ``mode`` (default: the config's)."""
    mode = mode or cfg.mode
    if mode not in MODES:
        raise ConfigError(f"mode {mode!r}: choose from {', '.join(MODES)}")
    texts = list(texts)
    if not texts:
        return Encoded([], [])
    common = {"return_offsets_mapping": offsets, "return_special_tokens_mask": offsets,
              "verbose": False}
    if mode == "headtail":
        enc = tokenizer(texts, truncation=False, **common)
        specials = _specials(tokenizer)
        rows = [_head_tail(_row(enc, i), cfg, specials) for i in range(len(texts))]
        index = list(range(len(texts)))
    else:
        windows = {"stride": cfg.window_overlap, "return_overflowing_tokens": True}
        enc = tokenizer(texts, truncation=True, max_length=cfg.max_seq_length,
                        **(windows if mode == "windows" else {}), **common)
        rows = [_row(enc, i) for i in range(len(enc["input_ids"]))]
        index = (list(enc["overflow_to_sample_mapping"]) if mode == "windows"
                 else list(range(len(texts))))
    spans = [_spans(r) for r in rows] if offsets else []
    inputs = [{k: v for k, v in r.items() if k in KEYS[:3]} for r in rows]
    return Encoded(inputs, [int(i) for i in index], spans)


def _row(enc: Any, i: int) -> dict[str, list[Any]]:
    return {k: list(enc[k][i]) for k in (*KEYS, "special_tokens_mask") if k in enc}


def _specials(tokenizer: Any) -> tuple[int, int]:
    """How many special tokens the tokenizer puts before and after a single text."""
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    before = next(i for i in range(len(full)) if full[i: i + len(bare)] == bare)
    return before, len(full) - before - len(bare)


def _head_tail(row: dict[str, list[Any]], cfg: ClassifierConfig,
               specials: tuple[int, int]) -> dict[str, list[Any]]:
    """Keep the head and the tail of a full tokenisation (special tokens at both ends stay)."""
    n = len(row["input_ids"])
    if n <= cfg.max_seq_length:
        return row
    before, after = specials
    room = cfg.max_seq_length - before - after
    head = round(room * cfg.head_ratio)
    tail = room - head
    keep = list(range(before + head)) + list(range(n - after - tail, n))
    return {k: [v[i] for i in keep] for k, v in row.items()}


def _spans(row: dict[str, list[Any]]) -> list[tuple[int, int] | None]:
    special = row.get("special_tokens_mask") or [0] * len(row["offset_mapping"])
    return [None if s or e <= b else (int(b), int(e))
            for (b, e), s in zip(row["offset_mapping"], special, strict=True)]
