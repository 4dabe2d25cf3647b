"""D(q, p) = E_Q(q) · E_P(s): the dot product of a separate question encoder and passage encoder.

The pair (a ``train-retriever`` folder, two encoders, or a public Facebook pair by name) is loaded
through :mod:`ids_extract.models.dpr.pair`, which refuses anything whose weights would be random.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..models.dpr.pair import (
    Passage,
    embed,
    load_encoder,
    passage_context_of,
    passages,
    resolve_pair,
    tokenize,
    trained_lengths,
)
from ..models.hub import model_id
from ..models.runtime import autocast, length_batches, pick_device, pick_precision
from .base import BiEncoderScorer


class DPRScorer(BiEncoderScorer):
    name = "dpr"
    reads = {"model": "dpr_model", "device": "device", "batch_size": "batch_size",
             "precision": "precision"}
    option_help = {"model": "a train-retriever pair folder, or a facebook/dpr-* name",
                   "question_model": "question encoder (with ctx_model, instead of model)",
                   "ctx_model": "passage encoder (with question_model)"}
    runtime = frozenset({"device", "batch_size"})
    recorded_as = {"model": ("question_model", "ctx_model")}  # the pair it resolves to

    def __init__(self, model: str | None = None, question_model: str | None = None,
                 ctx_model: str | None = None, device: str | None = None, batch_size: int = 64,
                 precision: str = "auto", max_question_length: int | None = None,
                 max_passage_length: int | None = None) -> None:
        self.model_name = model
        self.question_name, self.ctx_name, self.pooling = resolve_pair(model, question_model,
                                                                        ctx_model)
        self.device = pick_device(device)
        self.precision = pick_precision(precision, self.device)
        self.batch_size = batch_size
        # a pair from train-retriever reads at the lengths it was trained at; public pairs at
        # DPR's own (64-token questions, 256-token passages)
        trained_q, trained_p = trained_lengths(Path(self.ctx_name).parent)
        self.max_question_length = max_question_length or trained_q or 64
        self.max_passage_length = max_passage_length or trained_p or 256
        self.passage_context = passage_context_of(Path(self.ctx_name).parent)
        self._loaded: tuple[Any, Any, Any, Any] | None = None

    def recorded(self) -> dict[str, object]:
        return {"question_model": model_id(self.question_name),
                "ctx_model": model_id(self.ctx_name), "pooling": self.pooling,
                "precision": self.precision, "max_question_length": self.max_question_length,
                "max_passage_length": self.max_passage_length,
                "passage_context": self.passage_context}

    def passage_inputs(self, sentences: Sequence[str]) -> Sequence[str | Passage]:
        """For a pair trained with ``passage_context`` k, each sentence with the k before it."""
        return passages(sentences, self.passage_context)

    def _models(self) -> tuple[Any, Any, Any, Any]:
        if self._loaded is None:
            from transformers import AutoTokenizer

            q = load_encoder("question", self.question_name).to(self.device)
            c = load_encoder("ctx", self.ctx_name).to(self.device)
            self._loaded = (q, AutoTokenizer.from_pretrained(self.question_name),
                            c, AutoTokenizer.from_pretrained(self.ctx_name))
        return self._loaded

    def encode_questions(self, texts: list[str]) -> np.ndarray:
        q, q_tok, _, _ = self._models()
        return self._encode(q, q_tok, texts, self.max_question_length)

    def encode_passages(self, texts: list[str | Passage]) -> np.ndarray:
        _, _, c, c_tok = self._models()
        return self._encode(c, c_tok, texts, self.max_passage_length)

    def _encode(self, model: Any, tokenizer: Any, texts: Sequence[str | Passage],
                max_length: int) -> np.ndarray:
        """Embeddings in the order given (texts, or (sentence, context) pairs); batches are
        formed by length so little is padding."""
        import torch

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        lengths = [len(t) if isinstance(t, str) else len(t[0]) + len(t[1]) for t in texts]
        out: np.ndarray | None = None
        with torch.inference_mode(), autocast(self.device, self.precision):
            for idx in length_batches(lengths, self.batch_size):
                enc = tokenize(tokenizer, [texts[j] for j in idx], max_length).to(self.device)
                vec = embed(model, enc["input_ids"], enc["attention_mask"], self.pooling,
                            enc.get("token_type_ids")).float().cpu().numpy()
                if out is None:
                    out = np.empty((len(texts), vec.shape[1]), dtype=np.float32)
                out[idx] = vec
        assert out is not None
        return out
