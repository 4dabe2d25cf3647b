"""Extractive QA readers: prediction with a trained reader folder (features from :mod:`.features`,
answers from :mod:`.decode`).

The reader is the model that the extracted datasets are for (METHOD.md §4, §5).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...progress import track
from ..runtime import autocast, length_batches, pick_device, pick_precision
from .decode import Prediction, decode
from .features import EvalFeatures, Example, ReaderConfig, eval_features
from .folder import load_model, read_meta


class Reader:
    """A trained reader: model, tokenizer and the feature config it was trained with."""

    def __init__(self, model: Any, tokenizer: Any, config: ReaderConfig, *, device: str = "cpu",
                 precision: str = "fp32") -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.config = config
        self.device = device
        self.precision = precision

    @classmethod
    def load(cls, model_dir: str | Path, *, device: str = "auto", precision: str = "auto",
             **overrides: Any) -> Reader:
        """Load a folder written by :func:`train_reader` (its ``reader.json`` gives the feature
        config; ``overrides`` change it, e.g. ``mode="truncate"``)."""
        path = Path(model_dir)
        meta = read_meta(path)
        cfg = ReaderConfig(**{**meta.get("reader", {}),
                              **{k: v for k, v in overrides.items() if v is not None}})
        model, tokenizer = load_model(str(path) if path.exists() else str(model_dir))
        cfg.check(tokenizer.num_special_tokens_to_add(pair=True))
        dev = pick_device(device)
        return cls(model, tokenizer, cfg, device=dev, precision=pick_precision(precision, dev))

    def predict(self, examples: Sequence[Example], batch_size: int = 64,
                quiet: bool = True) -> list[Prediction]:
        feats = eval_features(self.tokenizer, examples, self.config)
        starts, ends = self.logits(feats, batch_size, quiet)
        return decode(examples, feats, starts, ends, self.config)

    def logits(self, feats: EvalFeatures, batch_size: int,
               quiet: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Start and end logits per feature; features are batched by length to pad little."""
        import torch

        n = len(feats.inputs)
        starts: list[np.ndarray] = [np.zeros(0)] * n
        ends: list[np.ndarray] = [np.zeros(0)] * n
        batches = list(length_batches([len(f["input_ids"]) for f in feats.inputs], batch_size))
        for batch in track(batches, "reading", len(batches), quiet):
            padded = self.tokenizer.pad([feats.inputs[i] for i in batch], return_tensors="pt")
            padded = {k: v.to(self.device) for k, v in padded.items()}
            with torch.inference_mode(), autocast(self.device, self.precision):
                out = self.model(**padded)
            s = out.start_logits.float().cpu().numpy()
            t = out.end_logits.float().cpu().numpy()
            for row, i in enumerate(batch):
                length = len(feats.inputs[i]["input_ids"])
                starts[i], ends[i] = s[row, :length], t[row, :length]
        return starts, ends
