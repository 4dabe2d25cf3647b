"""Cosine similarity of static (model2vec) embeddings of question and sentence.

A sentence's vector is the mean of its tokens' vectors: no transformer runs at scoring time, so
this encodes in a small fraction of MiniLM's time, at some cost in quality (bench/static.py).
The vectors are distilled from the default encoder on first use and cached, or loaded from a
folder (:mod:`ids_extract.models.static.folder`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..models.hub import content_hash, display_name
from ..models.static.folder import load_static, resolve_static, static_folder
from .base import BiEncoderScorer


class StaticScorer(BiEncoderScorer):
    name = "static"
    cheap = True
    reads = {"model": "static_model"}
    option_help = {"model": "model2vec folder [distilled from all-MiniLM-L6-v2 on first use]"}
    runtime = frozenset({"batch_size"})

    def __init__(self, model: str | None = None, batch_size: int = 1024) -> None:
        self.source, _ = resolve_static(model)  # a missing folder fails now, not at scoring
        self.batch_size = batch_size
        self._folder: str | None = None

    @property
    def folder(self) -> str:
        """The model2vec folder, distilled on first use when the model is a transformer."""
        if self._folder is None:
            self._folder = str(static_folder(self.source))
        return self._folder

    @property
    def model(self) -> Any:
        return load_static(self.folder)

    def recorded(self) -> dict[str, object]:
        return {"model": {"name": display_name(self.source), "sha256": content_hash(self.folder)}}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 embeddings, in the order given (no worker processes: the lookup
        is cheaper than starting them)."""
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        out = self.model.encode(texts, batch_size=self.batch_size, use_multiprocessing=False,
                                max_length=None)
        return np.asarray(out, dtype=np.float32)

    def encode_questions(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)
