"""Training a reader with the transformers ``Trainer`` (seeds, mixed precision, checkpoints, resume
are the Trainer's); the folder it writes is :mod:`.folder`'s format."""

from __future__ import annotations

import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...squad.model import SquadDataset
from ..hub import model_id
from ..runtime import keep_first_layers, pick_device, pick_precision, warmup_steps
from ..training import (
    CHECKPOINTS,
    common_arguments,
    data_fingerprint,
    finish_run,
    identity,
    plan_run,
    quiet_trainer,
)
from .features import ReaderConfig, examples_of, train_features
from .folder import backbone_path, load_model, read_meta, save_meta


@dataclass
class TrainConfig:
    """Trainer settings; ``max_steps > 0`` overrides ``epochs``."""

    epochs: float = 2.0
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_steps: int = -1
    seed: int = 42
    device: str = "auto"
    precision: str = "auto"  # bf16 on CPUs with native bf16, fp16 on CUDA, else fp32
    save_steps: int = 500
    logging_steps: int = 50
    init_layers: int | None = None  # keep the first K transformer layers of the backbone


@dataclass
class TrainSummary:
    out_dir: str
    examples: int
    features: int
    steps: int
    train_seconds: float
    peak_rss_mb: float
    peak_gpu_mb: float | None
    precision: str
    device: str
    resumed_from: str | None
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_reader(
    train: SquadDataset,
    init: str | None,
    out_dir: str | Path,
    reader_cfg: ReaderConfig,
    train_cfg: TrainConfig,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    keep_checkpoints: bool = False,
) -> TrainSummary:
    """Fine-tune ``init`` on ``train`` and save model, tokenizer and ``reader.json`` in
    ``out_dir``. Checkpoints go to ``out_dir/checkpoints``; re-running the same run resumes from
    the last one or, when finished, does nothing; another config is refused unless ``overwrite``
    (see :mod:`ids_extract.models.training`)."""
    out = Path(out_dir)
    reader_cfg.version2 = reader_cfg.version2 or train.is_v2
    examples = examples_of(train)
    if not examples:
        raise ConfigError(f"{train.source}: no training questions")
    backbone = backbone_path(init)
    config = {"reader": asdict(reader_cfg), "training": asdict(train_cfg),
              "init": model_id(backbone),
              "data": data_fingerprint([asdict(e) for e in examples])}
    meta = read_meta(out)
    plan = plan_run(out, config, finished=_recorded(meta), overwrite=overwrite)
    if plan.action == "skip":
        return TrainSummary(**{**meta["summary"], "skipped": True})
    from transformers import set_seed

    set_seed(train_cfg.seed)  # before the model: a fresh QA head is drawn from the seeded RNG
    model, tokenizer = load_model(init)
    keep_first_layers(model, train_cfg.init_layers)
    reader_cfg.check(tokenizer.num_special_tokens_to_add(pair=True))
    columns = train_features(tokenizer, examples, reader_cfg, quiet=quiet)
    trainer, device, precision = _trainer(model, tokenizer, columns, out, train_cfg, quiet)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=plan.resume_from)
    seconds = time.perf_counter() - start
    summary = TrainSummary(
        str(out), len(examples), len(columns["input_ids"]), int(result.global_step), seconds,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, _peak_gpu_mb(), precision,
        device, plan.resume_from)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    save_meta(out, {"reader": asdict(reader_cfg), "training": asdict(train_cfg),
                    "init": backbone, "train_source": train.source,
                    "run_config": identity(config), "summary": summary.to_dict()})
    finish_run(out, keep_checkpoints)
    return summary


def _recorded(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The run config of a finished reader (one written before run configs were recorded is a
    run of unknown config)."""
    if not meta:
        return None
    return dict(meta.get("run_config") or {"unknown": "trained before run configs were recorded"})


def _trainer(model: Any, tokenizer: Any, columns: dict[str, list[Any]], out: Path,
             cfg: TrainConfig, quiet: bool) -> tuple[Any, str, str]:
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    device = pick_device(cfg.device)
    precision = pick_precision(cfg.precision, device)
    args = TrainingArguments(
        output_dir=str(out / CHECKPOINTS), per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate, weight_decay=cfg.weight_decay,
        warmup_steps=warmup_steps(cfg.warmup_ratio, len(columns["input_ids"]), cfg.batch_size,
                                  cfg.epochs, cfg.max_steps),
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps, save_strategy="steps",
        save_steps=cfg.save_steps, save_total_limit=1, logging_steps=cfg.logging_steps,
        **common_arguments(device, precision, cfg.seed, quiet),
    )
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict(columns),
                      processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8))
    if quiet:
        quiet_trainer(trainer)
    return trainer, device, precision


def _peak_gpu_mb() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return float(torch.cuda.max_memory_allocated()) / 2**20
