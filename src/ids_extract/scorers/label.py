"""``label``: zero-shot similarity of each unit to the classes — cosine of sentence-transformers
embeddings of the unit and of each label's description (the label name itself when none is
given). No classifier and no training.

A label may have several descriptions; its embedding is their normalised mean. The unit score is
``margin`` (default): the best label's cosine minus the mean cosine over the labels, i.e. how much
the unit points at one class rather than at all of them (a generic sentence is about as close to
every label); or ``max``: the best label's cosine (how on-topic the unit is at all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..models.hub import model_id
from .base import Scorer, ScoringBatch, unique_texts
from .sbert import SBERTScorer

MODES: tuple[str, ...] = ("margin", "max")


def parse_descriptions(spec: str | Mapping[str, str | Sequence[str]] | None
                       ) -> dict[str, list[str]]:
    """``{"pos": "a positive review"}``, or ``"pos=a positive review|a great film,neg=…"``
    (``|`` separates several descriptions of one label)."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return {str(k): [v] if isinstance(v, str) else [str(x) for x in v] for k, v in spec.items()}
    out: dict[str, list[str]] = {}
    for part in (p for p in spec.split(",") if p.strip()):
        label, sep, text = part.partition("=")
        if not sep or not label.strip() or not text.strip():
            raise ConfigError(f"label description {part!r}: expected LABEL=TEXT")
        out[label.strip()] = [t.strip() for t in text.split("|") if t.strip()]
    return out


class LabelScorer(Scorer):
    name = "label"
    reads = {"labels": "_labels", "model": "sbert_model", "device": "device",
             "precision": "precision", "descriptions": "label_descriptions"}
    option_help = {"labels": "the classes [the classifier's, the descriptions' or the data's]",
                   "descriptions": "LABEL=TEXT|TEXT,…",
                   "mode": "margin or max"}
    runtime = frozenset({"device", "batch_size"})
    recorded_as = {"labels": ("descriptions",)}  # every label with its description

    def __init__(self, labels: Sequence[str] | None = None,
                 descriptions: str | Mapping[str, str | Sequence[str]] | None = None,
                 model: str | None = None, device: str | None = None,
                 batch_size: int | None = None, precision: str = "auto",
                 mode: str = "margin") -> None:
        if mode not in MODES:
            raise ConfigError(f"label mode {mode!r}: choose from {', '.join(MODES)}")
        described = parse_descriptions(descriptions)
        names = list(labels or described)
        unknown = sorted(set(described) - set(names))
        if unknown:
            raise ConfigError(f"label descriptions for {unknown}, which are not labels {names}")
        if len(names) < 2:
            raise ConfigError("the label scorer needs at least two labels (from the data, or "
                              "`label_descriptions`)")
        self.descriptions = {n: described.get(n) or [n] for n in names}
        self.mode = mode
        self.encoder = SBERTScorer(model=model, device=device, batch_size=batch_size,
                                   precision=precision)
        self._labels: np.ndarray | None = None

    def recorded(self) -> dict[str, object]:
        return {"model": model_id(self.encoder.model_name),
                "precision": self.encoder.precision, "mode": self.mode,
                "descriptions": self.descriptions}

    def label_embeddings(self) -> np.ndarray:
        """``(labels, dim)``: each label's normalised mean description embedding (computed once)."""
        if self._labels is None:
            rows = []
            for texts in self.descriptions.values():
                mean = self.encoder.encode(list(texts)).mean(axis=0)  # (dim,)
                rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            self._labels = np.vstack(rows)
        return self._labels

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        unique, inverse = unique_texts([u for ctx in batch.contexts for u in ctx])
        cos = (self.encoder.encode(unique) @ self.label_embeddings().T)[inverse]  # (units, labels)
        best = cos.max(axis=1)
        unit = best - cos.mean(axis=1) if self.mode == "margin" else best
        bounds = np.cumsum([0] + [len(ctx) for ctx in batch.contexts])
        return [unit[bounds[c]: bounds[c + 1]] for c in batch.owner]
