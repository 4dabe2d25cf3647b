"""ONNX Runtime backend for mean-pooled BERT encoders (``backend="onnx"``), fp32 or int8: the
sentence-transformers models of the ``sbert`` scorer, and the two encoders of a DPR pair trained
with mean pooling (the ``dpr`` scorer).

sentence-transformers' own ONNX backend goes through ``optimum-onnx``, which pins transformers
below 5; so the export is done here with ``torch.onnx.export`` and the model runs in
``onnxruntime`` (int8: ``onnxruntime.quantization.quantize_dynamic``, per channel). Only the
transformer runs in ONNX: mean pooling (and, for sentence-transformers, normalisation) is done
here, exactly as the torch modules do it (other pooling modes are refused).

The export is made once per model and kept under ``$IDS_EXTRACT_HOME/onnx/<key>/`` (default
``~/.cache/ids-extract``), one file per precision used (``model-int8.onnx``, ~23 MB for MiniLM;
``model-fused.onnx`` for fp32): it takes a few seconds and needs no network, and removing the
folder only costs that again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..files import atomic_path, home, wait_lock
from .runtime import length_batches, pick_precision

BACKENDS = ("torch", "onnx")
OPSET = 17
RECIPE = "ort-fused-2"  # eager export, fuse (onnxruntime.transformers), quantize: changes re-export

def pick_runtime(backend: str, precision: str, device: str) -> tuple[str, str]:
    """(backend, precision) of an encoder scorer. ``auto``: int8 ONNX Runtime on a CPU when
    onnxruntime is installed (the fastest setting that keeps quality on any CPU, with or without
    native bf16: see bench/throughput.py), torch on CUDA or when a torch-only precision is asked
    for or onnxruntime is missing. A precision the backend cannot run is a ConfigError."""
    if backend not in ("auto", *BACKENDS):
        raise ConfigError(f"backend {backend!r}: choose from auto, {', '.join(BACKENDS)}")
    if backend == "auto":
        backend = "onnx" if _onnx_suits(precision, device) else "torch"
    if backend == "onnx":
        if precision not in ("auto", "fp32", "int8"):
            raise ConfigError("backend onnx runs fp32 or int8")
        return backend, "int8" if precision == "auto" else precision
    if precision == "int8":
        raise ConfigError("precision int8 needs `backend` onnx")
    return backend, pick_precision(precision, device)


def _onnx_suits(precision: str, device: str) -> bool:
    if device.startswith("cuda") or precision in ("bf16", "fp16"):
        return False
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _check_modules(st_model: Any) -> None:
    """The model must be Transformer -> mean Pooling [-> Normalize] (what is replicated here;
    the output is always normalised, as the scorer needs cosines)."""
    names = [type(m).__name__ for m in st_model]
    if names[:2] != ["Transformer", "Pooling"] or any(n != "Normalize" for n in names[2:]):
        raise ConfigError(f"onnx backend: unsupported module stack {names} (needs Transformer, "
                          "mean Pooling, optional Normalize)")
    config = st_model[1].get_config_dict()
    mode = config.get("pooling_mode")  # sentence-transformers >= 6; older: one flag per mode
    mean = mode == "mean" if mode is not None else (
        config.get("pooling_mode_mean_tokens") and sum(
            bool(v) for k, v in config.items() if k.startswith("pooling_mode")) == 1)
    if not mean:
        raise ConfigError(f"onnx backend: only mean pooling is supported (model has {config})")


def _fingerprint(transformer: Any) -> str:
    """The export's cache key: every weight byte (new weights under an old name must not reuse
    an old export), the opset and the export recipe."""
    digest = hashlib.sha256(f"opset{OPSET}-{RECIPE}".encode())
    for name, tensor in sorted(transformer.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        digest.update(str(tuple(tensor.shape)).encode())
    return digest.hexdigest()[:20]


#: the file of a model folder that holds its int8 graph (a shipped model: no torch weights)
INT8_FILE = "model-int8.onnx"


def int8_file(folder: str | Path) -> Path | None:
    """The int8 graph a model folder ships with, or None (a folder of torch weights)."""
    path = Path(folder) / INT8_FILE
    return path if path.is_file() else None


class OnnxGraph:
    """One exported graph in onnxruntime, single-threaded, run from ``workers`` threads at once
    (``run`` is thread-safe and releases the GIL): on short sentences this is ~15 % faster than
    one call at a time on an intra-op pool of the same size, whose per-operator fork/join costs
    more than these small matrices take (bench/throughput.py)."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = path
        self.workers = threads or available_cores()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The graph's one output for one batch."""
        return np.asarray(self.session.run(None, feeds)[0])

    def each(self, batches: list[np.ndarray], run: Any) -> None:
        """``run(indices)`` for every batch, on the worker threads (the batches are the same as
        one at a time, so the results are too: int8 quantizes activations per batch)."""
        if self.workers == 1 or len(batches) <= 1:
            for idx in batches:
                run(idx)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(run, batches))  # list(): re-raise a worker's error here


def export_graph(model: Any, tokenizer: Any, quantize: bool, output: str = "hidden") -> Path:
    """The graph of a transformers ``model`` (its ``last_hidden_state``, or its ``logits`` for
    a classifier head) for this weight set and precision, made once and cached under
    ``$IDS_EXTRACT_HOME/onnx/<weights>``; only the file that is loaded stays there."""
    folder = home() / "onnx" / (_fingerprint(model) + ("" if output == "hidden" else f"-{output}"))
    target = folder / (INT8_FILE if quantize else "model-fused.onnx")
    (folder / "model.onnx").unlink(missing_ok=True)  # the plain export an older version kept
    if target.exists():
        return target
    with wait_lock(folder / ".export.lock"):  # concurrent runs export once, not racing
        if not target.exists():
            _build(model, tokenizer, target, quantize, output)
    return target


def write_int8(model: Any, tokenizer: Any, folder: Path, output: str = "hidden") -> Path:
    """``folder/model-int8.onnx``, the tokenizer and the model's config: a model folder that
    runs without torch weights (what a shipped extractor holds)."""
    folder.mkdir(parents=True, exist_ok=True)
    _build(model, tokenizer, folder / INT8_FILE, True, output)
    tokenizer.save_pretrained(folder)
    model.config.save_pretrained(folder)
    return folder / INT8_FILE


def _build(model: Any, tokenizer: Any, target: Path, quantize: bool, output: str) -> None:
    """Export, fuse and (with ``quantize``) quantize into ``target``; the intermediate graphs
    (90 MB each for MiniLM) are made in a temporary folder and not kept."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=target.parent if target.parent.exists() else None) as tmp:
        plain, fused = Path(tmp) / "model.onnx", Path(tmp) / "model-fused.onnx"
        _export_fp32(model, tokenizer, plain, output)
        _fuse(plain, fused if quantize else target, model.config)
        if quantize:
            _quantize(fused, target)


def model_inputs(tokenizer: Any) -> list[str]:
    """The inputs a BERT-like graph takes, as its tokenizer makes them."""
    return [n for n in ("input_ids", "attention_mask", "token_type_ids")
            if n in tokenizer.model_input_names]


def _export_fp32(model: Any, tokenizer: Any, target: Path, output: str) -> None:
    import torch

    names = model_inputs(tokenizer)

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            out = self.model(**dict(zip(names, tensors, strict=True)))
            return out.last_hidden_state if output == "hidden" else out.logits

    sample = tokenizer(["a b c", "d"], ["e f", "g"] if output == "logits" else None,
                       padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes[output] = {0: "batch"} if output == "logits" else {0: "batch", 1: "tokens"}
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp, torch.no_grad(), _eager_attention(model):
        torch.onnx.export(Wrapped().eval(), tuple(sample[n] for n in names), str(tmp),
                          input_names=names, output_names=[output], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


class OnnxEncoder:
    """``encode(texts) -> mean-pooled vectors`` (unit length with ``normalize``) with the
    transformer in onnxruntime.

    Measured on MiniLM: fp32 gives cosines equal to sentence-transformers' to 1e-6; int8 to
    about 0.99 on average (see bench/throughput.py for speed and the effect on recall)."""

    def __init__(self, graph: OnnxGraph, tokenizer: Any, max_length: int, dimension: int, *,
                 normalize: bool = True) -> None:
        self.graph, self.tokenizer, self.max_length = graph, tokenizer, int(max_length)
        self.normalize, self.dimension = normalize, int(dimension)  # mean pooling keeps it
        self.inputs = model_inputs(tokenizer)
        self.workers = graph.workers

    @classmethod
    def of_transformer(cls, transformer: Any, tokenizer: Any, max_length: int, *,
                       quantize: bool = False, normalize: bool = True,
                       threads: int | None = None) -> OnnxEncoder:
        """A transformers encoder, exported once and cached by its weights."""
        graph = OnnxGraph(export_graph(transformer, tokenizer, quantize), threads)
        return cls(graph, tokenizer, max_length, int(transformer.config.hidden_size),
                   normalize=normalize)

    @classmethod
    def of_folder(cls, folder: str | Path, max_length: int, *, normalize: bool = True,
                  threads: int | None = None) -> OnnxEncoder:
        """A model folder that ships its int8 graph (:func:`write_int8`)."""
        from transformers import AutoConfig, AutoTokenizer

        path = int8_file(folder)
        if path is None:
            raise ConfigError(f"{folder}: no {INT8_FILE}")
        config = AutoConfig.from_pretrained(str(folder))
        return cls(OnnxGraph(path, threads), AutoTokenizer.from_pretrained(str(folder)),
                   max_length, int(config.hidden_size), normalize=normalize)

    @classmethod
    def of_sentence_transformer(cls, st_model: Any, quantize: bool = False,
                                threads: int | None = None) -> OnnxEncoder:
        """A sentence-transformers model (Transformer, mean Pooling, optional Normalize): unit
        vectors, as the model gives them."""
        _check_modules(st_model)
        return cls.of_transformer(st_model[0].auto_model, st_model.tokenizer,
                                  int(st_model.max_seq_length), quantize=quantize,
                                  threads=threads)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit vectors ``(texts, hidden)`` in the order given.

        The texts are tokenized once, in one call of the fast tokenizer, and batched by their
        exact token counts, longest first: sentence-transformers sorts by characters, which on
        dev-v1.1 pads 27 % of the tokens in batches of 16; by tokens it is 2 %, and the encoder
        runs ~11 % faster. The batches run on the graph's worker threads."""
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        enc = self.tokenizer([t.strip() for t in texts], truncation=True,
                             max_length=self.max_length)
        rows = [{n: enc[n][i] for n in self.inputs} for i in range(len(texts))]
        batches = list(length_batches([-len(r["input_ids"]) for r in rows], batch_size))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)  # (texts, hidden)

        def run(idx: np.ndarray) -> None:
            out[idx] = self._encode_batch([rows[i] for i in idx])

        self.graph.each(batches, run)
        return out

    def _encode_batch(self, rows: list[dict[str, list[int]]]) -> np.ndarray:
        """Mean-pooled embeddings of one batch of tokenized texts (unit length with
        ``normalize``): (batch, hidden)."""
        enc = self.tokenizer.pad(rows, return_tensors="np")  # as the readers pad their features
        hidden = self.graph.run({n: enc[n].astype(np.int64) for n in self.inputs})
        mask = enc["attention_mask"][..., None].astype(np.float32)  # (batch, tokens, 1)
        pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)  # (batch, hidden)
        if self.normalize:
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and ``taskset``
    narrow), not the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def _eager_attention(model: Any) -> Iterator[None]:
    """Export with transformers' eager attention: its graph is the pattern onnxruntime's BERT
    fusion recognises (with the default SDPA attention no Attention node is fused, and the int8
    graph keeps ~100 small reshape/transpose nodes per batch). Restored afterwards."""
    before = getattr(model.config, "_attn_implementation", None)
    setter = getattr(model, "set_attn_implementation", None)
    try:
        if setter is not None:
            try:
                setter("eager")
            except (ValueError, NotImplementedError):  # a model without it: export as it is
                setter = None
        yield
    finally:
        if setter is not None and before is not None:
            setter(before)


def _fuse(plain: Path, target: Path, config: Any) -> None:
    """onnxruntime's transformer optimizer: attention, LayerNorm and GELU fused into single
    kernels (the ``O2``-style graph optimization sentence-transformers documents for CPU). A model
    it does not know is kept as exported."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(str(plain), model_type="bert",
                               num_heads=int(getattr(config, "num_attention_heads", 0)),
                               hidden_size=int(getattr(config, "hidden_size", 0)))
        with atomic_path(target) as tmp:
            model.save_model_to_file(str(tmp))
    except Exception:  # noqa: BLE001 (any failure of the optional fusion: keep the plain graph)
        with atomic_path(target) as tmp:
            tmp.write_bytes(plain.read_bytes())


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the weights, per channel (activations stay float)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # onnxruntime logs a WARNING on the root logger for every model it quantizes (a hint about
    # shape pre-processing, which dynamic int8 of a transformer does not need): kept off the
    # user's terminal by a filter on that one message
    hint = _QuantHint()
    logging.getLogger().addFilter(hint)
    try:
        with atomic_path(target) as tmp:
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8,
                             per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logging.getLogger().removeFilter(hint)


class _QuantHint(logging.Filter):
    """Drops onnxruntime's pre-processing hint, nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()
