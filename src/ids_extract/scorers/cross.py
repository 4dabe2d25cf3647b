"""The ``cross`` scorer: a cross-encoder reads the question and each sentence together (with the
sentence's neighbours, in the format the model was trained with) and gives one relevance logit.

Slower than a bi-encoder (one forward pass per question and sentence, nothing shared between
questions), and better at telling a sentence that answers the question from one that only
resembles it: every question token attends to every sentence token. The model is a
:mod:`ids_extract.models.cross` folder (``train-extractor`` trains one) or a public one-logit
cross-encoder.
"""

from __future__ import annotations

import numpy as np

from ..models.cross.folder import candidate_text, load_cross
from ..models.hub import model_id
from ..models.runtime import length_batches
from .base import Scorer, ScoringBatch


class CrossScorer(Scorer):
    name = "cross"
    reads = {"model": "cross_model", "device": "device", "batch_size": "batch_size",
             "precision": "precision", "backend": "backend"}
    option_help = {"model": "cross-encoder folder (train-extractor) or one-logit name",
                   "backend": "auto (ONNX int8 on a CPU), torch or onnx; a shipped int8 model "
                              "runs in ONNX"}
    runtime = frozenset({"device", "batch_size"})
    omitted_at = {"backend": "torch"}  # the key torch scores had before ONNX Runtime came

    def __init__(self, model: str | None = None, device: str = "auto", batch_size: int = 64,
                 precision: str = "auto", backend: str = "auto") -> None:
        self.cross = load_cross(model, device, backend, precision)
        self.backend = "torch" if self.cross.graph is None else "onnx"
        self.precision = self.cross.precision
        self.batch_size = batch_size

    def recorded(self) -> dict[str, object]:
        fmt = self.cross.fmt
        return {"model": model_id(self.cross.path), "before": fmt.before,
                "after": fmt.after, "max_length": fmt.max_length, "precision": self.precision,
                "backend": self.backend}

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """One logit per (question, sentence) of the batch (only each question's candidate
        sentences in a cascade; the others get 0, which the cascade replaces); pairs are run in
        batches of similar length, so little of each is padding."""
        sep = self.cross.tokenizer.sep_token
        texts = [[candidate_text(ctx, i, self.cross.fmt, sep) for i in range(len(ctx))]
                 for ctx in batch.contexts]
        read = batch.candidates or [range(len(texts[c])) for c in batch.owner]
        pairs = [(q, c, int(i)) for q, c in enumerate(batch.owner) for i in read[q]]
        logits = np.zeros(len(pairs), dtype=np.float64)
        lengths = [len(batch.queries[q]) + len(texts[c][i]) for q, c, i in pairs]
        batches = list(length_batches(lengths, self.batch_size))

        def run(idx: np.ndarray) -> None:
            chosen = [pairs[j] for j in idx]
            logits[idx] = self.cross.logits([batch.queries[q] for q, _, _ in chosen],
                                            [texts[c][i] for _, c, i in chosen])

        if self.cross.graph is not None:
            self.cross.graph.each(batches, run)  # one single-threaded session per core
        else:
            for idx in batches:
                run(idx)
        out = [np.zeros(len(texts[c])) for c in batch.owner]
        for (q, _, i), logit in zip(pairs, logits, strict=True):
            out[q][i] = logit
        return out
