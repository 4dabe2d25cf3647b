"""The DPR pair format: a question encoder and a passage encoder (Hugging Face
``DPRQuestionEncoder`` + ``DPRContextEncoder``, each with its tokenizer) in ``question_encoder/``
and ``ctx_encoder/``, and ``ids_extract_dpr.json`` beside them (pooling, passage context, training
config and summary). This module owns the format: the trainer saves through :func:`save_pair`, the
``dpr`` scorer loads through :func:`resolve_pair` and :func:`load_encoder`.

A pair is a folder, two folders or hub names given separately, or (with internet) the public
Facebook pair by a short name (``facebook/dpr-single-nq-base``).

Loading a plain BERT folder into a DPR class "works" in transformers: the weights whose names do
not match are silently initialised at random and the scores are noise. :func:`load_encoder`
refuses that (wrong ``model_type``, or any weight missing from the checkpoint); the same check
guards the conversion of a BERT backbone into a DPR pair (:func:`dpr_pair_from_bert`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from ...errors import ConfigError
from ...files import write_json
from ..hub import check_hub_name, quiet_transformers, transformer_folder

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
            "'facebook/dpr-single-nq-base' (`dpr_model`)")
    path = Path(model).expanduser()
    if path.is_dir():
        if (path / QUESTION_DIR).is_dir() and (path / CTX_DIR).is_dir():
            return (str((path / QUESTION_DIR).resolve()), str((path / CTX_DIR).resolve()),
                    _pooling_of(path))
        raise ConfigError(f"{path}: not a DPR pair folder (expected subfolders {QUESTION_DIR}/ "
                          f"and {CTX_DIR}/)")
    if model in FACEBOOK_PAIRS:
        q, c = FACEBOOK_PAIRS[model]
        return check_hub_name(q), check_hub_name(c), "cls"
    if "question_encoder" in model:
        ctx = model.replace("question_encoder", "ctx_encoder")
        return check_hub_name(model), check_hub_name(ctx), "cls"
    raise ConfigError(f"dpr model {model!r}: no such folder, and not a DPR hub name "
                      f"({', '.join(FACEBOOK_PAIRS)}, or a facebook/dpr-question_encoder-* name)")


def _local(name: str) -> str:
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else check_hub_name(name)


def read_meta(folder: Path) -> dict[str, Any]:
    """What the trainer recorded next to a pair (``{}`` for a plain DPR checkpoint, or a folder
    that is not a finished pair)."""
    meta = folder / META_FILE
    return json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}


def _pooling_of(folder: Path) -> Pooling:
    """Pooling recorded by the trainer; plain DPR checkpoints use the [CLS] vector."""
    pooling = read_meta(folder).get("pooling", "cls")
    if pooling not in POOLINGS:
        raise ConfigError(f"{folder / META_FILE}: pooling {pooling!r} is not one of {POOLINGS}")
    return pooling


def trained_lengths(folder: Path) -> tuple[int | None, int | None]:
    """The question and passage token lengths a pair was trained at (None for a plain DPR
    checkpoint): a scorer reads with the same lengths, not longer ones the encoder never saw."""
    meta = read_meta(folder)
    return meta.get("max_question_length"), meta.get("max_passage_length")


def passage_context_of(folder: Path) -> int:
    """How many preceding sentences the passage encoder was trained to read with each sentence
    (0 for plain DPR checkpoints)."""
    k = read_meta(folder).get("passage_context", 0)
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


# ------------------------------------------------------------------------------------ encoding


def inner_encoder(model: Any) -> Any:
    """The ``DPREncoder`` inside a DPRQuestionEncoder / DPRContextEncoder."""
    return model.question_encoder if hasattr(model, "question_encoder") else model.ctx_encoder


def save_passage_bert(pair: str | Path, target: Path) -> Path:
    """The passage encoder of a pair folder as a plain BERT folder (weights and tokenizer):
    what a static model is distilled from (model2vec reads a plain transformer)."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    ctx = Path(resolve_pair(str(pair))[1])
    if not (target / "config.json").is_file():
        bert = inner_encoder(load_encoder("ctx", str(ctx))).bert_model
        # its config is the pair's (model_type "dpr"): saved as a BERT's, so AutoModel reads a
        # BertModel back (what gives token states to distil from)
        skip = ("model_type", "architectures", "transformers_version", "projection_dim")
        plain = BertModel(BertConfig(**{k: v for k, v in bert.config.to_dict().items()
                                        if k not in skip}), add_pooling_layer=False)
        missing, _ = plain.load_state_dict(bert.state_dict(), strict=False)
        if missing:
            raise ConfigError(f"{ctx}: {len(missing)} weights missing for a plain BERT")
        plain.save_pretrained(target)
        AutoTokenizer.from_pretrained(str(ctx)).save_pretrained(target)
    return target


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


def save_pair(question_encoder: Any, ctx_encoder: Any, tokenizer: Any, out: Path,
              meta: dict[str, Any]) -> None:
    """``question_encoder/`` and ``ctx_encoder/`` (HF DPR + tokenizer) and the metadata file,
    each written beside and moved into place, so a crash leaves no half pair (the metadata
    file, written last, marks a finished pair)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, enc in ((QUESTION_DIR, question_encoder), (CTX_DIR, ctx_encoder)):
        tmp = out / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        enc.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(out / name, ignore_errors=True)
        tmp.rename(out / name)
    write_json(meta, out / META_FILE)
