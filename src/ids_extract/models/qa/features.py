"""Reader features, as transformers' ``run_qa.py`` makes them (it is an example, not importable).

``question + context`` is tokenised with offsets up to ``max_seq_length``; a context that does not
fit is cut into overlapping windows (``mode="window"``, ``doc_stride`` tokens of overlap) or simply
cut off (``mode="truncate"``, the plain-truncation baseline). Long questions are cut to
``max_question_tokens`` so a short ``max_seq_length`` still leaves room for context. Training
labels are the token positions of the first gold answer, or the ``[CLS]`` token when the window
does not hold the whole answer (or the question has none, SQuAD v2.0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ...errors import ConfigError
from ...progress import track
from ...squad.model import Answer, SquadDataset

Mode = Literal["window", "truncate"]
MODES: tuple[str, ...] = ("window", "truncate")


@dataclass
class ReaderConfig:
    """How questions and contexts become features, and how logits become answers."""

    max_seq_length: int = 384
    doc_stride: int | None = None  # overlap between windows; None: max_seq_length // 3
    mode: Mode = "window"
    max_question_tokens: int | None = None  # None: max_seq_length // 2
    max_answer_length: int = 30
    n_best: int = 20
    version2: bool = False  # may answer "" (learnt from SQuAD v2.0 training data)

    @property
    def stride(self) -> int:
        return self.doc_stride if self.doc_stride is not None else self.max_seq_length // 3

    @property
    def question_tokens(self) -> int:
        if self.max_question_tokens is not None:
            return self.max_question_tokens
        return self.max_seq_length // 2

    def check(self, special_tokens: int = 3) -> None:
        """Refuse a config that leaves the context too little room, or a stride a window cannot
        hold, before any tokenising (the tokenizer would fail later, less clearly)."""
        if self.mode not in ("window", "truncate"):
            raise ConfigError(f"mode {self.mode!r}: choose window or truncate")
        room = self.max_seq_length - special_tokens - self.question_tokens
        if room < 8:
            raise ConfigError(f"max_seq_length {self.max_seq_length} leaves {room} context tokens "
                              f"after a {self.question_tokens}-token question: too few")
        if self.mode == "window" and not 0 <= self.stride < room:
            raise ConfigError(f"doc_stride {self.stride} must be below the {room} context tokens "
                              f"a window holds at max_seq_length {self.max_seq_length}")


@dataclass
class Example:
    """One question with its context (what the reader sees) and gold answers (for labels)."""

    id: str
    question: str
    context: str
    answers: list[Answer] = field(default_factory=list)
    is_impossible: bool = False


def examples_of(dataset: SquadDataset) -> list[Example]:
    return [Example(qa.id, qa.question, p.context, list(qa.answers), qa.is_impossible)
            for _, p, qa in dataset.iter_qas()]


def _cut_questions(tokenizer: Any, questions: Sequence[str], limit: int) -> list[str]:
    """Strip leading white space (some SQuAD questions have lots) and cut to ``limit`` tokens."""
    stripped = [q.lstrip() for q in questions]
    enc = tokenizer(stripped, add_special_tokens=False, return_offsets_mapping=True,
                    return_attention_mask=False, return_token_type_ids=False)
    out = []
    for q, offsets in zip(stripped, enc["offset_mapping"], strict=True):
        out.append(q[: offsets[limit - 1][1]] if len(offsets) > limit else q)
    return out


def encode(tokenizer: Any, examples: Sequence[Example], cfg: ReaderConfig) -> Any:
    """Tokenise (question, context) pairs into features; ``overflow_to_sample_mapping`` says
    which example each feature comes from."""
    questions = _cut_questions(tokenizer, [e.question for e in examples], cfg.question_tokens)
    window = cfg.mode == "window"
    enc = tokenizer(questions, [e.context for e in examples], truncation="only_second",
                    max_length=cfg.max_seq_length, stride=cfg.stride if window else 0,
                    return_overflowing_tokens=window, return_offsets_mapping=True, padding=False)
    if not window:
        enc["overflow_to_sample_mapping"] = list(range(len(examples)))
    return enc


def _token_span(offsets: Sequence[tuple[int, int]], seq_ids: Sequence[int | None], start: int,
                end: int) -> tuple[int, int] | None:
    """Token indices of the character span ``[start, end)``, or None when the window does not
    hold it whole."""
    ctx = [i for i, s in enumerate(seq_ids) if s == 1]
    if not ctx or offsets[ctx[0]][0] > start or offsets[ctx[-1]][1] < end:
        return None
    first = next(i for i in ctx if offsets[i][1] > start)
    last = next(i for i in reversed(ctx) if offsets[i][0] < end)
    return first, last


def train_features(tokenizer: Any, examples: Sequence[Example], cfg: ReaderConfig,
                   chunk: int = 2000, quiet: bool = True) -> dict[str, list[Any]]:
    """Features with ``start_positions``/``end_positions`` (the [CLS] index when unanswerable)."""
    columns: dict[str, list[Any]] = {}
    for lo in track(range(0, len(examples), chunk), "tokenising",
                    math.ceil(len(examples) / chunk), quiet):
        part = examples[lo: lo + chunk]
        enc = encode(tokenizer, part, cfg)
        starts, ends = [], []
        for i, sample in enumerate(enc["overflow_to_sample_mapping"]):
            ex = part[sample]
            cls = enc["input_ids"][i].index(tokenizer.cls_token_id) if (
                tokenizer.cls_token_id in enc["input_ids"][i]) else 0
            span = None
            if ex.answers and not ex.is_impossible:
                a = ex.answers[0]
                span = _token_span(enc["offset_mapping"][i], enc.sequence_ids(i), a.answer_start,
                                   a.end)
            starts.append(span[0] if span else cls)
            ends.append(span[1] if span else cls)
        for key in ("input_ids", "attention_mask", "token_type_ids"):
            if key in enc:
                columns.setdefault(key, []).extend(enc[key])
        columns.setdefault("start_positions", []).extend(starts)
        columns.setdefault("end_positions", []).extend(ends)
    return columns


@dataclass
class EvalFeatures:
    """Model inputs, and per feature its example index and context-token offsets (None
    elsewhere), for decoding."""

    inputs: list[dict[str, list[int]]]
    example_index: list[int]
    offsets: list[list[tuple[int, int] | None]]


def eval_features(tokenizer: Any, examples: Sequence[Example], cfg: ReaderConfig) -> EvalFeatures:
    """Features to predict on, with the offsets decoding needs (None outside the context, so
    a span can never start in the question)."""
    enc = encode(tokenizer, examples, cfg)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    inputs, offsets = [], []
    for i in range(len(enc["input_ids"])):
        inputs.append({k: enc[k][i] for k in keys})
        seq_ids = enc.sequence_ids(i)
        offsets.append([tuple(o) if seq_ids[j] == 1 else None
                        for j, o in enumerate(enc["offset_mapping"][i])])
    return EvalFeatures(inputs, list(enc["overflow_to_sample_mapping"]), offsets)
