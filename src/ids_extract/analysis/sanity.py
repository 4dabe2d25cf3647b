"""Model-parameter randomisation test of the IG sentence scores (Adebayo et al. 2018; METHOD.md §8).

If the sentence ranking barely changes when the model's weights are replaced by random ones, the
attributions do not explain the model (they may only reflect the input). The model is a QA reader
(the ``ig`` scorer, questions with contexts) or a text classifier (the classification ``ig``
scorer, texts alone: :func:`sample_text_batch`). Two schedules:

- ``cascading``: re-initialise from the head down, one more block at each step (head, the
  pooler where the head reads it, top encoder layer, …, embeddings), keeping the earlier ones
  random;
- ``independent``: re-initialise one block at a time, the rest trained.

At each step every sampled question is scored again and compared with the trained model's scores
by Spearman rank correlation (scipy) over its sentences; the table reports the mean and median.
Re-initialisation is the model's initial distribution: matrices ~ N(0, initializer_range), biases
0, LayerNorm weights 1 (what a model has before training).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import defaults
from ..files import atomic_path, write_json
from ..progress import track
from ..scorers.base import Scorer
from ..select.pieces import split_text
from ..select.segment import split_sentences
from ..select.units import ScoringBatch
from ..textcls.model import TextDataset

SCHEDULES = ("cascading", "independent")


@dataclass
class Step:
    schedule: str
    block: str
    mean_spearman: float
    median_spearman: float
    questions: int


@dataclass
class SanityResult:
    steps: list[Step]
    questions: int
    threshold: float
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def fully_random(self) -> float:
        """Mean Spearman once every block is random (last cascading step)."""
        cascading = [s for s in self.steps if s.schedule == "cascading"]
        return cascading[-1].mean_spearman if cascading else math.nan

    def verdict(self) -> str:
        """One line a user can act on: PASS when the ranking of the fully random model no
        longer agrees with the trained one (mean Spearman at most the threshold)."""
        value = self.fully_random
        if math.isnan(value):
            return "no verdict: no cascading step could be measured"
        if value <= self.threshold:
            return (f"PASS: the IG sentence ranking depends on the model: mean Spearman with the "
                    f"trained model falls to {value:.3f} (≤ {self.threshold}) once all weights "
                    f"are random")
        return (f"FAIL: the IG sentence ranking survives randomising all weights (mean Spearman "
                f"{value:.3f} > {self.threshold}): it reflects the input more than the model")

    def to_dict(self) -> dict[str, Any]:
        return {"questions": self.questions, "threshold": self.threshold,
                "fully_random_mean_spearman": self.fully_random, "verdict": self.verdict(),
                "steps": [dataclasses.asdict(s) for s in self.steps], "config": self.config}


def blocks(model: Any) -> list[tuple[str, Any]]:
    """The model's blocks from the output down: the head (modules with weights outside the
    encoder), the pooler when there is one, encoder layers top first, embeddings."""
    base = getattr(model, "base_model", model)
    head = [(n, m) for n, m in model.named_children()
            if m is not base and any(True for _ in m.parameters())]
    layers = list(getattr(getattr(base, "encoder", None), "layer", []))
    out = [(f"head:{n}", m) for n, m in head]
    if getattr(base, "pooler", None) is not None:
        out.append(("pooler", base.pooler))
    out += [(f"layer {i}", layers[i]) for i in reversed(range(len(layers)))]
    if getattr(base, "embeddings", None) is not None:
        out.append(("embeddings", base.embeddings))
    return out


def reinitialise(module: Any, std: float, seed: int) -> None:
    """Back to the untrained distribution (see the module docstring)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if param.dim() >= 2:
                param.copy_(torch.randn(param.shape, generator=gen) * std)
            elif "LayerNorm" in name or name.endswith("norm.weight"):
                param.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                param.zero_()


def _randomised_rho(scorer: Scorer, holder: str, trained: Any, batch: ScoringBatch,
                    reference: Sequence[np.ndarray], which: tuple[int, ...], std: float,
                    seed: int) -> np.ndarray:
    """Spearman per item between the trained scores and those of a copy of the model whose
    blocks ``which`` are re-initialised (block ``i`` with seed ``seed + its place``)."""
    model = copy.deepcopy(trained.model)
    found = blocks(model)
    for offset, k in enumerate(which):
        reinitialise(found[k][1], std, seed + offset)
    setattr(scorer, holder, dataclasses.replace(trained, model=model.eval()))
    return spearman_per_question(reference, scorer.score(batch))


def spearman_per_question(reference: Sequence[np.ndarray], other: Sequence[np.ndarray]) -> np.ndarray:
    """Spearman rank correlation per question (NaN where it is undefined: one sentence or
    constant scores)."""
    from scipy.stats import spearmanr

    out = []
    for a, b in zip(reference, other, strict=True):
        if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
            out.append(math.nan)
        else:
            out.append(float(spearmanr(a, b).statistic))
    return np.array(out)


def _step(schedule: str, block: str, rho: np.ndarray) -> Step:
    valid = rho[~np.isnan(rho)]
    return Step(schedule, block, float(valid.mean()) if valid.size else math.nan,
                float(np.median(valid)) if valid.size else math.nan, int(valid.size))


def run_sanity(scorer: Scorer, batch: ScoringBatch, schedules: Sequence[str] = SCHEDULES,
               threshold: float = 0.5, seed: int = 0, quiet: bool = True) -> SanityResult:
    """Score ``batch`` with the trained model, then after each randomisation step. ``scorer``
    holds its loaded model as ``qa`` (the QA ``ig``) or ``clf`` (the classification ``ig``)."""
    holder = "qa" if hasattr(scorer, "qa") else "clf"
    trained = getattr(scorer, holder)
    std = float(getattr(trained.model.config, "initializer_range", 0.02))
    reference = scorer.score(batch)
    names = [name for name, _ in blocks(trained.model)]
    plan = [(s, k) for s in schedules for k in range(len(names))]
    steps: list[Step] = []
    seen: dict[tuple[int, ...], np.ndarray] = {}  # the same random blocks give the same scores
    try:
        for schedule, k in track(plan, "randomising", len(plan), quiet):
            which = tuple(range(k + 1)) if schedule == "cascading" else (k,)
            if which not in seen:  # independent step 0 is cascading step 0 (the head alone)
                seen[which] = _randomised_rho(scorer, holder, trained, batch, reference,
                                              which, std, seed)
            steps.append(_step(schedule, names[k], seen[which]))
    finally:
        setattr(scorer, holder, trained)
    return SanityResult(steps, len(batch.queries), threshold, scorer.config())


def plot(result: SanityResult, target: str | Path) -> Path:
    """Mean Spearman per step, one line per schedule (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.0), dpi=110)
    for schedule, marker in zip(SCHEDULES, "os", strict=True):
        rows = [s for s in result.steps if s.schedule == schedule]
        if rows:
            ax.plot([s.block for s in rows], [s.mean_spearman for s in rows], marker=marker,
                    label=schedule)
    ax.axhline(result.threshold, color="grey", linestyle="--", linewidth=0.8,
               label=f"threshold {result.threshold}")
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("mean Spearman with the trained model")
    ax.set_xlabel("randomised block (output → embeddings)")
    ax.set_title(f"IG sentence ranking under parameter randomisation ({result.questions} questions)")
    ax.legend(fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(target)


def write_result(result: SanityResult, out_dir: str | Path) -> tuple[Path, Path]:
    out = Path(out_dir)
    json_path = out / "sanity.json"
    write_json(result.to_dict(), json_path)
    return json_path, plot(result, out / "sanity.png")


def sample_batch(dataset: Any, n: int | None, segmenter: str = defaults.SEGMENTER) -> ScoringBatch:
    """About ``n`` questions spread evenly over the file (every k-th: fixed, so runs compare),
    each with its whole context split into sentences."""
    items = [(p.context, qa.question) for _, p, qa in dataset.iter_qas()]
    if n is not None and 0 < n < len(items):
        step = len(items) / n
        items = [items[int(i * step)] for i in range(n)]
    contexts: list[list[str]] = []
    index: dict[str, int] = {}
    owner = []
    for context, _ in items:
        if context not in index:
            index[context] = len(contexts)
            contexts.append([context[s:e] for s, e in split_sentences(context, segmenter)])
        owner.append(index[context])
    return ScoringBatch(contexts, [q for _, q in items], owner)


def sample_text_batch(dataset: TextDataset, n: int | None, unit: str = "sentence",
                      segmenter: str = defaults.SEGMENTER) -> ScoringBatch:
    """About ``n`` texts spread evenly over a classification file (every k-th), each cut into
    units as ``extract-texts`` cuts it, with no question and no gold label (the classifier's
    predicted class is explained)."""
    texts = dataset.texts
    if n is not None and 0 < n < len(texts):
        step = len(texts) / n
        texts = [texts[int(i * step)] for i in range(n)]
    contexts = [[t[s:e] for s, e in split_text(t, unit, segmenter)] for t in texts]
    return ScoringBatch(contexts, [""] * len(contexts), list(range(len(contexts))))
