"""Training a reader with the transformers ``Trainer`` (seeds, mixed precision, checkpoints, resume
are the Trainer's); the folder it writes is :mod:`.folder`'s format. ``TrainConfig`` and
``TrainSummary`` are :mod:`ids_extract.models.training`'s (shared with the classifier)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...files import locks_output
from ...squad.model import SquadDataset
from ..hub import model_id
from ..runtime import keep_first_layers
from ..training import (
    TrainConfig,
    TrainSummary,
    build_trainer,
    data_fingerprint,
    finish_run,
    identity,
    plan_run,
    recorded_config,
    train_and_save,
)
from .features import ReaderConfig, examples_of, train_features
from .folder import backbone_path, load_model, read_meta, save_meta


@locks_output("out_dir")
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
    callbacks: Sequence[Any] = (),
) -> TrainSummary:
    """Fine-tune ``init`` on ``train`` and save model, tokenizer and ``reader.json`` in
    ``out_dir``. Checkpoints go to ``out_dir/checkpoints``; re-running the same run resumes from
    the last one or, when finished, does nothing; another config is refused unless ``overwrite``
    (see :mod:`ids_extract.models.training`). ``callbacks`` go to the ``Trainer`` (a learning
    curve: :class:`.curve.LearningCurve`)."""
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
    plan = plan_run(out, config, finished=recorded_config(meta), overwrite=overwrite)
    if plan.action == "skip":
        return TrainSummary(**{**meta["summary"], "skipped": True})
    from transformers import set_seed

    set_seed(train_cfg.seed)  # before the model: a fresh QA head is drawn from the seeded RNG
    model, tokenizer = load_model(init)
    keep_first_layers(model, train_cfg.init_layers)
    reader_cfg.check(tokenizer.num_special_tokens_to_add(pair=True))
    columns = train_features(tokenizer, examples, reader_cfg, quiet=quiet)
    trainer, device, precision = build_trainer(model, tokenizer, columns, out, train_cfg, quiet,
                                              callbacks)
    summary = train_and_save(trainer, tokenizer, out, plan, len(examples),
                             len(columns["input_ids"]), device, precision)
    save_meta(out, {"reader": asdict(reader_cfg), "training": asdict(train_cfg),
                    "init": backbone, "train_source": train.source,
                    "run_config": identity(config), "summary": summary.to_dict()})
    finish_run(out, keep_checkpoints)
    return summary


__all__ = ["TrainConfig", "TrainSummary", "train_reader"]
