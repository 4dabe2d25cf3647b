"""The cross-encoder folder: a Hugging Face ``AutoModelForSequenceClassification`` with one output
logit, its tokenizer, and ``ids_extract_cross.json`` (the input format the model was trained with,
the run config, the training summary). This module is the one owner of that format: the trainer
saves through :func:`save_cross`, the ``cross`` scorer loads through :func:`load_cross`, and both
build the model's input with :func:`candidate_text`, so they read sentences the same way.

Input of one candidate sentence: ``[CLS] question [SEP] sentence [SEP] before [SEP] after [SEP]``
with ``before``/``after`` the neighbouring sentences of its context (``InputFormat``): the sentence
comes first so that truncation cuts context, not the candidate, and the neighbours let the model
resolve "he", "the city" and see where the sentence stands. A public one-logit cross-encoder (for
example an MS MARCO one) loads too and reads the sentence alone, as it was trained.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...files import write_json
from ..hub import quiet_transformers, resolve_model, transformer_folder
from ..onnx import OnnxGraph, export_graph, int8_file, model_inputs, pick_runtime
from ..runtime import pick_device

META_FILE = "ids_extract_cross.json"


@dataclass(frozen=True)
class InputFormat:
    """How a candidate is shown to the model: ``before``/``after`` neighbouring sentences, and
    the token budget of the (question, candidate) pair."""

    before: int = 1
    after: int = 1
    max_length: int = 160

    def check(self) -> InputFormat:
        """Refuse negative windows or a budget too small for a question and a sentence."""
        if self.before < 0 or self.after < 0:
            raise ConfigError("cross-encoder context windows must be >= 0 sentences")
        if self.max_length < 32:
            raise ConfigError(f"cross-encoder max_length {self.max_length}: use 32 or more")
        return self


def fit_to(fmt: InputFormat, model_config: Any) -> InputFormat:
    """The format with ``max_length`` cut to what the model's position embeddings hold."""
    limit = int(getattr(model_config, "max_position_embeddings", fmt.max_length))
    return replace(fmt, max_length=min(fmt.max_length, limit))


def candidate_text(sentences: Sequence[str], i: int, fmt: InputFormat, sep: str) -> str:
    """The second segment for sentence ``i``: itself, then the ``before`` sentences and the
    ``after`` sentences around it, each part behind the tokenizer's separator ``sep``."""
    core = sentences[i].strip()
    if not fmt.before and not fmt.after:
        return core
    before = " ".join(s.strip() for s in sentences[max(0, i - fmt.before):i])
    after = " ".join(s.strip() for s in sentences[i + 1:i + 1 + fmt.after])
    return f"{core} {sep} {before} {sep} {after}"


def encode(tokenizer: Any, questions: Sequence[str], texts: Sequence[str],
           fmt: InputFormat) -> Any:
    """Tokenised (question, candidate text) pairs as padded tensors; a pair over
    ``max_length`` loses tokens from its longer side, the end first (the neighbours after the
    sentence, as a rule)."""
    return tokenizer(list(questions), list(texts), padding=True, truncation="longest_first",
                     max_length=fmt.max_length, return_tensors="pt")


def from_backbone(backbone: str | None) -> tuple[Any, Any]:
    """(model, tokenizer): a one-logit classifier on a plain encoder (a fresh head; seed first)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    quiet_transformers()
    folder = transformer_folder(resolve_model(backbone))
    try:
        model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot build a cross-encoder from {folder!r}: {err}") from None
    return model, tokenizer


def read_meta(folder: str | Path) -> dict[str, Any]:
    """What the trainer recorded (``{}`` for a folder it did not write, e.g. a public model)."""
    path = Path(folder) / META_FILE
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}


def save_cross(model: Any, tokenizer: Any, out: Path, fmt: InputFormat,
               meta: dict[str, Any]) -> None:
    """Model and tokenizer, then the metadata file (written last: it marks a finished model)."""
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_json({"format": asdict(fmt), **meta}, out / META_FILE)


def format_of(folder: str | Path) -> InputFormat:
    """The input format a folder was trained with; a public cross-encoder reads the sentence
    alone (no neighbours), with its own length limit."""
    recorded = read_meta(folder).get("format")
    if recorded is None:
        return InputFormat(before=0, after=0, max_length=256)
    try:
        return InputFormat(**recorded).check()
    except TypeError as err:
        raise ConfigError(f"{Path(folder) / META_FILE}: bad input format ({err})") from None


@dataclass
class CrossModel:
    """A loaded cross-encoder, its tokenizer and input format; ``graph`` when it runs in ONNX
    Runtime (int8, shipped or exported once), else the torch ``model``."""

    model: Any
    tokenizer: Any
    fmt: InputFormat
    path: str
    device: str
    graph: Any = None
    precision: str = "fp32"

    def logits(self, questions: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """One logit per (question, candidate text) pair of one batch: (pairs,)."""
        if self.graph is not None:
            enc = self.tokenizer(list(questions), list(texts), padding=True,
                                 truncation="longest_first", max_length=self.fmt.max_length,
                                 return_tensors="np")
            feeds = {n: enc[n].astype(np.int64) for n in model_inputs(self.tokenizer)}
            return self.graph.run(feeds).reshape(-1).astype(np.float64)
        import torch

        from ..runtime import autocast

        with torch.inference_mode(), autocast(self.device, self.precision):
            enc = encode(self.tokenizer, questions, texts, self.fmt).to(self.device)
            return self.model(**enc).logits.float().squeeze(-1).cpu().numpy().astype(np.float64)


@lru_cache(maxsize=4)
def load_cross(model: str | None, device: str = "auto", backend: str = "torch",
               precision: str = "auto") -> CrossModel:
    """A trained one-logit cross-encoder (a ``train-extractor`` folder, a shipped int8 one, or a
    public one); a model with another head (or none, whose head would be random) is refused.
    ``backend``/``precision`` as :func:`ids_extract.models.onnx.pick_runtime` decides them; a
    shipped folder (only ``model-int8.onnx``) runs as it was shipped."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    if not model:
        raise ConfigError("the cross scorer needs a cross-encoder model folder (e.g. from "
                          "'ids-extract train-extractor')")
    quiet_transformers()
    path = Path(model).expanduser()
    where = str(path.resolve()) if path.exists() else model
    try:
        config = AutoConfig.from_pretrained(where)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cross-encoder {where}: cannot read its config ({err})") from None
    archs = config.architectures or []
    if config.num_labels != 1 or not any(str(a).endswith("ForSequenceClassification")
                                         for a in archs):
        raise ConfigError(f"cross-encoder {where}: not a one-logit sequence classifier "
                          f"(architectures {archs}, {config.num_labels} labels); its head would "
                          "be random or mean something else")
    dev = pick_device(device)
    tokenizer = AutoTokenizer.from_pretrained(where)
    fmt = fit_to(format_of(where), config)
    shipped = int8_file(where)
    if shipped is not None:
        if backend == "torch" or precision not in ("auto", "int8"):
            raise ConfigError(f"cross-encoder {where}: shipped as int8 ONNX, it runs with "
                              "backend onnx, precision int8")
        return CrossModel(None, tokenizer, fmt, where, dev, OnnxGraph(shipped), "int8")
    backend, precision = pick_runtime(backend, precision, dev)
    loaded = AutoModelForSequenceClassification.from_pretrained(where).to(dev).eval()
    if backend == "onnx":
        graph = OnnxGraph(export_graph(loaded, tokenizer, precision == "int8", "logits"))
        return CrossModel(None, tokenizer, fmt, where, dev, graph, precision)
    return CrossModel(loaded, tokenizer, fmt, where, dev, None, precision)
