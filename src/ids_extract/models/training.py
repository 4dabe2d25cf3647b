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
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import umask, write_json

CHECKPOINTS = "checkpoints"
RUN_CONFIG = "run_config.json"
#: settings that change how a run is carried out, not what it learns
NOT_IDENTITY = ("device", "save_steps", "logging_steps", "eval_steps", "keep_checkpoints")


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
                              f"({_differences(identity(finished), wanted)}); use --overwrite to "
                              "train again, or another --out")
        _clear(out)
    saved = checkpoints / RUN_CONFIG
    last = _last_checkpoint(checkpoints)
    if last is not None and saved.is_file() and not overwrite:
        previous = json.loads(saved.read_text(encoding="utf-8"))
        if identity(previous) == wanted:
            return RunPlan("train", last)
        raise ConfigError(f"{out} holds checkpoints of an unfinished run with other settings "
                          f"({_differences(identity(previous), wanted)}); use --overwrite to start "
                          "again, or another --out")
    if last is not None and not overwrite and not saved.is_file():
        raise ConfigError(f"{out} holds checkpoints of an unknown run; use --overwrite to start "
                          "again, or another --out")
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
            "disable_tqdm": quiet, "dataloader_num_workers": 0,
            "log_level": "error" if quiet else "warning"}


def quiet_trainer(trainer: Any) -> None:
    """Without tqdm the Trainer prints every log dict to stdout: drop that printer."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def data_fingerprint(obj: Any) -> str:
    """A short content hash of JSON-able training data (so another file, or the same file cut
    with another ``--limit``, is another run)."""
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]
