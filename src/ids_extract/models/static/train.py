"""Contrastive fine-tuning of a static model's token vectors on question ↔ answer sentence pairs.

A training example is a question, the sentence (unit) holding its answer, and hard negatives: the
other sentences of its context (the very choice the extractor makes) and its distractor from the
stress set (:mod:`ids_extract.squad.stress`: a sentence made to look like the answer's but false).
Each question is scored against every positive of its batch (in-batch negatives) and its own hard
negatives; the loss is the cross-entropy of the cosines over a temperature (InfoNCE).

A sentence's vector is the mean of its tokens' vectors (``EmbeddingBag``, exactly what
``StaticModel.encode`` computes for a distilled model), so the trained table is saved back as a
plain model2vec folder that the ``static`` scorer loads. On a CPU a step of 64 questions takes tens
of milliseconds: an epoch of the 11,877 training questions is seconds to minutes.
"""

from __future__ import annotations

import random
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ... import defaults
from ...errors import ConfigError
from ...files import locks_output, write_json
from ...squad.model import SquadDataset
from ...squad.stress import stress_set
from ...squad.units import answer_start_units, squad_units
from .folder import load_static, save_static, static_folder

META_FILE = "ids_extract_static.json"


@dataclass(frozen=True)
class StaticTrainConfig:
    """What a run is made of (recorded in the output folder's ``ids_extract_static.json``)."""

    base: str | None = None  # the static model to start from (None: distilled from MiniLM)
    epochs: int = 3  # chosen on 4 held-out training articles (1: +1.0, 3: +1.9, 6: +1.5 fused)
    batch_size: int = 64
    lr: float = 2e-3
    temperature: float = 0.05
    context_negatives: int = 4  # other sentences of the question's context, per question
    distractors: bool = True  # the stress set's distractor as one more negative
    max_steps: int | None = None
    seed: int = 0
    segmenter: str = defaults.SEGMENTER


@dataclass(frozen=True)
class Example:
    question: str
    positive: str
    negatives: tuple[str, ...]


def examples(dataset: SquadDataset, config: StaticTrainConfig, quiet: bool = True) -> list[Example]:
    """One example per answerable question whose answer starts in one unit (see the module
    doc); negatives drawn per question from the seed, so a run is reproducible."""
    units = squad_units(dataset, split="train", segmenter=config.segmenter, quiet=quiet)
    distractors = (stress_set(dataset, seed=config.seed, segmenter=config.segmenter,
                              quiet=quiet).inserted if config.distractors else {})
    out = []
    for doc, qa in zip(units.owner, units.qas, strict=True):
        gold = answer_start_units(units.spans[doc], qa)
        if len(gold) != 1:
            continue
        text, spans = units.texts[doc], units.spans[doc]
        pos = next(iter(gold))
        others = [text[s:e] for i, (s, e) in enumerate(spans) if i != pos]
        rng = random.Random(f"{config.seed}:{qa.id}")
        negatives = rng.sample(others, min(config.context_negatives, len(others)))
        if qa.id in distractors:
            negatives.append(distractors[qa.id].distractor.text)
        s, e = spans[pos]
        out.append(Example(qa.question, text[s:e], tuple(negatives)))
    return out


@locks_output("out")
def train_static(dataset: SquadDataset, out: Path, config: StaticTrainConfig, *,
                 overwrite: bool = False, quiet: bool = True) -> dict[str, Any]:
    """Fine-tune the base model's vectors on ``dataset`` and save a model2vec folder at ``out``
    (with ``ids_extract_static.json``: the config and what the run cost). Returns the summary."""
    import torch

    if out.exists() and any(p.name != ".lock" for p in out.iterdir()) and not overwrite:
        raise ConfigError(f"{out} is not empty: choose another folder or pass `overwrite`")
    base = load_static(str(static_folder(config.base, quiet=quiet)))
    if base.token_mapping is not None or base.weights is not None:
        raise ConfigError("train-static needs a plain static model (no vocabulary quantisation)")
    data = examples(dataset, config, quiet=quiet)
    if not data:
        raise ConfigError("no training examples: no answer starts in a single sentence")
    torch.manual_seed(config.seed)
    table = torch.nn.EmbeddingBag.from_pretrained(
        torch.tensor(np.asarray(base.embedding, dtype=np.float32)), freeze=False, mode="mean")
    optimizer = torch.optim.Adam(table.parameters(), lr=config.lr)
    losses, start = _loop(table, optimizer, base, data, config, quiet)
    seconds = time.perf_counter() - start
    vectors = table.weight.detach().numpy().astype(np.float32)
    steps = sum(len(epoch) for epoch in losses)
    summary = {"examples": len(data), "steps": steps, "seconds": round(seconds, 1),
               "s_per_step": round(seconds / max(steps, 1), 4),
               "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
               "epoch_loss": [round(float(np.mean(e)), 4) for e in losses if e]}
    _save(base, vectors, out, config, summary)
    return summary


def _loop(table: Any, optimizer: Any, base: Any, data: list[Example], config: StaticTrainConfig,
          quiet: bool) -> tuple[list[list[float]], float]:
    """The epochs of shuffled batches (at most ``max_steps`` in all); returns the loss of each
    step, per epoch, and the start time."""
    from ...progress import track

    rng = random.Random(config.seed)
    batches: list[tuple[int, list[int]]] = []
    for epoch in range(config.epochs):
        order = list(range(len(data)))
        rng.shuffle(order)
        batches += [(epoch, order[i:i + config.batch_size])
                    for i in range(0, len(order), config.batch_size)]
    batches = batches[:config.max_steps] if config.max_steps else batches
    losses: list[list[float]] = [[] for _ in range(config.epochs)]
    start = time.perf_counter()
    for epoch, batch in track(batches, "training", len(batches), quiet):
        optimizer.zero_grad()
        loss = _loss(table, base, [data[i] for i in batch], config.temperature)
        loss.backward()
        optimizer.step()
        losses[epoch].append(float(loss.item()))
    return losses, start


def _loss(table: Any, base: Any, batch: list[Example], temperature: float) -> Any:
    """InfoNCE over the batch's positives and each question's own hard negatives (padded, the
    padding masked out)."""
    import torch

    n = len(batch)
    width = max(len(e.negatives) for e in batch)
    texts = [e.question for e in batch] + [e.positive for e in batch]
    texts += [neg for e in batch for neg in e.negatives]
    vectors = _embed(table, base, texts)
    q, p, flat = vectors[:n], vectors[n:2 * n], vectors[2 * n:]
    hard = torch.zeros(n, max(width, 1), q.shape[1])
    mask = torch.ones(n, max(width, 1), dtype=torch.bool)
    at = 0
    for i, e in enumerate(batch):
        k = len(e.negatives)
        hard[i, :k] = flat[at:at + k]
        mask[i, :k] = False
        at += k
    logits = torch.cat([q @ p.T, torch.einsum("nd,nkd->nk", q, hard).masked_fill(mask, -1e4)], 1)
    return torch.nn.functional.cross_entropy(logits / temperature, torch.arange(n))


def _embed(table: Any, base: Any, texts: list[str]) -> Any:
    """Unit-length mean token vectors, as ``StaticModel.encode`` computes them."""
    import torch

    ids = base.tokenize(texts)
    flat = torch.tensor([t for row in ids for t in row], dtype=torch.long)
    offsets = torch.tensor(np.cumsum([0] + [len(row) for row in ids[:-1]]), dtype=torch.long)
    return torch.nn.functional.normalize(table(flat, offsets), dim=1, eps=1e-12)


def _save(base: Any, vectors: np.ndarray, out: Path, config: StaticTrainConfig,
          summary: dict[str, Any]) -> None:
    """The trained table as a model2vec folder, with the run's record beside the weights."""
    from model2vec import StaticModel

    trained = StaticModel(vectors=vectors, tokenizer=base.tokenizer, config=dict(base.config),
                          normalize=True, base_model_name=base.base_model_name,
                          language=base.language)
    save_static(trained, out, base="ids-extract train-static")
    write_json({"config": asdict(config), "summary": summary}, out / META_FILE)
