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
from ..runtime import pick_device, pick_precision, warmup_steps
from .features import ReaderConfig, examples_of, train_features
from .folder import CHECKPOINTS, backbone_path, load_model, read_meta, save_meta


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
) -> TrainSummary:
    """Fine-tune ``init`` on ``train`` and save model, tokenizer and ``reader.json`` in
    ``out_dir``. Checkpoints go to ``out_dir/checkpoints``; re-running resumes from the last
    one, and a finished folder (``reader.json`` present) is left as it is."""
    out = Path(out_dir)
    meta = read_meta(out)
    if meta and not overwrite:
        return TrainSummary(**{**meta["summary"], "skipped": True})
    reader_cfg.version2 = reader_cfg.version2 or train.is_v2
    from transformers import set_seed

    set_seed(train_cfg.seed)  # before the model: a fresh QA head is drawn from the seeded RNG
    model, tokenizer = load_model(init)
    reader_cfg.check(tokenizer.num_special_tokens_to_add(pair=True))
    examples = examples_of(train)
    if not examples:
        raise ConfigError(f"{train.source}: no training questions")
    columns = train_features(tokenizer, examples, reader_cfg, quiet=quiet)
    trainer, device, precision = _trainer(model, tokenizer, columns, out, train_cfg, quiet)
    last = _last_checkpoint(out / CHECKPOINTS)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - start
    summary = TrainSummary(
        str(out), len(examples), len(columns["input_ids"]), int(result.global_step), seconds,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, _peak_gpu_mb(), precision,
        device, last)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    save_meta(out, {"reader": asdict(reader_cfg), "training": asdict(train_cfg),
                    "init": backbone_path(init), "train_source": train.source,
                    "summary": summary.to_dict()})
    return summary


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
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        seed=cfg.seed, data_seed=cfg.seed, save_strategy="steps", save_steps=cfg.save_steps,
        save_total_limit=1, logging_steps=cfg.logging_steps, report_to="none",
        use_cpu=device == "cpu", bf16=precision == "bf16", fp16=precision == "fp16",
        disable_tqdm=quiet, dataloader_num_workers=0, log_level="error" if quiet else "warning",
    )
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict(columns),
                      processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8))
    if quiet:  # without tqdm the Trainer prints every log dict to stdout
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    return trainer, device, precision


def _last_checkpoint(folder: Path) -> str | None:
    if not folder.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder))


def _peak_gpu_mb() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return float(torch.cuda.max_memory_allocated()) / 2**20
