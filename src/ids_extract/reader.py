"""Extractive QA readers: training with the transformers ``Trainer``, prediction, n-best decoding.

The reader is the model that the extracted datasets are for (METHOD.md §4, §5). It follows the
standard recipe of transformers' ``run_qa.py`` example, which is not importable code:

- **features**: ``question + context`` tokenised with offsets up to ``max_seq_length``; contexts
  that do not fit are cut into overlapping windows (``mode="window"``, ``doc_stride`` tokens of
  overlap) or simply cut off (``mode="truncate"``, the plain-truncation baseline). Long questions
  are cut to ``max_question_tokens`` so a short ``max_seq_length`` still leaves room for context;
- **labels**: the token positions of the first gold answer, or the ``[CLS]`` token when the
  window does not hold the whole answer (or the question has none, SQuAD v2.0);
- **decoding**: the ``n_best`` start and end logits of every window are paired (end ≥ start,
  at most ``max_answer_length`` tokens, inside the context) and the best pair is mapped back to a
  character span through the offsets. The no-answer score is the smallest ``[CLS]`` score over
  the windows; a reader trained on v2.0 data answers ``""`` when it beats the best span.

Any ``AutoModelForQuestionAnswering`` folder or hub name works, and so does a plain encoder
folder (a fresh QA head is added), e.g. the all-MiniLM-L6-v2 backbone of the default scorer.
"""

from __future__ import annotations

import json
import math
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .data import Answer, SquadDataset, write_json
from .errors import ConfigError
from .models import pick_device, pick_precision, quiet_transformers, resolve_model
from .progress import track

Mode = Literal["window", "truncate"]
READER_FILE = "reader.json"
CHECKPOINTS = "checkpoints"


@dataclass
class ReaderConfig:
    """How questions and contexts become features, and how logits become answers."""

    max_seq_length: int = 384
    doc_stride: int | None = None  # overlap between windows; None: max_seq_length // 3
    mode: Mode = "window"
    max_question_tokens: int | None = None  # None: max_seq_length // 2
    max_answer_length: int = 30
    n_best: int = 20
    version2: bool = False  # may answer "" (learnt from SQuAD v2.0 training data)

    @property
    def stride(self) -> int:
        return self.doc_stride if self.doc_stride is not None else self.max_seq_length // 3

    @property
    def question_tokens(self) -> int:
        if self.max_question_tokens is not None:
            return self.max_question_tokens
        return self.max_seq_length // 2

    def check(self, special_tokens: int = 3) -> None:
        if self.mode not in ("window", "truncate"):
            raise ConfigError(f"mode {self.mode!r}: choose window or truncate")
        room = self.max_seq_length - special_tokens - self.question_tokens
        if room < 8:
            raise ConfigError(f"max_seq_length {self.max_seq_length} leaves {room} context tokens "
                              f"after a {self.question_tokens}-token question: too few")
        if self.mode == "window" and not 0 <= self.stride < room:
            raise ConfigError(f"doc_stride {self.stride} must be below the {room} context tokens "
                              f"a window holds at max_seq_length {self.max_seq_length}")


@dataclass
class TrainConfig:
    """Trainer settings; ``max_steps > 0`` overrides ``epochs``."""

    epochs: float = 2.0
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_steps: int = -1
    seed: int = 42
    device: str = "auto"
    precision: str = "auto"  # bf16 on CPUs with native bf16, fp16 on CUDA, else fp32
    save_steps: int = 500
    logging_steps: int = 50


@dataclass
class Example:
    """One question with its context (what the reader sees) and gold answers (for labels)."""

    id: str
    question: str
    context: str
    answers: list[Answer] = field(default_factory=list)
    is_impossible: bool = False


@dataclass
class Prediction:
    """The reader's answer to one example: text and character span in the context it read."""

    id: str
    text: str
    start: int
    end: int
    score: float  # start + end logit of the best span
    null_score: float  # [CLS] score; higher than ``score`` means "no answer"
    nbest: list[dict[str, Any]] = field(default_factory=list)

    @property
    def na_prob(self) -> float:
        """A no-answer probability for the v2.0 threshold search (sigmoid of the margin)."""
        margin = self.null_score - self.score
        return 1.0 / (1.0 + math.exp(-max(min(margin, 50.0), -50.0)))


def examples_of(dataset: SquadDataset) -> list[Example]:
    return [Example(qa.id, qa.question, p.context, list(qa.answers), qa.is_impossible)
            for _, p, qa in dataset.iter_qas()]


# ------------------------------------------------------------------------------- models


def backbone_path(name_or_path: str | None) -> str:
    """A model folder or hub name; a sentence-transformers folder without its own config.json
    resolves to its Transformer module's folder (the encoder the QA head goes on)."""
    resolved = resolve_model(name_or_path)
    path = Path(resolved)
    if path.is_dir() and not (path / "config.json").exists() and (path / "modules.json").exists():
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        for module in modules:
            if module.get("type", "").endswith("Transformer"):
                return str(path / module.get("path", ""))
    if path.is_dir() and not (path / "config.json").exists():
        raise ConfigError(f"{path}: not a model folder (no config.json)")
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


# ------------------------------------------------------------------------------- features


def _cut_questions(tokenizer: Any, questions: Sequence[str], limit: int) -> list[str]:
    """Strip leading white space (some SQuAD questions have lots) and cut to ``limit`` tokens."""
    stripped = [q.lstrip() for q in questions]
    enc = tokenizer(stripped, add_special_tokens=False, return_offsets_mapping=True,
                    return_attention_mask=False, return_token_type_ids=False)
    out = []
    for q, offsets in zip(stripped, enc["offset_mapping"], strict=True):
        out.append(q[: offsets[limit - 1][1]] if len(offsets) > limit else q)
    return out


def encode(tokenizer: Any, examples: Sequence[Example], cfg: ReaderConfig) -> Any:
    """Tokenise (question, context) pairs into features; ``overflow_to_sample_mapping`` says
    which example each feature comes from."""
    questions = _cut_questions(tokenizer, [e.question for e in examples], cfg.question_tokens)
    window = cfg.mode == "window"
    enc = tokenizer(questions, [e.context for e in examples], truncation="only_second",
                    max_length=cfg.max_seq_length, stride=cfg.stride if window else 0,
                    return_overflowing_tokens=window, return_offsets_mapping=True, padding=False)
    if not window:
        enc["overflow_to_sample_mapping"] = list(range(len(examples)))
    return enc


def _token_span(offsets: Sequence[tuple[int, int]], seq_ids: Sequence[int | None], start: int,
                end: int) -> tuple[int, int] | None:
    """Token indices of the character span ``[start, end)``, or None when the window does not
    hold it whole."""
    ctx = [i for i, s in enumerate(seq_ids) if s == 1]
    if not ctx or offsets[ctx[0]][0] > start or offsets[ctx[-1]][1] < end:
        return None
    first = next(i for i in ctx if offsets[i][1] > start)
    last = next(i for i in reversed(ctx) if offsets[i][0] < end)
    return first, last


def train_features(tokenizer: Any, examples: Sequence[Example], cfg: ReaderConfig,
                   chunk: int = 2000, quiet: bool = True) -> dict[str, list[Any]]:
    """Features with ``start_positions``/``end_positions`` (the [CLS] index when unanswerable)."""
    columns: dict[str, list[Any]] = {}
    for lo in track(range(0, len(examples), chunk), "tokenising",
                    math.ceil(len(examples) / chunk), quiet):
        part = examples[lo: lo + chunk]
        enc = encode(tokenizer, part, cfg)
        starts, ends = [], []
        for i, sample in enumerate(enc["overflow_to_sample_mapping"]):
            ex = part[sample]
            cls = enc["input_ids"][i].index(tokenizer.cls_token_id) if (
                tokenizer.cls_token_id in enc["input_ids"][i]) else 0
            span = None
            if ex.answers and not ex.is_impossible:
                a = ex.answers[0]
                span = _token_span(enc["offset_mapping"][i], enc.sequence_ids(i), a.answer_start,
                                   a.end)
            starts.append(span[0] if span else cls)
            ends.append(span[1] if span else cls)
        for key in ("input_ids", "attention_mask", "token_type_ids"):
            if key in enc:
                columns.setdefault(key, []).extend(enc[key])
        columns.setdefault("start_positions", []).extend(starts)
        columns.setdefault("end_positions", []).extend(ends)
    return columns


@dataclass
class EvalFeatures:
    """Model inputs, and per feature its example index and context-token offsets (None
    elsewhere), for decoding."""

    inputs: list[dict[str, list[int]]]
    example_index: list[int]
    offsets: list[list[tuple[int, int] | None]]


def eval_features(tokenizer: Any, examples: Sequence[Example], cfg: ReaderConfig) -> EvalFeatures:
    enc = encode(tokenizer, examples, cfg)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    inputs, offsets = [], []
    for i in range(len(enc["input_ids"])):
        inputs.append({k: enc[k][i] for k in keys})
        seq_ids = enc.sequence_ids(i)
        offsets.append([tuple(o) if seq_ids[j] == 1 else None
                        for j, o in enumerate(enc["offset_mapping"][i])])
    return EvalFeatures(inputs, list(enc["overflow_to_sample_mapping"]), offsets)


# ------------------------------------------------------------------------------- decoding


def decode(examples: Sequence[Example], feats: EvalFeatures, start_logits: Sequence[np.ndarray],
           end_logits: Sequence[np.ndarray], cfg: ReaderConfig) -> list[Prediction]:
    """n-best post-processing: best valid span over all windows of each example."""
    by_example: list[list[int]] = [[] for _ in examples]
    for f, e in enumerate(feats.example_index):
        by_example[e].append(f)
    out = []
    for e, ex in enumerate(examples):
        candidates: list[tuple[float, int, int]] = []
        null = math.inf
        for f in by_example[e]:
            s, t, offs = start_logits[f], end_logits[f], feats.offsets[f]
            null = min(null, float(s[0] + t[0]))
            candidates.extend(_spans(s, t, offs, cfg))
        candidates.sort(key=lambda c: -c[0])
        if not candidates:
            out.append(Prediction(ex.id, "", 0, 0, -math.inf, null))
            continue
        score, start, end = candidates[0]
        nbest = _nbest(ex.context, candidates[: cfg.n_best])
        text = ex.context[start:end]
        if cfg.version2 and null > score:
            text, start, end = "", 0, 0
        out.append(Prediction(ex.id, text, start, end, score, null, nbest))
    return out


def _spans(s: np.ndarray, t: np.ndarray, offs: Sequence[tuple[int, int] | None],
           cfg: ReaderConfig) -> list[tuple[float, int, int]]:
    n = len(offs)
    starts = np.argsort(s[:n])[::-1][: cfg.n_best]
    ends = np.argsort(t[:n])[::-1][: cfg.n_best]
    found = []
    for a in starts:
        oa = offs[int(a)]
        if oa is None:
            continue
        for b in ends:
            ob = offs[int(b)]
            if ob is None or b < a or b - a + 1 > cfg.max_answer_length:
                continue
            found.append((float(s[a] + t[b]), oa[0], ob[1]))
    return found


def _nbest(context: str, candidates: Sequence[tuple[float, int, int]]) -> list[dict[str, Any]]:
    """The distinct best spans with softmax probabilities over the n-best list."""
    seen: dict[tuple[int, int], float] = {}
    for score, start, end in candidates:
        seen.setdefault((start, end), score)
    scores = np.array(list(seen.values()))
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    return [{"text": context[a:b], "start": a, "end": b, "score": float(sc),
             "probability": float(p)}
            for ((a, b), sc), p in zip(seen.items(), probs, strict=True)]


# ------------------------------------------------------------------------------- prediction


class Reader:
    """A trained reader: model, tokenizer and the feature config it was trained with."""

    def __init__(self, model: Any, tokenizer: Any, config: ReaderConfig, *, device: str = "cpu",
                 precision: str = "fp32") -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.config = config
        self.device = device
        self.precision = precision

    @classmethod
    def load(cls, model_dir: str | Path, *, device: str = "auto", precision: str = "auto",
             **overrides: Any) -> Reader:
        """Load a folder written by :func:`train_reader` (its ``reader.json`` gives the feature
        config; ``overrides`` change it, e.g. ``mode="truncate"``)."""
        path = Path(model_dir)
        meta_path = path / READER_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        cfg = ReaderConfig(**{**meta.get("reader", {}),
                              **{k: v for k, v in overrides.items() if v is not None}})
        model, tokenizer = load_model(str(path) if path.exists() else str(model_dir))
        cfg.check(tokenizer.num_special_tokens_to_add(pair=True))
        dev = pick_device(device)
        return cls(model, tokenizer, cfg, device=dev, precision=pick_precision(precision, dev))

    def predict(self, examples: Sequence[Example], batch_size: int = 64,
                quiet: bool = True) -> list[Prediction]:
        feats = eval_features(self.tokenizer, examples, self.config)
        starts, ends = self.logits(feats, batch_size, quiet)
        return decode(examples, feats, starts, ends, self.config)

    def logits(self, feats: EvalFeatures, batch_size: int,
               quiet: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Start and end logits per feature; features are batched by length to pad little."""
        import torch

        order = sorted(range(len(feats.inputs)), key=lambda i: len(feats.inputs[i]["input_ids"]))
        starts: list[np.ndarray] = [np.zeros(0)] * len(order)
        ends: list[np.ndarray] = [np.zeros(0)] * len(order)
        batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        for batch in track(batches, "reading", len(batches), quiet):
            padded = self.tokenizer.pad([feats.inputs[i] for i in batch], return_tensors="pt")
            padded = {k: v.to(self.device) for k, v in padded.items()}
            with torch.inference_mode(), torch.autocast(device_type, dtype=dtype or torch.float32,
                                                        enabled=dtype is not None):
                out = self.model(**padded)
            s = out.start_logits.float().cpu().numpy()
            t = out.end_logits.float().cpu().numpy()
            for row, i in enumerate(batch):
                n = len(feats.inputs[i]["input_ids"])
                starts[i], ends[i] = s[row, :n], t[row, :n]
        return starts, ends


def write_predictions(predictions: Sequence[Prediction], out_dir: str | Path,
                      version2: bool) -> dict[str, Path]:
    """``predictions.json`` in the official format (id → text); with v2.0 also
    ``na_probs.json`` (id → no-answer probability) for the threshold search."""
    out = Path(out_dir)
    paths = {"predictions": out / "predictions.json"}
    write_json({p.id: p.text for p in predictions}, paths["predictions"])
    if version2:
        paths["na_probs"] = out / "na_probs.json"
        write_json({p.id: p.na_prob for p in predictions}, paths["na_probs"])
    return paths


# ------------------------------------------------------------------------------- training


@dataclass
class TrainSummary:
    out_dir: str
    examples: int
    features: int
    steps: int
    train_seconds: float
    peak_rss_mb: float
    peak_gpu_mb: float | None
    precision: str
    device: str
    resumed_from: str | None
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_meta(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / READER_FILE
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def train_reader(
    train: SquadDataset,
    init: str | None,
    out_dir: str | Path,
    reader_cfg: ReaderConfig,
    train_cfg: TrainConfig,
    *,
    overwrite: bool = False,
    quiet: bool = False,
) -> TrainSummary:
    """Fine-tune ``init`` on ``train`` and save model, tokenizer and ``reader.json`` in
    ``out_dir``. Checkpoints go to ``out_dir/checkpoints``; re-running resumes from the last
    one, and a finished folder (``reader.json`` present) is left as it is."""
    out = Path(out_dir)
    meta = read_meta(out)
    if meta and not overwrite:
        return TrainSummary(**{**meta["summary"], "skipped": True})
    reader_cfg.version2 = reader_cfg.version2 or train.is_v2
    from transformers import set_seed

    set_seed(train_cfg.seed)  # before the model: a fresh QA head is drawn from the seeded RNG
    model, tokenizer = load_model(init)
    reader_cfg.check(tokenizer.num_special_tokens_to_add(pair=True))
    examples = examples_of(train)
    if not examples:
        raise ConfigError(f"{train.source}: no training questions")
    columns = train_features(tokenizer, examples, reader_cfg, quiet=quiet)
    trainer, device, precision = _trainer(model, tokenizer, columns, out, train_cfg, quiet)
    last = _last_checkpoint(out / CHECKPOINTS)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - start
    summary = TrainSummary(
        str(out), len(examples), len(columns["input_ids"]), int(result.global_step), seconds,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, _peak_gpu_mb(), precision,
        device, last)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    write_json({"reader": asdict(reader_cfg), "training": asdict(train_cfg),
                "init": backbone_path(init), "train_source": train.source,
                "summary": summary.to_dict()}, out / READER_FILE)
    return summary


def _trainer(model: Any, tokenizer: Any, columns: dict[str, list[Any]], out: Path,
             cfg: TrainConfig, quiet: bool) -> tuple[Any, str, str]:
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    device = pick_device(cfg.device)
    precision = pick_precision(cfg.precision, device)
    args = TrainingArguments(
        output_dir=str(out / CHECKPOINTS), per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate, weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio, num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        seed=cfg.seed, data_seed=cfg.seed, save_strategy="steps", save_steps=cfg.save_steps,
        save_total_limit=1, logging_steps=cfg.logging_steps, report_to="none",
        use_cpu=device == "cpu", bf16=precision == "bf16", fp16=precision == "fp16",
        disable_tqdm=quiet, dataloader_num_workers=0, log_level="error" if quiet else "warning",
    )
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict(columns),
                      processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8))
    if quiet:  # without tqdm the Trainer prints every log dict to stdout
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    return trainer, device, precision


def _last_checkpoint(folder: Path) -> str | None:
    if not folder.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder))


def _peak_gpu_mb() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return float(torch.cuda.max_memory_allocated()) / 2**20
