"""Cosine similarity of sentence-transformers embeddings of question and sentence (S(q, p)).

Each batch encodes every distinct sentence and every distinct question once; a context asked
several questions is encoded once, not once per question.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError
from ..models.hub import model_id, quiet_transformers, resolve_model, transformer_folder
from ..models.onnx import pick_runtime
from ..models.runtime import autocast, pick_device
from .base import BiEncoderScorer


class SBERTScorer(BiEncoderScorer):
    name = "sbert"
    reads = {"model": "sbert_model", "device": "device", "batch_size": "batch_size",
             "precision": "precision", "backend": "backend"}
    option_help = {"model": "sentence-transformers folder or name [all-MiniLM-L6-v2]",
                   "backend": "auto (ONNX int8 for the default model), torch or onnx",
                   "precision": "auto, fp32, bf16 or int8 (onnx)",
                   "max_seq_length": "tokens read of a sentence"}
    runtime = frozenset({"device", "batch_size"})

    def __init__(self, model: str | None = None, device: str | None = None,
                 batch_size: int | None = None, max_seq_length: int | None = None,
                 precision: str = "auto", backend: str = "auto") -> None:
        self.model_name = resolve_model(model)
        _check_model_folder(self.model_name)
        self.device = pick_device(device)
        backend, self.precision = pick_runtime(backend, precision, self.device)
        self.backend = backend
        # onnxruntime gains from less padding more than it loses to more calls: 16 is ~12 %
        # faster than 64 for int8 MiniLM here; torch is best around 64.
        self.batch_size = batch_size or (16 if backend == "onnx" else 64)
        self._onnx: Any = None
        self.max_seq_length = max_seq_length
        self._model: Any = None

    def recorded(self) -> dict[str, object]:
        return {"model": model_id(self.model_name),
                "max_seq_length": self.max_seq_length, "precision": self.precision,
                "backend": self.backend}

    @property
    def model(self) -> Any:
        """Loaded on first use, so that building a scorer (and checking options) is cheap."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            quiet_transformers()
            self._model = SentenceTransformer(self.model_name, device=self.device)
            if self.max_seq_length:
                self._model.max_seq_length = self.max_seq_length
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings of distinct texts, in the order given.

        Under bf16/fp16 the matrix products run in half precision (autocast) while the pooling
        and normalisation stay in fp32; on dev-v1.1 this keeps cosines within 1e-4 of fp32.
        """
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        if self.backend == "onnx":
            if self._onnx is None:
                from ..models.onnx import OnnxEncoder

                self._onnx = OnnxEncoder.of_sentence_transformer(
                    self.model, quantize=self.precision == "int8")
            return self._onnx.encode(texts, self.batch_size)
        with autocast(self.device, self.precision):
            embeddings = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True,
                show_progress_bar=False, convert_to_tensor=True,
            )
        return embeddings.float().cpu().numpy()

    def encode_questions(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)  # one siamese encoder for both sides

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


def _check_model_folder(model: str) -> None:
    """A local folder must be a sentence-transformers or transformers model (checked now: the
    model itself loads only when the first batch is scored)."""
    from pathlib import Path

    path = Path(model)
    if not path.is_dir():
        return
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ConfigError(f"{path}: not a model folder (no modules.json or config.json)")
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(transformer_folder(model))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: not a model folder transformers can read "
                          f"({str(err).splitlines()[0]})") from None
