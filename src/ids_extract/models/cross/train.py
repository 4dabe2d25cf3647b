"""Training the cross-encoder on the sentence units of a QA training file.

Each question is one softmax over its candidates: the unit that holds its answer and the other
units of its context (the very choice the extractor makes; with a distractor inserted into the
context, that distractor is one of them: the hard negative it must learn to refuse). The loss is
the cross-entropy of the answer unit among them (listwise, as the dual encoder's); written here in
``compute_loss`` because transformers has no listwise loss for sequence classifiers. The loop,
seeds, mixed precision, checkpoints and resume are the transformers :class:`~transformers.Trainer`'s,
and the run is planned by :mod:`ids_extract.models.training` (same config: skip or resume; another:
refused unless ``overwrite``).
"""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...files import locks_output
from ...squad.units import SquadUnits
from .. import training as runs
from ..hub import model_id, resolve_model, transformer_folder
from ..runtime import keep_first_layers, pick_device, pick_precision, warmup_steps
from .folder import (
    InputFormat,
    candidate_text,
    encode,
    fit_to,
    from_backbone,
    read_meta,
    save_cross,
)


@dataclass
class Group:
    """One question: its context's units, which of them it is scored on (``candidates``) and
    the position of the answer unit among the candidates."""

    question: str
    sentences: list[str]
    candidates: list[int]
    label: int
    #: a teacher's logits of the candidates (distillation), in the order of ``candidates``
    targets: list[float] | None = None


@dataclass
class TrainConfig:
    """Everything that determines the trained model (``max_steps > 0`` overrides ``epochs``)."""

    epochs: float = 1.0
    max_steps: int = -1
    questions_per_step: int = 16
    max_candidates: int = 4
    init_layers: int | None = None  # keep the first K layers of the backbone (L4: ~2/3 the cost)
    learning_rate: float = 5e-5
    warmup: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42
    precision: str = "auto"
    device: str = "auto"
    save_steps: int = 200
    #: with teacher logits in the groups: the share of the loss that is the distillation term
    #: (the rest is the cross-entropy of the answer), and the softmax temperature of both sides
    distill_weight: float = 0.5
    temperature: float = 1.0


@dataclass
class TrainSummary:
    out: str
    questions: int
    pairs: int
    steps: int
    wall_s: float
    peak_rss_mib: float
    resumed_from: str | None = None
    reused: bool = False


def build_groups(units: SquadUnits, max_candidates: int, seed: int = 42,
                 ranked: Sequence[Any] | None = None,
                 must: Sequence[int | None] | None = None) -> list[Group]:
    """One group per answerable question of ``units`` (a training split: answer-crossing units
    merged), scored on at most ``max_candidates`` of its context's units, in context order: the
    answer unit, the unit ``must[q]`` when given (the question's distractor: the hard negative),
    then the best others of the cheap ranking ``ranked[q]`` (what a cascade would hand the
    cross-encoder at extraction), or a seeded sample of the others without a ranking."""
    rng = random.Random(seed)
    groups = []
    for q, (p, qa) in enumerate(zip(units.owner, units.qas, strict=True)):
        if qa.is_impossible or not qa.answers:
            continue
        start = qa.answers[0].answer_start
        spans = units.spans[p]
        answer = next((i for i, (s, e) in enumerate(spans) if s <= start < e), None)
        if answer is None or len(spans) < 2:
            continue
        first = [i for i in (must[q] if must else None,) if i is not None and i != answer]
        others = [i for i in (ranked[q] if ranked else range(len(spans)))
                  if i != answer and i not in first]
        room = max(max_candidates - 1 - len(first), 0)
        if ranked:
            others = [int(i) for i in others[:room]]
        elif len(others) > room:
            others = rng.sample(others, room)
        candidates = sorted([answer, *first[:max_candidates - 1], *others])
        groups.append(Group(qa.question, units.unit_texts(p), candidates,
                            candidates.index(answer)))
    return groups


def teacher_logits(groups: Sequence[Group], teacher: str | Path, *, device: str = "auto",
                   batch_size: int = 64, quiet: bool = False) -> list[Group]:
    """``groups`` with the logits of a trained cross-encoder (the ``teacher`` folder) on each
    candidate, read in the teacher's own input format: what a student learns from
    (:func:`listwise_loss` with targets). Pairs run in batches of similar length."""
    from ...progress import Meter
    from ..runtime import length_batches
    from .folder import load_cross

    # fp32 in ONNX Runtime: the logits of the torch model (to ~1e-5), faster on a CPU
    cross = load_cross(str(teacher), device, backend="auto", precision="fp32")
    sep = cross.tokenizer.sep_token
    pairs = [(g.question, candidate_text(g.sentences, i, cross.fmt, sep))
             for g in groups for i in g.candidates]
    logits = np.zeros(len(pairs), dtype=np.float32)
    batches = list(length_batches([len(q) + len(t) for q, t in pairs], batch_size))
    with Meter("teacher", len(pairs), quiet) as meter:

        def run(idx: np.ndarray) -> None:
            logits[idx] = cross.logits([pairs[j][0] for j in idx], [pairs[j][1] for j in idx])
            meter.advance(len(idx))

        if cross.graph is not None:
            cross.graph.each(batches, run)  # one single-threaded session per core
        else:
            for idx in batches:
                run(idx)
    out, at = [], 0
    for g in groups:
        n = len(g.candidates)
        out.append(replace(g, targets=[round(float(x), 4) for x in logits[at:at + n]]))
        at += n
    return out


class Collator:
    """A step's questions: every candidate as a (question, candidate text) pair, the number of
    candidates of each question, and the index of each question's answer among them."""

    def __init__(self, tokenizer: Any, fmt: InputFormat) -> None:
        self.tokenizer, self.fmt = tokenizer, fmt

    def __call__(self, groups: Sequence[Group]) -> dict[str, Any]:
        import torch

        questions, texts = [], []
        for g in groups:
            for i in g.candidates:
                questions.append(g.question)
                texts.append(candidate_text(g.sentences, i, self.fmt, self.tokenizer.sep_token))
        batch = dict(encode(self.tokenizer, questions, texts, self.fmt))
        batch["group_sizes"] = torch.tensor([len(g.candidates) for g in groups])
        batch["answer"] = torch.tensor([g.label for g in groups])
        if all(g.targets is not None for g in groups):
            batch["targets"] = torch.tensor([t for g in groups for t in g.targets or []])
        return batch


def listwise_loss(logits: Any, sizes: Any, answer: Any, targets: Any = None,
                  distill_weight: float = 0.5, temperature: float = 1.0) -> Any:
    """Cross-entropy of each question's answer among its own candidates; with a teacher's
    ``targets`` (pairs,), mixed with the KL divergence of the student's softmax over the
    candidates from the teacher's (listwise distillation: the student learns how the teacher
    orders every candidate, not only which one is the answer).

    ``logits``: (pairs,) one score per pair, questions one after another; ``sizes``: (questions,)
    candidates per question; ``answer``: (questions,) index of the answer within its question."""
    import torch

    student = _padded(logits, sizes)                          # (questions, width)
    hard = torch.nn.functional.cross_entropy(student, answer)
    if targets is None:
        return hard
    teacher = _padded(targets, sizes)                         # (questions, width)
    t = temperature
    soft = torch.nn.functional.kl_div(
        torch.log_softmax(student / t, -1).masked_fill(teacher.isinf(), 0.0),
        torch.softmax(teacher / t, -1), reduction="batchmean") * t * t
    return distill_weight * soft + (1.0 - distill_weight) * hard


def _padded(values: Any, sizes: Any) -> Any:
    """(questions, width): each question's values, padded with -inf where it has fewer
    candidates than the widest."""
    import torch

    width = int(sizes.max())
    padded = torch.full((len(sizes), width), float("-inf"), device=values.device)
    column = torch.arange(width, device=values.device).expand(len(sizes), width)
    padded[column < sizes.unsqueeze(1)] = values.float()
    return padded


@locks_output("out")
def train_cross(groups: Sequence[Group], out: str | Path, *, backbone: str | None = None,
                fmt: InputFormat | None = None, config: TrainConfig | None = None,
                overwrite: bool = False, quiet: bool = False,
                keep_checkpoints: bool = False) -> TrainSummary:
    """Train (or resume, or reuse a finished) cross-encoder into ``out`` from ``backbone``
    (default all-MiniLM-L6-v2 with a fresh one-logit head)."""
    out, fmt, config = Path(out), (fmt or InputFormat()).check(), config or TrainConfig()
    if not groups:
        raise ConfigError("cross-encoder: no training question has an answer unit and another "
                          "unit to tell it from")
    start_model = transformer_folder(resolve_model(backbone))
    fmt = fit_to(fmt, _model_config(start_model))
    run_config = {"format": asdict(fmt), "training": asdict(config),
                  "init": model_id(start_model),
                  "data": runs.data_fingerprint([asdict(g) for g in groups])}
    meta = read_meta(out)
    finished = (meta.get("run_config") or {"unknown": "no run config recorded"}) if meta else None
    plan = runs.plan_run(out, run_config, finished=finished, overwrite=overwrite)
    if plan.action == "skip":
        return TrainSummary(**{**meta["summary"], "reused": True})
    from transformers import set_seed

    set_seed(config.seed)  # before the model: the fresh head is drawn from the seeded RNG
    began = time.perf_counter()
    model, tokenizer = from_backbone(start_model)
    keep_first_layers(model, config.init_layers)
    trainer = _trainer(model, Collator(tokenizer, fmt), list(groups), out, config, quiet)
    trainer.train(resume_from_checkpoint=plan.resume_from)
    summary = TrainSummary(
        str(out), len(groups), sum(len(g.candidates) for g in groups),
        int(trainer.state.global_step), round(time.perf_counter() - began, 1),
        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), plan.resume_from)
    save_cross(trainer.model, tokenizer, out, fmt,
               {"run_config": runs.identity(run_config), "summary": asdict(summary)})
    runs.finish_run(out, keep_checkpoints)
    return summary


def _model_config(folder: str) -> Any:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(folder)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot build a cross-encoder from {folder!r}: {err}") from None


def _trainer(model: Any, collator: Collator, groups: list[Group], out: Path, cfg: TrainConfig,
             quiet: bool) -> Any:
    from transformers import Trainer, TrainingArguments

    class ListwiseTrainer(Trainer):
        """The Trainer with the listwise loss over each question's candidates."""

        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            """One forward over every pair of the step; one softmax per question."""
            sizes, answer = inputs.pop("group_sizes"), inputs.pop("answer")
            targets = inputs.pop("targets", None)
            outputs = model(**inputs)
            loss = listwise_loss(outputs.logits.squeeze(-1), sizes, answer, targets,
                                 cfg.distill_weight, cfg.temperature)
            return (loss, outputs) if return_outputs else loss

    device = pick_device(cfg.device)
    precision = pick_precision(cfg.precision, device)
    args = TrainingArguments(
        output_dir=str(out / runs.CHECKPOINTS), per_device_train_batch_size=cfg.questions_per_step,
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps, learning_rate=cfg.learning_rate,
        warmup_steps=warmup_steps(cfg.warmup, len(groups), cfg.questions_per_step, cfg.epochs,
                                  cfg.max_steps),
        weight_decay=cfg.weight_decay, lr_scheduler_type="linear", save_strategy="steps",
        save_steps=cfg.save_steps, save_total_limit=1, logging_steps=50,
        remove_unused_columns=False, **runs.common_arguments(device, precision, cfg.seed, quiet))
    trainer = ListwiseTrainer(model=model, args=args, train_dataset=groups, data_collator=collator)
    runs.own_progress(trainer, quiet)
    return trainer
