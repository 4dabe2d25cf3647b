"""Dot product of a separate question encoder and passage encoder, D(q, p) = E_Q(q) · E_P(s).

Loads Hugging Face DPR pairs (``DPRQuestionEncoder`` + ``DPRContextEncoder``): a folder holding
``question_encoder/`` and ``ctx_encoder/`` (what ``ids-extract train-retriever`` writes), two
folders or hub names given separately, or — for users with internet — the public Facebook pair by
a short name (``facebook/dpr-single-nq-base``).

Loading a plain BERT folder into a DPR class "works" in transformers: the weights whose names do
not match are silently initialised at random and the scores are noise. :func:`load_encoder`
refuses that (wrong ``model_type``, or any weight missing from the checkpoint); the same check
guards the conversion of a BERT backbone into a DPR pair (:func:`dpr_pair_from_bert`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import ConfigError
from ..models import pick_device, pick_precision, quiet_transformers
from .base import BiEncoderScorer

Pooling = Literal["cls", "mean"]
POOLINGS: tuple[str, ...] = ("cls", "mean")
#: written next to ``question_encoder/`` and ``ctx_encoder/`` by the trainer
META_FILE = "ids_extract_dpr.json"
QUESTION_DIR, CTX_DIR = "question_encoder", "ctx_encoder"
#: short names of the public Facebook pairs (hub, internet needed)
FACEBOOK_PAIRS: dict[str, tuple[str, str]] = {
    f"facebook/dpr-{kind}-base": (f"facebook/dpr-question_encoder-{kind}-base",
                                  f"facebook/dpr-ctx_encoder-{kind}-base")
    for kind in ("single-nq", "multiset")
}


# ------------------------------------------------------------------------------------ loading


def resolve_pair(model: str | None, question_model: str | None = None,
                 ctx_model: str | None = None) -> tuple[str, str, Pooling]:
    """(question encoder, passage encoder, pooling) from a pair folder, a short Facebook name,
    a question-encoder hub name, or two explicit encoders."""
    if question_model or ctx_model:
        if not (question_model and ctx_model):
            raise ConfigError("dpr: give both question_model and ctx_model, or a pair folder")
        return _local(question_model), _local(ctx_model), _pooling_of(Path(question_model).parent)
    if not model:
        raise ConfigError(
            "the dpr scorer needs a model: a folder with question_encoder/ and ctx_encoder/ "
            "(e.g. from 'ids-extract train-retriever'), or, with internet, "
            "'facebook/dpr-single-nq-base' (--dpr-model)")
    path = Path(model).expanduser()
    if path.is_dir():
        if (path / QUESTION_DIR).is_dir() and (path / CTX_DIR).is_dir():
            return (str((path / QUESTION_DIR).resolve()), str((path / CTX_DIR).resolve()),
                    _pooling_of(path))
        raise ConfigError(f"{path}: not a DPR pair folder (expected subfolders {QUESTION_DIR}/ "
                          f"and {CTX_DIR}/)")
    if model in FACEBOOK_PAIRS:
        q, c = FACEBOOK_PAIRS[model]
        return q, c, "cls"
    if "question_encoder" in model:
        return model, model.replace("question_encoder", "ctx_encoder"), "cls"
    raise ConfigError(f"dpr model {model!r}: no such folder, and not a DPR hub name "
                      f"({', '.join(FACEBOOK_PAIRS)}, or a facebook/dpr-question_encoder-* name)")


def _local(name: str) -> str:
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def _meta(folder: Path) -> dict[str, Any]:
    """What the trainer recorded next to a pair (``{}`` for a plain DPR checkpoint)."""
    meta = folder / META_FILE
    return json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}


def _pooling_of(folder: Path) -> Pooling:
    """Pooling recorded by the trainer; plain DPR checkpoints use the [CLS] vector."""
    pooling = _meta(folder).get("pooling", "cls")
    if pooling not in POOLINGS:
        raise ConfigError(f"{folder / META_FILE}: pooling {pooling!r} is not one of {POOLINGS}")
    return pooling


def _passage_context_of(folder: Path) -> int:
    """How many preceding sentences the passage encoder was trained to read with each sentence
    (0 for plain DPR checkpoints)."""
    k = _meta(folder).get("passage_context", 0)
    if not isinstance(k, int) or k < 0:
        raise ConfigError(f"{folder / META_FILE}: passage_context {k!r} is not a count of sentences")
    return k


Passage = tuple[str, str]


def passage_pairs(sentences: Sequence[str], context: int) -> list[Passage]:
    """(sentence, the ``context`` sentences before it) for each sentence of one context.

    Why: a sentence such as "He moved there in 1890." names its subject only in the sentence
    before; giving the passage encoder that sentence as a second segment lets it match a question
    about the subject."""
    return [(s, " ".join(sentences[max(0, i - context):i])) for i, s in enumerate(sentences)]


def passages(sentences: Sequence[str], context: int) -> Sequence[str | Passage]:
    """What the passage encoder reads for each sentence: the sentence alone, or with its
    ``context`` preceding sentences. The trainer and the scorer both call this, so they agree."""
    return passage_pairs(sentences, context) if context else sentences


def load_encoder(kind: Literal["question", "ctx"], where: str) -> Any:
    """A DPR encoder whose every weight came from the checkpoint, else :class:`ConfigError`."""
    from transformers import AutoConfig, DPRContextEncoder, DPRQuestionEncoder

    quiet_transformers()
    try:
        config = AutoConfig.from_pretrained(where)
    except (OSError, ValueError) as err:
        raise ConfigError(f"dpr {kind} encoder {where}: cannot read its config ({err})") from None
    if config.model_type != "dpr":
        raise ConfigError(
            f"dpr {kind} encoder {where}: a plain {config.model_type!r} model, not a DPR encoder; "
            "loading it into a DPR class would initialise random weights (train a pair with "
            "'ids-extract train-retriever', or convert it with ids_extract.scorers.dpr."
            "dpr_pair_from_bert)")
    cls = DPRQuestionEncoder if kind == "question" else DPRContextEncoder
    loaded: Any = cls.from_pretrained(where, output_loading_info=True)
    model, info = loaded
    missing = list(info.get("missing_keys", []))
    if missing:
        raise ConfigError(
            f"dpr {kind} encoder {where}: {len(missing)} weights are not in the checkpoint and "
            f"would be random (e.g. {missing[0]}); is it a {'ctx' if kind == 'question' else 'question'}"
            " encoder, or another architecture?")
    return model.eval()


def dpr_pair_from_bert(backbone: str) -> tuple[Any, Any, Any]:
    """(question encoder, ctx encoder, tokenizer): two DPR encoders holding copies of a BERT
    backbone's weights. Every weight must be copied (``strict`` load), so neither encoder starts
    from random weights."""
    import torch
    from transformers import AutoTokenizer, BertModel, DPRConfig, DPRContextEncoder, DPRQuestionEncoder

    quiet_transformers()
    folder = transformer_folder(backbone)
    loaded: Any = BertModel.from_pretrained(folder, add_pooling_layer=False,
                                            output_loading_info=True)
    bert, info = loaded
    if info.get("missing_keys"):
        raise ConfigError(f"{backbone}: not a BERT checkpoint (missing {info['missing_keys'][:3]})")
    keys = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
            "intermediate_size", "hidden_act", "hidden_dropout_prob",
            "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
            "initializer_range", "layer_norm_eps", "pad_token_id")
    config = DPRConfig(**{k: getattr(bert.config, k) for k in keys}, projection_dim=0)
    state = bert.state_dict()
    encoders: list[Any] = []
    for cls in (DPRQuestionEncoder, DPRContextEncoder):
        enc: Any = cls(config)
        inner = inner_encoder(enc)
        with torch.no_grad():
            inner.bert_model.load_state_dict(state, strict=True)
        encoders.append(enc)
    return encoders[0], encoders[1], AutoTokenizer.from_pretrained(folder)


def transformer_folder(backbone: str) -> str:
    """The folder holding the BERT weights of a plain model or of a sentence-transformers folder
    (whose ``modules.json`` may put the transformer in a subfolder)."""
    path = Path(backbone)
    modules = path / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text(encoding="utf-8")):
            if module.get("type", "").endswith("Transformer"):
                return str(path / module.get("path", ""))
    return backbone


# ------------------------------------------------------------------------------------ encoding


def inner_encoder(model: Any) -> Any:
    """The ``DPREncoder`` inside a DPRQuestionEncoder / DPRContextEncoder."""
    return model.question_encoder if hasattr(model, "question_encoder") else model.ctx_encoder


def embed(model: Any, input_ids: Any, attention_mask: Any, pooling: Pooling,
          token_type_ids: Any = None) -> Any:
    """Vectors of a batch: the [CLS] output (DPR's ``pooler_output``, projected if the checkpoint
    has a projection) or the masked mean of the last hidden states (the trainer's default: it
    keeps the pooling the MiniLM backbone was pre-trained with)."""
    out = inner_encoder(model)(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids, return_dict=True)
    if pooling == "cls":
        return out.pooler_output
    mask = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
    return (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class DPRScorer(BiEncoderScorer):
    name = "dpr"

    def __init__(self, model: str | None = None, question_model: str | None = None,
                 ctx_model: str | None = None, device: str | None = None, batch_size: int = 64,
                 precision: str = "auto", max_question_length: int = 64,
                 max_passage_length: int = 256) -> None:
        self.model_name = model
        self.question_name, self.ctx_name, self.pooling = resolve_pair(model, question_model,
                                                                        ctx_model)
        self.device = pick_device(device)
        self.precision = pick_precision(precision, self.device)
        self.batch_size = batch_size
        self.max_question_length = max_question_length
        self.max_passage_length = max_passage_length
        self.passage_context = _passage_context_of(Path(self.ctx_name).parent)
        self._loaded: tuple[Any, Any, Any, Any] | None = None

    def config(self) -> dict[str, object]:
        return {"name": self.name, "question_model": _model_id(self.question_name),
                "ctx_model": _model_id(self.ctx_name), "pooling": self.pooling,
                "precision": self.precision, "max_question_length": self.max_question_length,
                "max_passage_length": self.max_passage_length,
                "passage_context": self.passage_context}

    def passage_inputs(self, sentences: Sequence[str]) -> Sequence[str | Passage]:
        """For a pair trained with ``passage_context`` k, each sentence with the k before it."""
        return passages(sentences, self.passage_context)

    def _models(self) -> tuple[Any, Any, Any, Any]:
        if self._loaded is None:
            from transformers import AutoTokenizer

            q = load_encoder("question", self.question_name).to(self.device)
            c = load_encoder("ctx", self.ctx_name).to(self.device)
            self._loaded = (q, AutoTokenizer.from_pretrained(self.question_name),
                            c, AutoTokenizer.from_pretrained(self.ctx_name))
        return self._loaded

    def encode_questions(self, texts: list[str]) -> np.ndarray:
        q, q_tok, _, _ = self._models()
        return self._encode(q, q_tok, texts, self.max_question_length)

    def encode_passages(self, texts: list[str | Passage]) -> np.ndarray:
        _, _, c, c_tok = self._models()
        return self._encode(c, c_tok, texts, self.max_passage_length)

    def _encode(self, model: Any, tokenizer: Any, texts: Sequence[str | Passage],
                max_length: int) -> np.ndarray:
        """Embeddings in the order given (texts, or (sentence, context) pairs); batches are
        formed by length so little is padding."""
        import torch

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        order = np.argsort([len(t) if isinstance(t, str) else len(t[0]) + len(t[1])
                            for t in texts], kind="stable")
        parts: list[np.ndarray] = []
        with torch.inference_mode(), torch.autocast(device_type, dtype=dtype,
                                                     enabled=dtype is not None):
            for i in range(0, len(order), self.batch_size):
                chunk = [texts[j] for j in order[i:i + self.batch_size]]
                enc = tokenize(tokenizer, chunk, max_length).to(self.device)
                vec = embed(model, enc["input_ids"], enc["attention_mask"], self.pooling,
                            enc.get("token_type_ids"))
                parts.append(vec.float().cpu().numpy())
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(parts)
        return out



def tokenize(tokenizer: Any, texts: Sequence[str | Passage], max_length: int) -> Any:
    """A padded batch of texts, or of (sentence, context) pairs as two segments; a long pair
    loses tokens from its longer segment first (usually the context)."""
    if texts and not isinstance(texts[0], str):
        first = [t[0] for t in texts]
        second = [t[1] for t in texts]
        return tokenizer(first, second, padding=True, truncation="longest_first",
                         max_length=max_length, return_tensors="pt")
    return tokenizer(list(texts), padding=True, truncation=True, max_length=max_length,
                     return_tensors="pt")


def _model_id(name: str) -> str:
    """Folder names (parent/leaf) of a local model, so the manifest does not depend on where it
    is installed."""
    path = Path(name)
    return f"{path.parent.name}/{path.name}" if path.exists() else name
