"""How a model runs: device, precision and the autocast that gives it, length-sorted batches,
and the small numeric helpers every model family shares (each written once, here)."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES_HELP = "cpu, cuda, cuda:N, or auto (cuda when present)"


def pick_device(device: str | None) -> str:
    """``auto`` → cuda when present, else cpu; a CUDA device that is not there is a
    :class:`ConfigError` (not an assertion deep inside torch)."""
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    assert device is not None
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r}: no CUDA GPU is available here (use cpu or auto)")
        index = device.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise ConfigError(f"device {device!r}: this machine has {torch.cuda.device_count()} "
                              "CUDA device(s)")
        return device
    raise ConfigError(f"device {device!r}: choose {DEVICES_HELP}")


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 instructions (AVX512-BF16 or AMX); bf16 is then ~1.8x faster
    than fp32 for MiniLM here, elsewhere it is emulated and slower."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


#: the CPU flags that decide an encoder's speed: native bf16, VNNI int8, AVX-512 or AVX2 only
SPEED_FLAGS = frozenset({"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16",
                         "amx_int8"})


def speed_flags() -> list[str]:
    """This CPU's :data:`SPEED_FLAGS`, sorted: where a run was measured (manifests, benches)."""
    return sorted(cpu_flags() & SPEED_FLAGS)


#: the flags above AVX2 that ``ONEDNN_MAX_CPU_ISA=AVX2`` (or ``AVX2_VNNI``) takes away
ABOVE_AVX2 = frozenset({"avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8",
                        "amx_tile"})


def cpu_flags() -> set[str]:
    """The CPU feature flags of ``/proc/cpuinfo`` (empty where there is none), less those that
    ``ONEDNN_MAX_CPU_ISA`` caps away: with oneDNN held at AVX2, bf16 is no longer native, so
    ``precision=auto`` picks fp32 as it would on an AVX2-only CPU, and manifests record the ISA
    the run was allowed."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            line = next((line for line in fh if line.startswith("flags")), "")
    except OSError:
        return set()
    flags = set(line.partition(":")[2].split())
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if cap.startswith("AVX2"):
        flags -= ABOVE_AVX2 | ({"avx_vnni"} if cap != "AVX2_VNNI" else set())
    return flags




def pick_precision(precision: str, device: str) -> str:
    """``auto`` -> fp16 on CUDA, bf16 on a CPU with native bf16, else fp32."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision {precision!r}: choose from {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "fp16"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def ig_precision(precision: str, device: str) -> str:
    """The arithmetic of Integrated Gradients, decided here for every command and scorer:
    ``auto`` -> bf16 where it is native (Spearman 0.999 with fp32 on IG sentence ranks,
    bench/results/ig.json; the sanity check ran 1.6x faster), else fp32; IG runs in fp32 or
    bf16 only (fp16 overflows its gradients)."""
    if precision not in ("auto", "fp32", "bf16"):
        raise ConfigError(f"`precision` {precision!r}: IG runs in auto, fp32 or bf16")
    chosen = pick_precision(precision, pick_device(device))
    return "bf16" if chosen == "fp16" else chosen


def autocast(device: str, precision: str) -> contextlib.AbstractContextManager[Any]:
    """torch autocast to bf16/fp16 (matrix products in half precision, reductions in fp32), or
    nothing for fp32."""
    import torch

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast("cuda" if device.startswith("cuda") else "cpu", dtype=dtype)


def length_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length (shortest first), so that a padded batch is mostly
    real tokens; callers put the results back in input order."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (shifted by its maximum, so large logits do not overflow)."""
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return np.asarray(z / z.sum(axis=-1, keepdims=True))


def warmup_steps(ratio: float, examples: int, batch_size: int, epochs: float,
                 max_steps: int = -1) -> int:
    """Linear-warmup steps for a ``Trainer`` run, as a whole number.

    ``TrainingArguments(warmup_steps=<float below 1>)`` means a ratio only on transformers 5
    (on 4.x it is a step count, and ``warmup_ratio`` is deprecated on 5), so the count is worked
    out here with the Trainer's own rule: ``ceil(ratio × total steps)``."""
    per_epoch = max(math.ceil(examples / max(batch_size, 1)), 1)
    total = max_steps if max_steps > 0 else math.ceil(epochs * per_epoch)
    return math.ceil(total * ratio)


def keep_first_layers(model: Any, k: int | None) -> Any:
    """Keep the first ``k`` transformer layers of a BERT-style model (in place; returned too).

    The standard layer-dropping recipe (Sajjad et al. 2020, "On the effect of dropping layers of
    pre-trained transformer models"): the bottom layers of one pretrained encoder give a family of
    smaller models, which is how sizes L2/L4/L6 are made offline from all-MiniLM-L6-v2. The
    config's ``num_hidden_layers`` is updated so that a saved model loads at its new size."""
    if k is None:
        return model
    base = getattr(model, "base_model", model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None:
        raise ConfigError(f"keeping the first {k} layers needs a BERT-style encoder "
                          f"(encoder.layer); {type(model).__name__} has none")
    if not 1 <= k <= len(layers):
        raise ConfigError(f"init_layers {k}: the model has {len(layers)} layers; keep 1 to "
                          f"{len(layers)}")
    del layers[k:]
    model.config.num_hidden_layers = k
    if getattr(base, "config", None) is not None:
        base.config.num_hidden_layers = k
    return model
