"""IG(q, p): Integrated Gradients attributions of an extractive QA reader, per sentence.

As METHOD.md §1 fixes it (the authors' settings, kept as defaults):

- input ``[CLS] question [SEP] context [SEP]``, the **whole** context (in the reader's overlapping
  windows when it is longer than the model's limit), so sentence scores of one context compare;
- baseline: the same sequence with every non-special token replaced by ``[PAD]``; token-type and
  position ids are the input's (they are passed to the model for both, and captum's
  ``LayerIntegratedGradients`` on the embeddings layer interpolates only that layer's output);
- target: the start logit and the end logit at the span the model predicts in that window, as two
  attributions (``both``, summed after normalising), one (``start``/``end``) or their sum in one
  pass (``sum``);
- token score = attribution summed over the hidden dimension, divided by its L2 norm over the
  sequence; sentence score = mean (or ``sum``/``max``) over the sentence's context tokens; a
  sentence seen by several windows takes the mean of its windows.

Cost control (IG is by far the most expensive scorer): windows of several questions are
attributed in one captum call (``batch_size`` windows, ``internal_batch_size`` rows per forward);
``n_steps`` may be lowered; ``mode="gxi"`` is gradient × (input − baseline), i.e. IG with a single
right-Riemann step; ``cascade="bm25,sbert"`` computes IG only for questions whose cheap-scorer
fusion is unsure (the margin between its two best sentences below ``cascade_margin`` z-units) and
returns that fusion's scores for the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..models.hub import model_id
from ..models.qa.folder import load_qa_model
from ..models.runtime import ig_precision, softmax
from ..select import fusion
from .attribution import attribute, pad_baseline
from .base import Scorer, ScoringBatch
from .options import IG_STEPS
from .reader import fill_missing, logits, pad, per_sentence, windows

TARGETS = ("both", "start", "end", "sum")
AGGREGATIONS = ("mean", "sum", "max")
METHODS = ("gausslegendre", "riemann_right", "riemann_left", "riemann_middle", "riemann_trapezoid")
MODES = ("ig", "gxi")


@dataclass
class WindowAttribution:
    """Token-level result for one window: normalised token scores per target, the span targeted,
    captum's convergence delta per target, and the start/end probabilities."""

    token_scores: dict[str, np.ndarray]
    raw_sums: dict[str, float]
    span: tuple[int, int]
    delta: dict[str, float]
    start_prob: np.ndarray
    end_prob: np.ndarray

    def combined(self) -> np.ndarray:
        return np.sum(list(self.token_scores.values()), axis=0)


def best_span(start: np.ndarray, end: np.ndarray, context: np.ndarray,
              max_answer_length: int = 30) -> tuple[int, int]:
    """Token positions of the best valid span (start ≤ end, within the context, at most
    ``max_answer_length`` tokens): the model's prediction in this window. Written by hand because
    it is a dozen lines of numpy over one window (the reader's n-best works on characters)."""
    idx = np.flatnonzero(context)
    if idx.size == 0:
        return 0, 0
    s, e = start[idx], end[idx]
    pair = s[:, None] + e[None, :]
    gap = idx[None, :] - idx[:, None]
    pair[(gap < 0) | (gap >= max_answer_length)] = -np.inf
    a, b = np.unravel_index(int(np.argmax(pair)), pair.shape)
    return int(idx[a]), int(idx[b])


class IGScorer(Scorer):
    name = "ig"
    reads = {"model": "reader_model", "device": "device", "n_steps": "ig_steps", "mode": "ig_mode",
             "target": "ig_target", "cascade": "ig_cascade", "cascade_margin": "ig_margin"}
    option_help = {"model": "extractive QA reader folder or name (required)",
                   "n_steps": "integration steps", "mode": "ig, or gxi (one backward pass)",
                   "target": "start, end, both or sum logit",
                   "cascade": "scorers whose top units IG explains alone",
                   "precision": "fp32, bf16 or auto (bf16 where native)"}
    items_per_call = 8  # IG is slow: progress every few questions
    runtime = frozenset({"device", "batch_size", "internal_batch_size", "quiet"})

    def __init__(self, model: str | None = None, n_steps: int = IG_STEPS, method: str = "gausslegendre",
                 target: str = "both", aggregation: str = "mean", internal_batch_size: int = 64,
                 batch_size: int = 8, device: str = "auto", mode: str = "ig",
                 max_seq_length: int | None = None, stride: int | None = None,
                 cascade: str | Sequence[str] | None = None, cascade_margin: float = 0.5,
                 precision: str = "fp32", quiet: bool = True) -> None:
        for value, allowed, what in ((target, TARGETS, "target"), (aggregation, AGGREGATIONS,
                                     "aggregation"), (method, METHODS, "method"),
                                     (mode, MODES, "mode")):
            if value not in allowed:
                raise ConfigError(f"ig {what} {value!r}: choose from {', '.join(allowed)}")
        if n_steps < 2 and mode == "ig":
            raise ConfigError(f"ig: {n_steps} integration step is too few: IG needs 2 or more (the "
                              "one-step variant is gradient x input: `ig_mode` gxi, the ig scorer's "
                              "mode)")
        if n_steps < 1 or internal_batch_size < 1 or batch_size < 1:
            raise ConfigError("ig: n_steps, internal_batch_size and batch_size must be >= 1")
        self.qa = load_qa_model(model, device, max_seq_length)
        self.mode, self.target, self.aggregation = mode, target, aggregation
        self.n_steps, self.method = (1, "riemann_right") if mode == "gxi" else (n_steps, method)
        self.precision = ig_precision(precision, device)
        self.internal_batch_size, self.batch_size, self.stride = internal_batch_size, batch_size, stride
        names = cascade.split(",") if isinstance(cascade, str) else list(cascade or [])
        self.cascade_names = [n.strip() for n in names if n.strip()]
        self.cascade_margin = cascade_margin
        self.quiet = quiet
        self._cheap: list[Scorer] | None = None
        if self.cascade_names:  # loaded now, so that scoring time is scoring only
            from . import build_scorer

            self._cheap = [build_scorer(n) for n in self.cascade_names]
        self.last_ig_fraction = 1.0  # share of questions the last score() call ran IG on

    def recorded(self) -> dict[str, object]:
        return {"model": model_id(self.qa.path), "mode": self.mode,
                "n_steps": self.n_steps, "method": self.method, "target": self.target,
                "precision": self.precision,
                "aggregation": self.aggregation, "max_seq_length": self.qa.max_seq_length,
                "stride": self.stride, "cascade": self.cascade_names or None,
                "cascade_margin": self.cascade_margin if self.cascade_names else None}

    # ------------------------------------------------------------------ scoring

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        if not self.cascade_names:
            self.last_ig_fraction = 1.0
            return self._ig_scores(batch)
        return self._cascade(batch)

    def _cascade(self, batch: ScoringBatch) -> list[np.ndarray]:
        """IG only where the cheap scorers' fused top two sentences are within the margin."""
        cheap = [s.score(batch) for s in self._cheap or []]
        fused = [fusion.weighted({str(i): c[q] for i, c in enumerate(cheap)}, {})
                 for q in range(len(batch.queries))]
        unsure = [q for q, f in enumerate(fused) if f.size > 1 and
                  float(np.diff(np.sort(f)[-2:])[0]) < self.cascade_margin]
        self.last_ig_fraction = len(unsure) / max(len(batch.queries), 1)
        out = list(fused)
        if unsure:
            sub = ScoringBatch(batch.contexts, [batch.queries[q] for q in unsure],
                               [batch.owner[q] for q in unsure])
            for q, scores in zip(unsure, self._ig_scores(sub), strict=True):
                out[q] = scores
        return out

    def _ig_scores(self, batch: ScoringBatch) -> list[np.ndarray]:
        win = windows(self.qa, batch, self.stride)
        per_window = self.attribute_windows(win.inputs, [s >= 0 for s in win.sentence_of])
        found: list[list[np.ndarray]] = [[] for _ in batch.queries]
        for f, att in enumerate(per_window):
            q = win.question[f]
            n = len(batch.contexts[batch.owner[q]])
            found[q].append(per_sentence(att.combined(), win.sentence_of[f], n, self.aggregation))
        return [fill_missing(_nanmean(parts)) for parts in found]

    # ------------------------------------------------------------------ attributions

    def attribute_windows(self, rows: Sequence[dict[str, list[int]]],
                          context: Sequence[np.ndarray]) -> list[WindowAttribution]:
        """Attributions of every window (``context[i]`` marks window ``i``'s context tokens, where
        the predicted span may lie), ``batch_size`` windows (sorted by length, to pad little) per
        captum call."""
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]["input_ids"]))
        out: list[WindowAttribution | None] = [None] * len(rows)
        for lo in range(0, len(order), self.batch_size):
            chunk = order[lo: lo + self.batch_size]
            found = self._attribute([rows[i] for i in chunk], [context[i] for i in chunk])
            for i, att in zip(chunk, found, strict=True):
                out[i] = att
        return [a for a in out if a is not None]

    def _attribute(self, rows: Sequence[dict[str, list[int]]],
                   context: Sequence[np.ndarray]) -> list[WindowAttribution]:
        import torch

        enc = pad(self.qa, rows)
        ids = enc["input_ids"]
        starts, ends = logits(self.qa, rows)
        lengths = [len(r["input_ids"]) for r in rows]
        spans = [best_span(starts[i, :n], ends[i, :n], context[i][:n])
                 for i, n in enumerate(lengths)]
        positions = torch.tensor(spans, dtype=torch.long, device=ids.device)
        baseline = self._baseline(ids)
        targets = {"both": ["start", "end"], "sum": ["sum"]}.get(self.target, [self.target])
        weights_of = {"start": (1.0, 0.0), "end": (0.0, 1.0), "sum": (1.0, 1.0)}
        token_scores: dict[str, torch.Tensor] = {}
        raw: dict[str, torch.Tensor] = {}
        deltas: dict[str, torch.Tensor] = {}
        for name in targets:
            weights = torch.tensor([weights_of[name]] * len(rows), device=ids.device)
            extra = (enc.get("token_type_ids"), enc["attention_mask"], positions, weights)
            with torch.autocast("cpu" if ids.device.type == "cpu" else ids.device.type,
                                dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                attributions, delta = self._run(ids, baseline, extra)
            summed = attributions.sum(dim=-1).detach()
            raw[name] = summed.sum(dim=-1)
            token_scores[name] = summed / summed.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            deltas[name] = delta.detach()
        return [WindowAttribution(
            token_scores={k: v[i, :n].float().cpu().numpy() for k, v in token_scores.items()},
            raw_sums={k: float(v[i]) for k, v in raw.items()}, span=spans[i],
            delta={k: float(v[i]) for k, v in deltas.items()},
            start_prob=softmax(starts[i, :n]), end_prob=softmax(ends[i, :n]))
            for i, n in enumerate(lengths)]

    def _run(self, ids: Any, baseline: Any, extra: tuple[Any, ...]) -> tuple[Any, Any]:
        """IG (or gradient × input) of the start/end logits: :func:`.attribution.attribute`."""
        return attribute(self._forward, self.qa.model, ids, baseline, extra, mode=self.mode,
                         n_steps=self.n_steps, method=self.method,
                         internal_batch_size=self.internal_batch_size)

    def _forward(self, input_ids: Any, token_type_ids: Any, attention_mask: Any, positions: Any,
                 weights: Any) -> Any:
        """The scalar captum differentiates: w_s · start_logit[s] + w_e · end_logit[e]."""
        out = self.qa.model(input_ids=input_ids, token_type_ids=token_type_ids,
                            attention_mask=attention_mask)
        rows = out.start_logits.new_tensor(range(len(input_ids))).long()
        return (weights[:, 0] * out.start_logits[rows, positions[:, 0]]
                + weights[:, 1] * out.end_logits[rows, positions[:, 1]])

    def _baseline(self, ids: Any) -> Any:
        return pad_baseline(ids, self.qa.tokenizer)


def _nanmean(parts: Sequence[np.ndarray]) -> np.ndarray:
    stacked = np.vstack(parts)
    with np.errstate(all="ignore"):
        counts = (~np.isnan(stacked)).sum(axis=0)
        total = np.nansum(stacked, axis=0)
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)

