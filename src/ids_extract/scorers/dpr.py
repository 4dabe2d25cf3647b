"""D(q, p) = E_Q(q) · E_P(s): the dot product of a separate question encoder and passage encoder.

The pair (a ``train-retriever`` folder, two encoders, or a public Facebook pair by name) is loaded
through :mod:`ids_extract.models.dpr.pair`, which refuses anything whose weights would be random.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
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
from ..models.onnx import int8_file, pick_runtime
from ..models.runtime import autocast, length_batches, pick_device
from .base import BiEncoderScorer


class DPRScorer(BiEncoderScorer):
    name = "dpr"
    reads = {"model": "dpr_model", "device": "device", "batch_size": "batch_size",
             "precision": "precision", "backend": "backend"}
    option_help = {"model": "a train-retriever pair folder, or a facebook/dpr-* name",
                   "question_model": "question encoder (with ctx_model, instead of model)",
                   "ctx_model": "passage encoder (with question_model)",
                   "backend": "auto (ONNX int8 on a CPU for a mean-pooled pair without passage "
                              "context, as train-retriever makes them), torch or onnx",
                   "precision": "auto, fp32, bf16 or int8 (onnx)"}
    runtime = frozenset({"device", "batch_size"})
    recorded_as = {"model": ("question_model", "ctx_model")}  # the pair it resolves to
    omitted_at = {"backend": "torch"}  # the key torch scores had before ONNX Runtime came

    def __init__(self, model: str | None = None, question_model: str | None = None,
                 ctx_model: str | None = None, device: str | None = None, batch_size: int = 64,
                 precision: str = "auto", max_question_length: int | None = None,
                 max_passage_length: int | None = None, backend: str = "auto") -> None:
        self.model_name = model
        self.question_name, self.ctx_name, self.pooling = resolve_pair(model, question_model,
                                                                        ctx_model)
        self.device = pick_device(device)
        self.passage_context = passage_context_of(Path(self.ctx_name).parent)
        # ONNX runs the transformer and pools by the mean here: a pair that reads a passage's
        # context as a second segment, or pools [CLS] through a projection, stays in torch
        plain = self.pooling == "mean" and self.passage_context == 0
        if backend == "onnx" and not plain:
            raise ConfigError("dpr backend onnx runs a mean-pooled pair without passage context")
        # a shipped pair holds only int8 graphs (no torch weights): it runs as it was shipped
        self.shipped = bool(int8_file(self.question_name) and int8_file(self.ctx_name))
        if self.shipped and (backend == "torch" or precision not in ("auto", "int8")):
            raise ConfigError(f"dpr {model}: a pair shipped as int8 ONNX runs with backend onnx, "
                              "precision int8")
        self.backend, self.precision = pick_runtime(
            "onnx" if self.shipped else backend if plain else "torch", precision, self.device)
        self.batch_size = batch_size
        # a pair from train-retriever reads at the lengths it was trained at; public pairs at
        # DPR's own (64-token questions, 256-token passages)
        trained_q, trained_p = trained_lengths(Path(self.ctx_name).parent)
        self.max_question_length = max_question_length or trained_q or 64
        self.max_passage_length = max_passage_length or trained_p or 256
        self._loaded: tuple[Any, Any, Any, Any] | None = None
        self._onnx: dict[str, Any] = {}

    def recorded(self) -> dict[str, object]:
        return {"question_model": model_id(self.question_name),
                "ctx_model": model_id(self.ctx_name), "pooling": self.pooling,
                "precision": self.precision, "max_question_length": self.max_question_length,
                "max_passage_length": self.max_passage_length,
                "passage_context": self.passage_context,
                "backend": self.backend}

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
        if self.backend == "onnx":
            return self._runtime("question").encode(texts, 16)
        q, q_tok, _, _ = self._models()
        return self._encode(q, q_tok, texts, self.max_question_length)

    def encode_passages(self, texts: list[str | Passage]) -> np.ndarray:
        if self.backend == "onnx":
            return self._runtime("ctx").encode([str(t) for t in texts], 16)
        _, _, c, c_tok = self._models()
        return self._encode(c, c_tok, texts, self.max_passage_length)

    def _runtime(self, side: str) -> Any:
        """The encoder of one side in ONNX Runtime (a shipped graph, or exported once and
        cached by its weights): unnormalised mean-pooled vectors, as the torch path gives them
        for a dot product."""
        if side not in self._onnx:
            from ..models.dpr.pair import inner_encoder
            from ..models.onnx import OnnxEncoder

            length = self.max_question_length if side == "question" else self.max_passage_length
            folder = self.question_name if side == "question" else self.ctx_name
            if self.shipped:
                self._onnx[side] = OnnxEncoder.of_folder(folder, length, normalize=False)
            else:
                q, q_tok, c, c_tok = self._models()
                model, tokenizer = (q, q_tok) if side == "question" else (c, c_tok)
                self._onnx[side] = OnnxEncoder.of_transformer(
                    inner_encoder(model).bert_model, tokenizer, length,
                    quantize=self.precision == "int8", normalize=False)
        return self._onnx[side]

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
