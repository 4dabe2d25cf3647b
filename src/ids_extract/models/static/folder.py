"""The static model folder (model2vec's format: ``model.safetensors``, ``tokenizer.json``,
``config.json`` with ``"model_type": "model2vec"``): where one comes from and how it loads.

A static model is given as

- nothing (``None``/``"default"``): distilled from the default encoder (all-MiniLM-L6-v2, offline);
- a model2vec folder: loaded as it is (e.g. one written by ``ids-extract train-static``);
- a sentence-transformers or transformers folder: distilled from it.

Distilling (``model2vec.distill``: every vocabulary token through the transformer, mean-pooled,
PCA to :data:`PCA_DIMS` dimensions, SIF weights) takes about half a minute on a CPU and needs no
network. The result is cached under ``$IDS_EXTRACT_HOME/static/<key>``, the key being the hash of
the source model's content (:func:`ids_extract.models.hub.content_hash`), the distillation
settings and model2vec's version: new weights under an old folder name distil anew.

Only ``model2vec`` (and, to distil, ``skeletoken``) are needed, not ``model2vec[distill]``: that
extra pins ``transformers<5.4``, which would downgrade the project's transformers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...files import atomic_folder, config_key, home, wait_lock
from ..hub import content_hash, display_name, quiet_transformers, resolve_model, transformer_folder

#: dimensions kept by the distillation's PCA (model2vec's default)
PCA_DIMS = 256
#: SIF weighting coefficient (model2vec's default)
SIF = 1e-4
MODEL_TYPE = "model2vec"


def is_static_folder(path: Path) -> bool:
    """True for a model2vec folder (its config says so), False for anything else."""
    config = path / "config.json"
    if not (path.is_dir() and config.is_file() and (path / "model.safetensors").is_file()):
        return False
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("model_type") == MODEL_TYPE
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


def resolve_static(model: str | None) -> tuple[str, bool]:
    """(the folder or model to use, whether it must be distilled first): checked before any work,
    so a missing folder fails at once."""
    source = resolve_model(model)
    path = Path(source)
    if path.is_dir() and is_static_folder(path):
        return str(path), False
    if path.is_dir() and not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        raise ConfigError(f"{path}: neither a model2vec folder nor a model to distil one from")
    return source, True


def distilled_folder(source: str) -> Path:
    """Where the static model distilled from ``source`` is cached (see the module doc)."""
    import model2vec

    base = Path(transformer_folder(source))
    origin = content_hash(str(base)) if base.exists() else f"hub:{source}"
    key = config_key({"source": origin, "pca": PCA_DIMS, "sif": SIF,
                      "model2vec": model2vec.__version__})
    return home() / "static" / key


def static_folder(model: str | None, quiet: bool = True) -> Path:
    """The model2vec folder for ``model`` (see the module doc), distilled once when needed."""
    source, distil = resolve_static(model)
    if not distil:
        return Path(source)
    target = distilled_folder(source)
    if is_static_folder(target):
        return target
    with wait_lock(target.parent / f".{target.name}.lock"):  # concurrent runs distil once
        if not is_static_folder(target):
            distil_to(source, target, quiet=quiet)
    return target


def distil_to(source: str, target: Path, quiet: bool = True) -> None:
    """Distil a static model from the transformer ``source`` into ``target`` (written whole in a
    temporary folder beside it, then moved into place)."""
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    quiet_transformers()
    folder = transformer_folder(source)
    model = AutoModel.from_pretrained(folder)
    tokenizer: Any = AutoTokenizer.from_pretrained(folder, use_fast=True)
    dims = min(PCA_DIMS, int(model.config.hidden_size))
    with _progress(quiet):
        static = distill_from_model(model, tokenizer, device="cpu", pca_dims=dims,
                                    sif_coefficient=SIF)
    save_static(static, target, base=display_name(source))


def save_static(static: Any, target: Path, base: str) -> None:
    """Write a model2vec model to ``target`` whole or not at all (a temporary folder beside it,
    renamed into place)."""
    with atomic_folder(target) as tmp:
        static.save_pretrained(tmp, model_name=base)


@lru_cache(maxsize=4)
def load_static(folder: str) -> Any:
    """A loaded ``model2vec.StaticModel`` (unit-length output), once per folder and process;
    its vectors in float32 (a distilled model stores float16, and a mean of float16 vectors
    loses digits that a ranking of near-ties needs)."""
    from model2vec import StaticModel

    try:
        return StaticModel.from_pretrained(folder, normalize=True, force_download=False,
                                           quantize_to="float32")
    except (OSError, ValueError, KeyError) as err:
        raise ConfigError(f"{folder}: not a model2vec folder that loads ({err})") from None


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[None]:
    """model2vec shows a bar per distillation with no switch: its module's ``tqdm`` is swapped
    for a silent one while ``quiet``."""
    if not quiet:
        yield
        return
    from functools import partial

    from model2vec.distill import inference
    from tqdm import tqdm

    original = inference.tqdm
    inference.tqdm = partial(tqdm, disable=True)
    try:
        yield
    finally:
        inference.tqdm = original
