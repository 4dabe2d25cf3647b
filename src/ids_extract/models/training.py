"""One training run per output folder: what every trainer (reader, dual encoder, classifier, …)
shares around the transformers ``Trainer``.

A run is identified by its **config** (every setting that changes the weights, the starting model
by content hash, the training data by fingerprint). The config is written to
``checkpoints/run_config.json`` before the first step and into the finished model's metadata, and
:func:`plan_run` compares it with what a folder holds:

- a finished model of the same config: nothing to do (re-running is a no-op);
- checkpoints of the same config (an interrupted run, even ``kill -9``): resume from the last one;
- anything of another config: refused with the settings that differ, unless ``overwrite`` (then the
  folder's model and checkpoints are removed first). A re-run with other settings therefore never
  resumes or reuses a run that did not have them, and a record never describes a run that did not
  happen.

:func:`finish_run` removes the checkpoints (an optimizer state is twice the model) unless asked to
keep them, and gives the saved files the permissions the umask says (transformers writes 0600).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import umask, write_json
from .runtime import pick_device, pick_precision, warmup_steps

CHECKPOINTS = "checkpoints"
RUN_CONFIG = "run_config.json"
#: settings that change how a run is carried out, not what it learns
NOT_IDENTITY = ("device", "save_steps", "logging_steps", "eval_steps", "keep_checkpoints")


@dataclass
class TrainConfig:
    """Trainer settings of the models trained on features (readers, classifiers);
    ``max_steps > 0`` overrides ``epochs``."""

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
    """What a finished run reports and its folder records (``skipped``: it was already there)."""

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


@dataclass(frozen=True)
class RunPlan:
    """``skip`` (a finished model of this config is there) or ``train`` (from ``resume_from``, a
    checkpoint of this config, or from scratch when None)."""

    action: str
    resume_from: str | None = None


def identity(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config without the settings of :data:`NOT_IDENTITY`, at any depth, as JSON values."""
    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: clean(v) for k, v in value.items() if k not in NOT_IDENTITY}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value
    cleaned: dict[str, Any] = json.loads(json.dumps(clean(config), default=str))
    return cleaned


def plan_run(out: Path, config: Mapping[str, Any], *, finished: Mapping[str, Any] | None,
             overwrite: bool) -> RunPlan:
    """What to do in ``out`` for a run of ``config``; ``finished`` is the run config recorded in
    a finished model there (None when there is none). Raises :class:`ConfigError` on another
    config unless ``overwrite``."""
    wanted = identity(config)
    checkpoints = out / CHECKPOINTS
    if finished is not None:
        if identity(finished) == wanted and not overwrite:
            return RunPlan("skip")
        if not overwrite:
            raise ConfigError(f"{out} holds a model trained with other settings "
                              f"({_differences(identity(finished), wanted)}); use `overwrite` to "
                              "train again, or another `out`")
        _clear(out)
    saved = checkpoints / RUN_CONFIG
    last = _last_checkpoint(checkpoints)
    if last is not None and saved.is_file() and not overwrite:
        previous = json.loads(saved.read_text(encoding="utf-8"))
        if identity(previous) == wanted:
            return RunPlan("train", last)
        raise ConfigError(f"{out} holds checkpoints of an unfinished run with other settings "
                          f"({_differences(identity(previous), wanted)}); use `overwrite` to start "
                          "again, or another `out`")
    if last is not None and not overwrite and not saved.is_file():
        raise ConfigError(f"{out} holds checkpoints of an unknown run; use `overwrite` to start "
                          "again, or another `out`")
    shutil.rmtree(checkpoints, ignore_errors=True)
    checkpoints.mkdir(parents=True)
    write_json(wanted, saved)
    return RunPlan("train")


def finish_run(out: Path, keep_checkpoints: bool = False) -> None:
    """After the model is saved: drop the checkpoints (unless kept) and give every file the
    umask's permissions."""
    if not keep_checkpoints:
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    mode = 0o666 & ~umask()
    for path in out.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.chmod(path, mode)


def _clear(out: Path) -> None:
    """Remove a previous run's model files and checkpoints (``overwrite``); other files stay."""
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    for path in out.iterdir():
        if path.is_file() and path.suffix in (".safetensors", ".bin", ".json", ".txt", ".model"):
            path.unlink()
        elif path.is_dir() and (path / "config.json").is_file():
            shutil.rmtree(path)


def _last_checkpoint(folder: Path) -> str | None:
    if not folder.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder))


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> str:
    """``key: old -> new`` for every setting that differs (nested keys joined by dots)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            inner = _differences(a, b, f"{prefix}{key}.")
            if inner:
                out.append(inner)
        elif a != b:
            out.append(f"{prefix}{key}: {_short(a)} -> {_short(b)}")
    return "; ".join(out)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def common_arguments(device: str, precision: str, seed: int, quiet: bool) -> dict[str, Any]:
    """The ``TrainingArguments`` every trainer here sets the same way (device, mixed precision,
    seeds, quiet logging, no reporting, no worker processes)."""
    return {"use_cpu": not device.startswith("cuda"), "bf16": precision == "bf16",
            "fp16": precision == "fp16", "seed": seed, "data_seed": seed, "report_to": "none",
            "disable_tqdm": True, "dataloader_num_workers": 0,  # bars: own_progress
            "log_level": "error" if quiet else "warning"}


def own_progress(trainer: Any, quiet: bool) -> None:
    """The trainer's progress as the rest of the package shows it (:class:`~ids_extract.
    progress.Meter`: a rich bar on a terminal, a plain line per interval in a log file), not
    transformers' tqdm bars, which write carriage returns with their loss dicts inside into a
    log; each log dict (loss, learning rate) is one plain line. Nothing when ``quiet``."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from transformers.utils import logging as hf_logging

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    hf_logging.disable_progress_bar()  # its own bars (loading, writing shards): tqdm too
    if not quiet:
        trainer.add_callback(_progress_callback())


def _progress_callback() -> Any:
    """A ``TrainerCallback`` that drives a :class:`~ids_extract.progress.Meter` by steps."""
    from transformers import TrainerCallback

    from ..progress import Meter, console

    class StepMeter(TrainerCallback):
        """Steps on the package's meter; the Trainer's logs as plain lines."""

        meter: Meter | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.meter = Meter("training steps", state.max_steps).__enter__()
            self.meter.advance(state.global_step)  # a resumed run starts where it was

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.meter is not None:
                self.meter.advance(state.global_step - self.meter.done)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
                   **kwargs: Any) -> None:
            if logs and state.is_world_process_zero:
                shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                  for k, v in logs.items())
                console.print(f"step {state.global_step}: {shown}", highlight=False,
                              markup=False)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.meter is not None:
                self.meter.__exit__()
                self.meter = None

    return StepMeter()


def data_fingerprint(obj: Any) -> str:
    """A short content hash of JSON-able training data (so another file, or the same file cut
    with another ``limit``, is another run)."""
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def recorded_config(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """The run config a finished model's metadata records (one written before run configs were
    recorded is a run of unknown config; no metadata: no finished model)."""
    if not meta:
        return None
    return dict(meta.get("run_config") or {"unknown": "trained before run configs were recorded"})


def build_trainer(model: Any, tokenizer: Any, columns: dict[str, list[Any]], out: Path,
                  cfg: TrainConfig, quiet: bool,
                  callbacks: Sequence[Any] = ()) -> tuple[Any, str, str]:
    """A ``Trainer`` over feature ``columns`` (padded per batch to a multiple of 8), with
    checkpoints in ``out/checkpoints``; returns it with the device and precision it runs at.
    ``callbacks``: ``TrainerCallback``s (e.g. a learning curve, :mod:`.qa.curve`)."""
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
                      data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8),
                      callbacks=list(callbacks) or None)
    own_progress(trainer, quiet)
    return trainer, device, precision


def train_and_save(trainer: Any, tokenizer: Any, out: Path, plan: RunPlan, examples: int,
                   features: int, device: str, precision: str) -> TrainSummary:
    """Run the trainer (resuming where the plan says), save model and tokenizer in ``out``, and
    measure the run (wall time, peak memory); the caller writes its metadata, then
    :func:`finish_run`."""
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=plan.resume_from)
    seconds = time.perf_counter() - start
    summary = TrainSummary(
        str(out), examples, features, int(result.global_step), seconds,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, peak_gpu_mb(), precision,
        device, plan.resume_from)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    return summary


def peak_gpu_mb() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return float(torch.cuda.max_memory_allocated()) / 2**20
