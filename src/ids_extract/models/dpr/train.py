"""Train our own DPR-style dual encoder for sentence ranking (``ids-extract train-retriever``).

Two encoders start as copies of one backbone (default all-MiniLM-L6-v2) and are trained apart:
E_Q for questions, E_P for sentences, score = E_Q(q) · E_P(s). A step takes a few whole contexts;
each question's candidates are every sentence of the step: the other sentences of its own context
(hard negatives: what the extractor must tell apart) and those of the other contexts (in-batch
negatives). The loss is the softmax cross-entropy of the answer sentence over those dot products.

Units and labels come from :func:`ids_extract.squad.units.segment` with ``split="train"`` (answer-crossing
sentences merged), so the trained encoder ranks the same units the extractor ranks; the label is
the unit holding the answer start. The optimisation loop, seeds, mixed precision, checkpoints and
resume are the transformers :class:`~transformers.Trainer`'s; only the evaluation (top-1 recall on
a held-out slice of the *training* file) is ours. The result is saved as an HF DPR pair that the
``dpr`` scorer loads.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ... import defaults
from ...errors import ConfigError
from ...files import fingerprint, locks_output
from ...progress import console
from ...squad.model import SquadDataset
from ...squad.read import load
from ...squad.units import squad_units
from .. import training
from ..hub import default_sbert_model, model_id, resolve_model, transformer_folder
from ..runtime import autocast, pick_device, pick_precision, warmup_steps
from ..training import (
    CHECKPOINTS,
    common_arguments,
    finish_run,
    identity,
    own_progress,
    plan_run,
)
from .pair import (
    POOLINGS,
    Passage,
    Pooling,
    dpr_pair_from_bert,
    embed,
    passages,
    read_meta,
    save_pair,
    tokenize,
)


@dataclass
class Group:
    """One context: its sentence units, and its questions with the index of the answer unit."""

    sentences: list[str]
    questions: list[str]
    labels: list[int]


@dataclass
class TrainConfig:
    """Everything that determines the trained pair (saved with it; resume requires the same)."""

    train_file: str
    backbone: str | None = None
    pooling: str = "mean"
    epochs: float = 3.0
    contexts_per_step: int = 8
    learning_rate: float = 5e-5
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_question_length: int = 64
    max_passage_length: int = 128
    passage_context: int = 0
    heldout_questions: int = 500
    eval_steps: int = 200
    save_steps: int = 200
    seed: int = 42
    precision: str = "auto"
    segmenter: str = defaults.SEGMENTER
    limit: int | None = None

    def run_config(self) -> dict[str, Any]:
        """What identifies the run (:mod:`ids_extract.models.training`): every setting, the
        backbone by content and the training file by content, not where either lives."""
        d = asdict(self)
        d["train_file"] = fingerprint(self.train_file)
        d["backbone"] = model_id(transformer_folder(resolve_model(self.backbone)))
        return d


@dataclass
class TrainSummary:
    out: str
    train_questions: int
    heldout_questions: int
    steps: int
    wall_s: float
    peak_rss_mib: float
    heldout_top1: list[dict[str, float]] = field(default_factory=list)
    resumed_from: str | None = None
    reused: bool = False


# ------------------------------------------------------------------------------------ data


def build_groups(dataset: SquadDataset, segmenter: str = defaults.SEGMENTER, quiet: bool = True,
                 negatives: Mapping[str, Sequence[str]] | None = None,
                 ) -> tuple[list[Group], list[str]]:
    """Contexts with their questions and answer units, in file order; the titles of each group's
    article come back alongside (for holding out whole articles). ``negatives`` (question id →
    sentences, e.g. distractors) are added to the question's group as sentences no question
    answers from: hard negatives for every question of the step."""
    units = squad_units(dataset, "train", segmenter, quiet=quiet)
    groups: dict[int, Group] = {}
    for p, qa in zip(units.owner, units.qas, strict=True):
        if qa.is_impossible or not qa.answers:
            continue
        start = qa.answers[0].answer_start
        label = next(i for i, (s, e) in enumerate(units.spans[p]) if s <= start < e)
        if p not in groups:
            groups[p] = Group(units.unit_texts(p), [], [])
        groups[p].questions.append(qa.question)
        groups[p].labels.append(label)
        groups[p].sentences.extend((negatives or {}).get(qa.id, ()))
    order = sorted(groups)
    return [groups[p] for p in order], [units.titles[p] for p in order]


def split_heldout(groups: Sequence[Group], titles: Sequence[str],
                  n_questions: int) -> tuple[list[Group], list[Group]]:
    """Hold out whole articles from the end of the file until ``n_questions`` are held out, so no
    held-out context shares an article with a training one."""
    if n_questions <= 0:
        return list(groups), []
    cut, count = len(groups), 0
    while cut > 0 and count < n_questions:
        title = titles[cut - 1]
        while cut > 0 and titles[cut - 1] == title:
            cut -= 1
            count += len(groups[cut].questions)
    if cut == 0:
        raise ConfigError(f"held-out slice of {n_questions} questions leaves nothing to train on")
    return list(groups[:cut]), list(groups[cut:])


class Collator:
    """Tokenises a step's contexts: all their sentences once (each with its ``context``
    preceding sentences as a second segment when ``context`` > 0), all their questions, and the
    index of each question's answer unit among the step's sentences."""

    def __init__(self, q_tokenizer: Any, p_tokenizer: Any, max_q: int, max_p: int,
                 context: int = 0) -> None:
        self.q_tokenizer, self.p_tokenizer, self.max_q, self.max_p = q_tokenizer, p_tokenizer, max_q, max_p
        self.context = context

    def __call__(self, groups: Sequence[Group]) -> dict[str, Any]:
        import torch

        inputs: list[str | Passage] = []
        questions: list[str] = []
        labels: list[int] = []
        for g in groups:
            labels.extend(len(inputs) + i for i in g.labels)
            questions.extend(g.questions)
            inputs.extend(passages(g.sentences, self.context))
        q = self.q_tokenizer(questions, padding=True, truncation=True, max_length=self.max_q,
                             return_tensors="pt")
        p = tokenize(self.p_tokenizer, inputs, self.max_p)
        batch = {"q_input_ids": q["input_ids"], "q_attention_mask": q["attention_mask"],
                 "p_input_ids": p["input_ids"], "p_attention_mask": p["attention_mask"],
                 "labels": torch.tensor(labels, dtype=torch.long)}
        if self.context and "token_type_ids" in p:   # which segment is the sentence
            batch["p_token_type_ids"] = p["token_type_ids"]
        return batch


# ------------------------------------------------------------------------------------ model


def dual_encoder(question_encoder: Any, ctx_encoder: Any, pooling: Pooling) -> Any:
    """The two encoders in one module whose forward returns the in-batch softmax loss."""
    import torch
    from torch import nn

    class DualEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.question_encoder = question_encoder
            self.ctx_encoder = ctx_encoder
            self.pooling = pooling

        def forward(self, q_input_ids: Any, q_attention_mask: Any, p_input_ids: Any,
                    p_attention_mask: Any, labels: Any = None,
                    p_token_type_ids: Any = None) -> dict[str, Any]:
            """Dot products of every question with every sentence of the step, and the
            softmax loss of each question's answer sentence among them."""
            q = embed(self.question_encoder, q_input_ids, q_attention_mask, self.pooling).float()
            p = embed(self.ctx_encoder, p_input_ids, p_attention_mask, self.pooling,
                      p_token_type_ids).float()
            scores = q @ p.T
            out: dict[str, Any] = {"scores": scores}
            if labels is not None:
                out["loss"] = torch.nn.functional.cross_entropy(scores, labels)
            return out

    return DualEncoder()


def heldout_top1(model: Any, collator: Collator, groups: Sequence[Group], device: str,
                 precision: str, contexts_per_batch: int = 32) -> float:
    """Top-1 recall (%) of the answer unit among the sentences of each question's own context."""
    import torch

    if not groups:
        return float("nan")
    was_training = model.training
    model.eval()
    hits = total = 0
    with torch.inference_mode(), autocast(device, precision):
        for i in range(0, len(groups), contexts_per_batch):
            chunk = groups[i:i + contexts_per_batch]
            batch = {k: v.to(device) for k, v in collator(chunk).items()}
            scores = model(**{k: v for k, v in batch.items() if k != "labels"})["scores"]
            start = 0
            q = 0
            for g in chunk:
                own = scores[q:q + len(g.questions), start:start + len(g.sentences)]
                best = own.argmax(dim=1).cpu().numpy()
                hits += int((best == np.asarray(g.labels)).sum())
                total += len(g.questions)
                q += len(g.questions)
                start += len(g.sentences)
    model.train(was_training)
    return 100.0 * hits / total


# ------------------------------------------------------------------------------------ training


@locks_output("out")
def train_retriever(config: TrainConfig, out: str | Path, *, device: str = "auto",
                    quiet: bool = False, overwrite: bool = False, keep_checkpoints: bool = False,
                    groups: Sequence[Group] | None = None) -> TrainSummary:
    """Train (or resume, or reuse a finished) dual encoder into ``out``; returns the summary that
    is also written to ``out/ids_extract_dpr.json``. ``groups`` (e.g. with hard negatives added)
    replace the ones built from ``config.train_file``, and then nothing is held out: the caller
    measures on data of its own."""
    out = Path(out)
    if config.pooling not in POOLINGS:
        raise ConfigError(f"pooling {config.pooling!r}: choose from {', '.join(POOLINGS)}")
    run_config = config.run_config()
    if groups is not None:
        run_config["train_file"] = training.data_fingerprint([asdict(g) for g in groups])
        run_config["heldout_questions"] = 0
    # read (and so checked) before anything is written: bad input leaves no folder behind
    dataset = load(config.train_file).limit(config.limit) if groups is None else None
    meta = read_meta(out)
    finished = (meta.get("run_config") or {"unknown": "trained before run configs were recorded"}
                if meta else None)
    plan = plan_run(out, run_config, finished=finished, overwrite=overwrite)
    if plan.action == "skip":
        return TrainSummary(**{**meta["summary"], "reused": True})
    start_time = time.perf_counter()
    device = pick_device(device)
    precision = pick_precision(config.precision, device)
    if dataset is not None:
        built, titles = build_groups(dataset, config.segmenter, quiet)
        train_groups, heldout = split_heldout(built, titles, config.heldout_questions)
    else:
        assert groups is not None
        train_groups, heldout = list(groups), []
    q_enc, c_enc, tokenizer = dpr_pair_from_bert(config.backbone or default_sbert_model())
    model = dual_encoder(q_enc, c_enc, config.pooling)  # type: ignore[arg-type]
    collator = Collator(tokenizer, tokenizer, config.max_question_length, config.max_passage_length,
                        config.passage_context)
    trainer = _trainer(model, collator, train_groups, heldout, config, out / CHECKPOINTS,
                       device, precision, quiet)
    resume = plan.resume_from
    trainer.train(resume_from_checkpoint=resume)
    top1 = [{"step": float(h["step"]), "top1": float(h["eval_top1"])}
            for h in trainer.state.log_history if "eval_top1" in h]
    final = heldout_top1(model, collator, heldout, device, precision)
    if heldout and (not top1 or top1[-1]["step"] != trainer.state.global_step):
        top1.append({"step": float(trainer.state.global_step), "top1": final})
    summary = TrainSummary(
        out=str(out), train_questions=sum(len(g.questions) for g in train_groups),
        heldout_questions=sum(len(g.questions) for g in heldout),
        steps=int(trainer.state.global_step), wall_s=round(time.perf_counter() - start_time, 1),
        peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        heldout_top1=top1, resumed_from=resume)
    meta = {"pooling": config.pooling, "passage_context": config.passage_context,
            "max_question_length": config.max_question_length,
            "max_passage_length": config.max_passage_length, "score": "dot", "device": device,
            "precision": precision, "run_config": identity(run_config), "summary": asdict(summary)}
    save_pair(model.question_encoder, model.ctx_encoder, tokenizer, out, meta)
    finish_run(out, keep_checkpoints)
    return summary


def _trainer(model: Any, collator: Collator, train_groups: list[Group], heldout: list[Group],
             config: TrainConfig, checkpoints: Path, device: str, precision: str,
             quiet: bool) -> Any:
    from transformers import Trainer, TrainingArguments

    class RetrieverTrainer(Trainer):
        """Evaluation = top-1 recall of the answer unit on the held-out slice (no eval loss)."""

        def evaluate(self, eval_dataset: Any = None, ignore_keys: Any = None,
                     metric_key_prefix: str = "eval") -> dict[str, float]:
            """Held-out top-1 recall instead of a loss: what the scorer is for."""
            metrics = {f"{metric_key_prefix}_top1": heldout_top1(self.model, collator, heldout,
                                                                   device, precision)}
            self.log(metrics)
            self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control,
                                                             metrics)
            if not quiet:
                console.print(f"step {self.state.global_step}: held-out top-1 "
                              f"{metrics[f'{metric_key_prefix}_top1']:.2f} %")
            return metrics

    args = TrainingArguments(
        output_dir=str(checkpoints), per_device_train_batch_size=config.contexts_per_step,
        num_train_epochs=config.epochs, learning_rate=config.learning_rate,
        warmup_steps=warmup_steps(config.warmup, len(train_groups), config.contexts_per_step,
                                  config.epochs),
        weight_decay=config.weight_decay, lr_scheduler_type="linear",
        eval_strategy="steps" if heldout else "no", eval_steps=config.eval_steps,
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=2,
        logging_steps=max(1, min(50, config.eval_steps)), remove_unused_columns=False,
        include_num_input_tokens_seen="no",
        **common_arguments(device, precision, config.seed, quiet),
    )
    trainer = RetrieverTrainer(model=model, args=args, train_dataset=train_groups,
                               eval_dataset=heldout or None, data_collator=collator)
    own_progress(trainer, quiet)
    return trainer
