"""The reader folder: a Hugging Face QA model, its tokenizer and ``reader.json`` (feature config,
training settings, where it started from, summary). This module is the one owner of that format:
the trainer saves through it, and the reader, the ``ig``/``reader`` scorers and the ladder load
through it.

Any ``AutoModelForQuestionAnswering`` folder or hub name loads too, and so does a plain encoder
folder (a fresh QA head is added) for training, e.g. the all-MiniLM-L6-v2 backbone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...files import write_json
from ..hub import quiet_transformers, resolve_model, transformer_folder
from ..runtime import pick_device

READER_FILE = "reader.json"


def backbone_path(name_or_path: str | None) -> str:
    """A model folder or hub name; a sentence-transformers folder without its own config.json
    resolves to its Transformer module's folder (the encoder the QA head goes on)."""
    resolved = resolve_model(name_or_path)
    path = Path(resolved)
    if path.is_dir() and not (path / "config.json").exists():
        inner = Path(transformer_folder(resolved))
        if inner == path or not (inner / "config.json").exists():
            raise ConfigError(f"{path}: not a model folder (no config.json)")
        return str(inner)
    return resolved


def load_model(name_or_path: str | None) -> tuple[Any, Any]:
    """(model, tokenizer); a plain encoder gets a freshly initialised QA head."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    quiet_transformers()
    path = backbone_path(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForQuestionAnswering.from_pretrained(path)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot load a QA model from {path!r}: {err}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError(f"{path}: a fast tokenizer is needed for character offsets")
    return model, tokenizer


def read_meta(model_dir: str | Path) -> dict[str, Any]:
    """What ``reader.json`` holds (``{}`` for a folder the trainer did not write)."""
    path = Path(model_dir) / READER_FILE
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def save_meta(model_dir: str | Path, meta: dict[str, Any]) -> None:
    """Write ``reader.json`` (atomically: a folder with it is a finished reader)."""
    write_json(meta, Path(model_dir) / READER_FILE)


def is_qa_folder(path: Path) -> bool:
    """A folder whose ``config.json`` names a ``*ForQuestionAnswering`` architecture."""
    config = path / "config.json"
    if not config.is_file():
        return False
    archs = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    return any(str(a).endswith("ForQuestionAnswering") for a in archs)


@dataclass
class QAModel:
    """A loaded QA model with its tokenizer and the longest sequence it reads."""

    model: Any
    tokenizer: Any
    max_seq_length: int
    path: str
    device: str


@lru_cache(maxsize=4)
def load_qa_model(model: str | None, device: str = "auto",
                  max_seq_length: int | None = None) -> QAModel:
    """Load a trained QA model (a ``train-reader`` folder or any HF ``*ForQuestionAnswering``)
    for the ``ig`` and ``reader`` scorers (cached, so that they share one copy).

    A plain encoder would get a random QA head, and attributions of a random head explain
    nothing: that is refused."""
    if not model:
        raise ConfigError("the ig and reader scorers need a trained QA model folder "
                          "(e.g. from 'ids-extract train-reader'; `reader_model`)")
    path = Path(model).expanduser()
    if path.is_dir() and not is_qa_folder(path):
        raise ConfigError(f"{path}: not an extractive QA model (config.json has no "
                          f"*ForQuestionAnswering architecture); its QA head would be random")
    qa, tokenizer = load_model(str(path) if path.exists() else model)
    dev = pick_device(device)
    qa = qa.to(dev).eval()
    limit = max_seq_length or read_meta(path).get("reader", {}).get("max_seq_length")
    if not limit:
        limit = min(int(getattr(qa.config, "max_position_embeddings", 512)), 512)
    return QAModel(qa, tokenizer, int(limit), str(path), dev)
