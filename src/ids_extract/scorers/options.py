"""What a scorer declares about its options, once: the keyword its constructor takes, how the
command line spells it, its help and default, and which model it needs.

The commands (``extract``, ``extract-texts``, ``compress``, ``fit-fusion``), ``extractor.json``
(:mod:`ids_extract.pipeline.pretrained`) and the Python API (:func:`.build_scorer`) all read the
declaration (:attr:`.base.Scorer.options`), so a new scorer is one file plus a registry line:
its options appear on the command line and are checked everywhere without touching a command.
Options several scorers share (``--device``, ``--precision``, ``--batch-size``) are declared
here once and mean the same thing for every scorer that takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: one default for Integrated Gradients steps everywhere (Gauss-Legendre: 16 steps rank the
#: sentences as 50 do, Spearman 0.992 at 3.4x the speed, README "IG cost")
IG_STEPS = 16


@dataclass(frozen=True)
class Option:
    """One constructor option of a scorer. ``flag`` is its command-line spelling (the same flag
    feeds every scorer that declares it); ``model`` names the model kind the option loads
    (``extractor.json`` keeps such models under ``models`` and hashes them)."""

    name: str
    flag: str
    help: str
    default: Any = None
    kind: type = str
    model: str | None = None

    @property
    def param(self) -> str:
        """The flag as a Python name (``--ig-steps`` -> ``ig_steps``)."""
        return self.flag.lstrip("-").replace("-", "_")

    def convert(self, value: str) -> Any:
        """A value given as text (``--scorer-option ig.n_steps=8``) in the option's type."""
        if self.kind is bool:
            return value.lower() in ("1", "true", "yes", "on")
        return self.kind(value)


DEVICE = Option("device", "--device", "cpu, cuda, cuda:N or auto.", "auto")
PRECISION = Option("precision", "--precision", "Encoder precision: auto (int8 with ONNX; with "
                   "torch bf16 on CPUs with native bf16, fp16 on CUDA, else fp32), fp32, bf16, "
                   "fp16, int8.", "auto")
BATCH_SIZE = Option("batch_size", "--batch-size", "Encoder batch size.", None, int)
