"""From logits to answers (``run_qa.py``'s ``utils_qa`` post-processing): the ``n_best`` start and
end logits of every window are paired (end ≥ start, at most ``max_answer_length`` tokens, inside
the context) and the best pair is mapped back to a character span through the offsets. The
no-answer score is the smallest ``[CLS]`` score over the windows; a reader trained on v2.0 data
answers ``""`` when it beats the best span.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...files import write_json
from .features import EvalFeatures, Example, ReaderConfig


@dataclass
class Prediction:
    """The reader's answer to one example: text and character span in the context it read."""

    id: str
    text: str
    start: int
    end: int
    score: float  # start + end logit of the best span
    null_score: float  # [CLS] score; higher than ``score`` means "no answer"
    nbest: list[dict[str, Any]] = field(default_factory=list)

    @property
    def na_prob(self) -> float:
        """A no-answer probability for the v2.0 threshold search (sigmoid of the margin)."""
        margin = self.null_score - self.score
        return 1.0 / (1.0 + math.exp(-max(min(margin, 50.0), -50.0)))


def decode(examples: Sequence[Example], feats: EvalFeatures, start_logits: Sequence[np.ndarray],
           end_logits: Sequence[np.ndarray], cfg: ReaderConfig) -> list[Prediction]:
    """n-best post-processing: best valid span over all windows of each example."""
    by_example: list[list[int]] = [[] for _ in examples]
    for f, e in enumerate(feats.example_index):
        by_example[e].append(f)
    out = []
    for e, ex in enumerate(examples):
        candidates: list[tuple[float, int, int]] = []
        null = math.inf
        for f in by_example[e]:
            s, t, offs = start_logits[f], end_logits[f], feats.offsets[f]
            null = min(null, float(s[0] + t[0]))
            candidates.extend(_spans(s, t, offs, cfg))
        candidates.sort(key=lambda c: -c[0])
        if not candidates:
            out.append(Prediction(ex.id, "", 0, 0, -math.inf, null))
            continue
        score, start, end = candidates[0]
        nbest = _nbest(ex.context, candidates[: cfg.n_best])
        text = ex.context[start:end]
        if cfg.version2 and null > score:
            text, start, end = "", 0, 0
        out.append(Prediction(ex.id, text, start, end, score, null, nbest))
    return out


def _spans(s: np.ndarray, t: np.ndarray, offs: Sequence[tuple[int, int] | None],
           cfg: ReaderConfig) -> list[tuple[float, int, int]]:
    n = len(offs)
    starts = np.argsort(s[:n])[::-1][: cfg.n_best]
    ends = np.argsort(t[:n])[::-1][: cfg.n_best]
    found = []
    for a in starts:
        oa = offs[int(a)]
        if oa is None:
            continue
        for b in ends:
            ob = offs[int(b)]
            if ob is None or b < a or b - a + 1 > cfg.max_answer_length:
                continue
            found.append((float(s[a] + t[b]), oa[0], ob[1]))
    return found


def _nbest(context: str, candidates: Sequence[tuple[float, int, int]]) -> list[dict[str, Any]]:
    """The distinct best spans with softmax probabilities over the n-best list."""
    seen: dict[tuple[int, int], float] = {}
    for score, start, end in candidates:
        seen.setdefault((start, end), score)
    scores = np.array(list(seen.values()))
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    return [{"text": context[a:b], "start": a, "end": b, "score": float(sc),
             "probability": float(p)}
            for ((a, b), sc), p in zip(seen.items(), probs, strict=True)]


def write_predictions(predictions: Sequence[Prediction], out_dir: str | Path,
                      version2: bool) -> dict[str, Path]:
    """``predictions.json`` in the official format (id → text); with v2.0 also
    ``na_probs.json`` (id → no-answer probability) for the threshold search."""
    out = Path(out_dir)
    paths = {"predictions": out / "predictions.json"}
    write_json({p.id: p.text for p in predictions}, paths["predictions"])
    if version2:
        paths["na_probs"] = out / "na_probs.json"
        write_json({p.id: p.na_prob for p in predictions}, paths["na_probs"])
    return paths
