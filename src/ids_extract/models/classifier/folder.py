"""The classifier folder: a Hugging Face sequence-classification model, its tokenizer and
``classifier.json`` (labels, how it reads a text, training settings, where it started from, the
run config, summary). This module is the one owner of that format: the trainer saves through it,
and prediction, the classifier scorers, ``explain`` and ``sanity-check`` load through it.

Any ``*ForSequenceClassification`` folder or hub name loads too (labels from its ``id2label``,
reading the head of a text at its length limit). A plain encoder is refused where a trained head
is needed: a random head classifies and explains nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...files import write_json
from ..hub import quiet_transformers
from ..qa.folder import backbone_path
from ..runtime import keep_first_layers, pick_device, pick_precision
from .features import ClassifierConfig

CLASSIFIER_FILE = "classifier.json"


def read_meta(model_dir: str | Path) -> dict[str, Any]:
    """What ``classifier.json`` holds (``{}`` for a folder the trainer did not write)."""
    path = Path(model_dir) / CLASSIFIER_FILE
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def save_meta(model_dir: str | Path, labels: list[str], cfg: ClassifierConfig,
              **more: Any) -> None:
    """Write ``classifier.json`` (atomically: a folder with it is a finished classifier)."""
    write_json({"labels": list(labels), "classifier": asdict(cfg), **more},
               Path(model_dir) / CLASSIFIER_FILE)


def load_backbone(init: str | None, labels: list[str],
                  init_layers: int | None = None) -> tuple[Any, Any, str]:
    """(model, tokenizer, backbone path) for training: any encoder or classifier folder or hub
    name (default all-MiniLM-L6-v2), with a fresh head for ``labels`` and, with
    ``init_layers``, only its first K layers."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    quiet_transformers()
    path = backbone_path(init)
    ids = {label: i for i, label in enumerate(labels)}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=ids,
            ignore_mismatched_sizes=True)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot load a classifier backbone from {path!r}: {err}") from None
    return keep_first_layers(model, init_layers), tokenizer, path


def classifier_labels(path: str | Path) -> list[str]:
    """The classes of a classifier folder without loading it: ``classifier.json``'s labels, else
    ``config.json``'s ``id2label`` (a public classifier); ``[]`` when neither is there."""
    labels = read_meta(path).get("labels")
    if labels:
        return [str(x) for x in labels]
    config = Path(path) / "config.json"
    if not config.is_file():
        return []
    id2label = json.loads(config.read_text(encoding="utf-8")).get("id2label") or {}
    return [str(id2label[k]) for k in sorted(id2label, key=int)]


def is_classifier_folder(path: Path) -> bool:
    """A folder whose ``config.json`` names a ``*ForSequenceClassification`` architecture."""
    config = path / "config.json"
    if not config.is_file():
        return False
    archs = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    return any(str(a).endswith("ForSequenceClassification") for a in archs)


@dataclass
class Classifier:
    """A loaded classifier: model (eval mode, on ``device``), tokenizer, class names in logit
    order, how it reads a text, where it came from, and the precision it runs at."""

    model: Any
    tokenizer: Any
    labels: list[str]
    config: ClassifierConfig
    path: str
    device: str
    precision: str

    def index(self, label: str) -> int:
        if label not in self.labels:
            raise ConfigError(f"label {label!r} is not one of the classifier's {self.labels}")
        return self.labels.index(label)


@lru_cache(maxsize=4)
def load_classifier(model: str | None, device: str = "auto", precision: str = "fp32") -> Classifier:
    """Load a trained classifier (a ``train-classifier`` folder or any HF
    ``*ForSequenceClassification``); cached, so scorers of one run share one copy."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if not model:
        raise ConfigError("a trained classifier is needed (a folder from 'ids-extract "
                          "train-classifier'; `classifier_model`)")
    path = Path(model).expanduser()
    if not path.exists() and (model.startswith(("/", ".", "~")) or model.count("/") > 1):
        raise ConfigError(f"{model}: no such classifier folder")
    if path.is_dir() and not is_classifier_folder(path):
        raise ConfigError(f"{path}: not a text classifier (config.json has no "
                          "*ForSequenceClassification architecture); its head would be random")
    name = str(path.resolve()) if path.exists() else model
    quiet_transformers()
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        net = AutoModelForSequenceClassification.from_pretrained(name)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot load a classifier from {name!r}: {err}") from None
    meta = read_meta(path) if path.is_dir() else {}
    labels = list(meta.get("labels") or [net.config.id2label[i]
                                         for i in range(net.config.num_labels)])
    cfg = (ClassifierConfig(**meta["classifier"]) if meta.get("classifier") else
           ClassifierConfig(max_seq_length=min(int(getattr(net.config, "max_position_embeddings",
                                                           512)), 512)))
    dev = pick_device(device)
    return Classifier(net.to(dev).eval(), tokenizer, labels, cfg, name, dev,
                      pick_precision(precision, dev))
