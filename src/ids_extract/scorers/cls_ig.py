"""IG(text): Integrated Gradients of a text classifier's class logit, per unit (``ig`` for
classification; METHOD.md §9).

The question-answering settings carried over to one text read alone:

- input ``[CLS] text [SEP]``, the **whole** text in the classifier's windows (its
  ``max_seq_length``, overlapping by its window overlap, or by ``overlap`` tokens: 0 attributes
  every token once, about a third fewer windows at the default overlap) so that unit scores of
  one text compare;
- baseline: the same sequence with every token but ``[CLS]``/``[SEP]`` replaced by ``[PAD]``;
  token-type ids and the attention mask are the input's, and captum's ``LayerIntegratedGradients``
  on the embeddings layer interpolates only that layer's output;
- target: the logit of the class the classifier predicts for the whole text (windows, averaged
  logits), or on a training split the gold class (``ScoringBatch.labels``; see
  :mod:`.cls_base`);
- token score = attribution summed over the hidden dimension, divided by its L2 norm over the
  window; unit score = mean (``sum``/``max``) over the unit's tokens; a unit seen by several
  windows takes the mean of its windows. Units no window reached rank last.

``mode="gxi"`` is gradient × (input − baseline) at the embeddings: IG with a single step, one
backward pass (captum's IG needs two steps or more, so it is assembled from captum's layer
gradient and the two embeddings, as the QA ``ig`` scorer does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..models.classifier.features import encode
from ..models.classifier.predict import pad
from ..models.runtime import ig_precision
from .attribution import attribute, pad_baseline
from .base import ScoringBatch
from .cls_base import ClassifierScorer
from .ig import AGGREGATIONS, METHODS, MODES, _nanmean
from .options import IG_STEPS
from .reader import context_bounds, fill_missing, per_sentence


class ClassifierIGScorer(ClassifierScorer):
    name = "ig"
    reads = {"model": "classifier_model", "device": "device", "target": "target",
             "n_steps": "ig_steps", "mode": "ig_mode", "precision": "precision"}
    option_help = {"model": "classifier folder (required)", "n_steps": "integration steps",
                   "target": "auto (gold on a training split), predicted or gold",
                   "precision": "fp32, bf16 or auto (bf16 where native)"}
    runtime = frozenset({"device", "batch_size", "internal_batch_size"})

    def __init__(self, model: str | None = None, n_steps: int = IG_STEPS, method: str = "gausslegendre",
                 mode: str = "ig", aggregation: str = "mean", internal_batch_size: int = 64,
                 batch_size: int = 8, device: str = "auto", target: str = "auto",
                 precision: str = "fp32", overlap: int | None = None) -> None:
        for value, allowed, what in ((aggregation, AGGREGATIONS, "aggregation"),
                                     (method, METHODS, "method"), (mode, MODES, "mode")):
            if value not in allowed:
                raise ConfigError(f"ig {what} {value!r}: choose from {', '.join(allowed)}")
        if mode == "ig" and n_steps < 2:
            raise ConfigError("ig: n_steps must be >= 2 (mode='gxi' is the one-step variant)")
        if min(n_steps, internal_batch_size) < 1:
            raise ConfigError("ig: n_steps and internal_batch_size must be >= 1")
        super().__init__(model, device, ig_precision(precision, device), target, batch_size)
        self.mode, self.aggregation = mode, aggregation
        self.n_steps, self.method = (1, "riemann_right") if mode == "gxi" else (n_steps, method)
        self.internal_batch_size = internal_batch_size
        self.windows = replace(self.clf.config, overlap=overlap).check() if overlap is not None \
            else self.clf.config

    def recorded(self) -> dict[str, object]:
        return {**super().recorded(), "mode": self.mode, "n_steps": self.n_steps,
                "method": self.method, "aggregation": self.aggregation,
                "overlap": self.windows.window_overlap}

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        targets = self.targets(batch)
        found = self.unit_scores(batch, targets)
        return [fill_missing(_nanmean(parts)) for parts in found]

    def unit_scores(self, batch: ScoringBatch,
                    targets: Sequence[int | None]) -> list[list[np.ndarray]]:
        """Per item, one array of unit scores per window of its text (NaN: not in that window)."""
        texts = self.item_texts(batch)
        enc = encode(self.clf.tokenizer, texts, self.windows, "windows", offsets=True)
        tokens = self.attribute(enc.inputs, [targets[q] for q in enc.text_index])
        found: list[list[np.ndarray]] = [[] for _ in texts]
        for f, q in enumerate(enc.text_index):
            units = unit_of_tokens(enc.offsets[f], batch.contexts[batch.owner[q]])
            found[q].append(per_sentence(tokens[f], units, len(batch.contexts[batch.owner[q]]),
                                         self.aggregation))
        return found

    def attribute(self, rows: Sequence[dict[str, list[int]]],
                  targets: Sequence[int | None]) -> list[np.ndarray]:
        """L2-normalised token attributions of every feature for its target class (None: the
        class the feature itself predicts), ``batch_size`` features (by length) per call."""
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]["input_ids"]))
        out: list[np.ndarray] = [np.zeros(0)] * len(rows)
        for lo in range(0, len(order), self.batch_size):
            chunk = order[lo: lo + self.batch_size]
            for i, scores in zip(chunk, self._attribute([rows[i] for i in chunk],
                                                        [targets[i] for i in chunk]), strict=True):
                out[i] = scores
        return out

    def _attribute(self, rows: Sequence[dict[str, list[int]]],
                   targets: Sequence[int | None]) -> list[np.ndarray]:
        import torch

        enc = pad(self.clf, rows)
        ids = enc["input_ids"]  # (batch, tokens)
        if any(t is None for t in targets):
            with torch.inference_mode():
                own = self.clf.model(**enc).logits.argmax(dim=-1).tolist()  # (batch,)
            targets = [own[i] if t is None else t for i, t in enumerate(targets)]
        chosen = torch.tensor(list(targets), dtype=torch.long, device=ids.device)  # (batch,)
        extra = (enc.get("token_type_ids"), enc["attention_mask"], chosen)
        with torch.autocast(ids.device.type, dtype=torch.bfloat16,
                            enabled=self.clf.precision == "bf16"):
            attributions = self._run(ids, self._baseline(ids), extra)  # (batch, tokens, hidden)
        summed = attributions.sum(dim=-1).detach().float()  # (batch, tokens)
        normed = summed / summed.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return [normed[i, : len(r["input_ids"])].cpu().numpy() for i, r in enumerate(rows)]

    def _run(self, ids: Any, baseline: Any, extra: tuple[Any, ...]) -> Any:
        """IG (or gradient × input) of the target class logit: :func:`.attribution.attribute`."""
        attributions, _ = attribute(self._forward, self.clf.model, ids, baseline, extra,
                                    mode=self.mode, n_steps=self.n_steps, method=self.method,
                                    internal_batch_size=self.internal_batch_size)
        return attributions

    def _forward(self, input_ids: Any, token_type_ids: Any, attention_mask: Any,
                 targets: Any) -> Any:
        """The scalar captum differentiates: each row's logit of its target class."""
        logits = self.clf.model(input_ids=input_ids, token_type_ids=token_type_ids,
                                attention_mask=attention_mask).logits  # (rows, classes)
        return logits.gather(1, targets[:, None])[:, 0]  # (rows,)

    def _baseline(self, ids: Any) -> Any:
        return pad_baseline(ids, self.clf.tokenizer)


def unit_of_tokens(offsets: Sequence[tuple[int, int] | None],
                   units: Sequence[str]) -> np.ndarray:
    """Per token, the index of the unit its first character is in (-1 for special tokens)."""
    bounds = context_bounds(units)
    return np.array([-1 if o is None else int(np.searchsorted(bounds, o[0], side="right")) - 1
                     for o in offsets], dtype=np.int64)
