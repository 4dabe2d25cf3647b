"""The ``reader`` signal: how much of an extractive QA reader's start/end probability falls on each
sentence (the authors logged it beside IG as the forward/backward scores).

Also home of what the ``ig`` scorer shares with it: cutting ``question + whole context`` into the
reader's windows with, for every token, the index of the sentence it belongs to. The tokenisation is
the reader's own (:mod:`ids_extract.models.qa.features`), so a scorer sees exactly the features the
reader was trained on; the model is loaded by :func:`ids_extract.models.qa.folder.load_qa_model`,
which refuses one whose QA head would be random.

Per window the start and end logits are soft-maxed over the window's tokens; a sentence's score is
``(start mass + end mass) / 2`` summed over its tokens. A context longer than one window is read in
overlapping windows, each normalised on its own: a sentence takes its best window (the reader's
decoding also keeps the best window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..models.hub import model_id
from ..models.qa.features import Example, ReaderConfig, eval_features
from ..models.qa.folder import QAModel, load_qa_model
from ..models.runtime import autocast, pick_precision, softmax
from .base import Scorer, ScoringBatch


@dataclass
class Windows:
    """Reader features of a batch: model inputs, the question each window serves, and per window
    the sentence index of each token (-1 outside the context)."""

    inputs: list[dict[str, list[int]]]
    question: list[int]
    sentence_of: list[np.ndarray]
    offsets: list[list[tuple[int, int] | None]]


def context_bounds(sentences: Sequence[str]) -> np.ndarray:
    """Character start of each sentence in ``"".join(sentences)`` (sentence spans tile their
    context, so the join is the context itself), plus its end."""
    return np.cumsum([0] + [len(s) for s in sentences])


def windows(qa: QAModel, batch: ScoringBatch, stride: int | None = None) -> Windows:
    """Encode every question with its whole context in overlapping windows of the model's
    length (one window when it fits)."""
    cfg = ReaderConfig(max_seq_length=qa.max_seq_length, doc_stride=stride)
    examples = [Example(str(q), batch.queries[q], "".join(batch.contexts[c]))
                for q, c in enumerate(batch.owner)]
    feats = eval_features(qa.tokenizer, examples, cfg)
    sentence_of = []
    for f, offs in enumerate(feats.offsets):
        bounds = context_bounds(batch.contexts[batch.owner[feats.example_index[f]]])
        sentence_of.append(np.array(
            [-1 if o is None or o[1] <= o[0] else
             int(np.searchsorted(bounds, o[0], side="right")) - 1 for o in offs], dtype=np.int64))
    return Windows(feats.inputs, list(feats.example_index), sentence_of, feats.offsets)


def pad(qa: QAModel, rows: Sequence[dict[str, list[int]]]) -> dict[str, Any]:
    """Pad a list of features into tensors on the model's device."""
    padded = qa.tokenizer.pad(list(rows), return_tensors="pt")
    return {k: v.to(qa.device) for k, v in padded.items()}


def logits(qa: QAModel, rows: Sequence[dict[str, list[int]]],
           precision: str = "fp32") -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits (padded, float32) of a list of features in one forward pass
    (matrix products in bf16/fp16 under ``precision``)."""
    import torch

    with torch.inference_mode(), autocast(qa.device, precision):
        out = qa.model(**pad(qa, rows))
    return out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()


def per_sentence(token_scores: np.ndarray, sentence_of: np.ndarray, n: int,
                 how: str = "sum") -> np.ndarray:
    """Aggregate token scores into ``n`` sentence scores (NaN where a sentence has no token)."""
    out = np.full(n, np.nan)
    for s in range(n):
        values = token_scores[: len(sentence_of)][sentence_of == s]
        if values.size:
            out[s] = (values.sum() if how == "sum" else values.max() if how == "max"
                      else values.mean())
    return out


def fill_missing(scores: np.ndarray) -> np.ndarray:
    """Sentences no window reached (cut off, or empty after tokenisation) rank last."""
    if np.isnan(scores).all():
        return np.zeros_like(scores)
    low = float(np.nanmin(scores))
    return np.where(np.isnan(scores), low - 1e-6, scores)


class ReaderScorer(Scorer):
    """Start/end probability mass of a trained reader per sentence (one forward pass)."""

    name = "reader"
    reads = {"model": "reader_model", "device": "device"}
    option_help = {"model": "extractive QA reader folder or name (required)",
                   "precision": "fp32, bf16 or auto"}
    items_per_call = 64
    runtime = frozenset({"device", "batch_size"})
    omitted_at = {"precision": "fp32"}  # the option came later: fp32 was the only one

    def __init__(self, model: str | None = None, device: str = "auto", batch_size: int = 32,
                 max_seq_length: int | None = None, stride: int | None = None,
                 precision: str = "fp32") -> None:
        self.qa = load_qa_model(model, device, max_seq_length)
        self.batch_size, self.stride = batch_size, stride
        self.precision = pick_precision(precision, self.qa.device)

    def recorded(self) -> dict[str, object]:
        return {"model": model_id(self.qa.path), "max_seq_length": self.qa.max_seq_length,
                "stride": self.stride, "precision": self.precision}

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """Start/end probability mass per sentence, each sentence taking its best window."""
        win = windows(self.qa, batch, self.stride)
        best = [np.full(len(batch.contexts[c]), np.nan) for c in batch.owner]
        for lo in range(0, len(win.inputs), self.batch_size):
            rows = win.inputs[lo: lo + self.batch_size]
            starts, ends = logits(self.qa, rows, self.precision)
            for i, row in enumerate(rows):
                f = lo + i
                n = len(row["input_ids"])
                mass = (softmax(starts[i, :n]) + softmax(ends[i, :n])) / 2
                q = win.question[f]
                scores = per_sentence(mass, win.sentence_of[f], len(best[q]))
                best[q] = np.fmax(best[q], scores)
        return [fill_missing(b) for b in best]
