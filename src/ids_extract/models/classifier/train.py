"""Training a text classifier with the transformers ``Trainer`` (``AutoModelForSequenceClassification``
on any backbone; seeds, mixed precision, checkpoints and resume are the Trainer's, one run per
output folder as :mod:`ids_extract.models.training` rules). The folder it writes is
:mod:`.folder`'s format.

A text gives one training feature in ``head`` and ``headtail`` mode and one per window in
``windows`` mode (every window labelled with its text's class, the usual chunking baseline).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...files import locks_output
from ...textcls.model import TextDataset
from .. import training as run
from ..hub import model_id
from ..qa.folder import backbone_path
from ..training import TrainConfig, TrainSummary
from .features import ClassifierConfig, encode
from .folder import load_backbone, read_meta, save_meta


@locks_output("out_dir")
def train_classifier(train: TextDataset, init: str | None, out_dir: str | Path,
                     cfg: ClassifierConfig, train_cfg: TrainConfig, *, overwrite: bool = False,
                     quiet: bool = False, keep_checkpoints: bool = False) -> TrainSummary:
    """Fine-tune ``init`` (default all-MiniLM-L6-v2 with a fresh head) on the labelled texts of
    ``train``; saves model, tokenizer and ``classifier.json`` in ``out_dir``. Re-running the
    same run resumes or, when finished, does nothing; other settings are refused unless
    ``overwrite``."""
    cfg.check()
    if not train.has_labels:
        raise ConfigError(f"{train.source}: every training text needs a label")
    labels = train.labels
    if len(labels) < 2:
        raise ConfigError(f"{train.source}: one label only ({labels}); a classifier needs two")
    out = Path(out_dir)
    backbone = backbone_path(init)
    _check_length(backbone, cfg)
    config = {"classifier": asdict(cfg), "training": asdict(train_cfg), "labels": labels,
              "init": model_id(backbone),
              "data": run.data_fingerprint([[r.id, r.text, r.label] for r in train.records])}
    meta = read_meta(out)
    plan = run.plan_run(out, config, finished=run.recorded_config(meta), overwrite=overwrite)
    if plan.action == "skip":
        return TrainSummary(**{**meta["summary"], "skipped": True})
    from transformers import set_seed

    set_seed(train_cfg.seed)  # before the model: the fresh head is drawn from the seeded RNG
    model, tokenizer, _ = load_backbone(init, labels, cfg.init_layers)
    cfg.check(tokenizer.num_special_tokens_to_add(pair=False))
    enc = encode(tokenizer, train.texts, cfg)
    columns: dict[str, list[Any]] = {k: [row[k] for row in enc.inputs] for k in enc.inputs[0]}
    index = {label: i for i, label in enumerate(labels)}
    columns["labels"] = [index[str(train.records[t].label)] for t in enc.text_index]
    trainer, device, precision = run.build_trainer(model, tokenizer, columns, out, train_cfg, quiet)
    summary = run.train_and_save(trainer, tokenizer, out, plan, len(train), len(enc.inputs), device,
                             precision)
    save_meta(out, labels, cfg, training=asdict(train_cfg), init=model_id(backbone),
              train_source=train.source, run_config=run.identity(config),
              summary=summary.to_dict())
    run.finish_run(out, keep_checkpoints)
    return summary


def _check_length(backbone: str, cfg: ClassifierConfig) -> None:
    """Refuse, before anything is written, a length the backbone cannot read (it would fail
    mid-training on the first long text)."""
    from transformers import AutoConfig

    limit = getattr(AutoConfig.from_pretrained(backbone), "max_position_embeddings", None)
    if isinstance(limit, int) and cfg.max_seq_length > limit:
        raise ConfigError(f"max_seq_length {cfg.max_seq_length}: the backbone {backbone} reads "
                          f"at most {limit} tokens")
