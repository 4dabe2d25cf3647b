"""The settings of a ``train-extractor`` run: which signals it may train, and every budget.

Apart from the pipeline (:mod:`.train_extractor`) so that the command line, the packager (which
renders the command that trained a folder) and tests read them without loading the trainers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .. import defaults
from ..errors import ConfigError
from ..scorers.options import IG_STEPS, json_or_text
from ..select.segment import check_segmenter

SIGNALS = ("bm25", "sbert", "static", "dpr", "reader", "cross", "cross-small", "ig")
TRAINED = ("static", "dpr", "reader", "cross", "cross-small")
DEFAULT_SIGNALS = ("bm25", "sbert", "static", "dpr", "reader", "cross", "cross-small")
#: the signals of the default extraction (``extract`` without options): the ``fast`` profile
#: costs no more than they do
REFERENCE = defaults.SCORERS

@dataclass
class ExtractorTrainConfig:
    """Every setting of a run (the default budgets fit subset44 in ~70 min on 2 CPU cores)."""

    train_file: str
    signals: tuple[str, ...] = DEFAULT_SIGNALS
    heldout: int = 1000
    backbone: str | None = None
    reader_init: str | None = None
    sbert_model: str | None = None
    distractor_rate: float = 0.5
    dpr_epochs: float = 1.0
    reader_epochs: float = 1.0
    reader_max_seq_length: int = 256
    reader_batch_size: int = 16
    reader_learning_rate: float = 1e-4
    cross_epochs: float = 1.0
    cross_context: int = 0
    cross_candidates: int = 4
    cross_max_length: int = 128
    cross_init_layers: int | None = None
    small_cross_layers: int = 2
    small_cross_max_length: int = 64
    small_cross_epochs: float = 1.0
    #: candidates per question of cross-small; with ``cross`` trained too, cross-small is its
    #: student: it learns the cross-encoder's logits on every candidate (``distill_weight`` of
    #: the loss; the rest is the answer's cross-entropy)
    small_cross_candidates: int = 8
    distill_weight: float = 0.5
    #: share of the training questions (of those without a distractor) that the cross-encoders
    #: read among ``multi_passage_others`` other paragraphs of their article, as retrieval hands
    #: passages over: their candidates come from every passage
    multi_passage_rate: float = 0.25
    multi_passage_others: int = 4
    static_epochs: int = 3
    #: a model2vec folder or a transformer; None: the backbone's; "dpr": distilled from the
    #: trained dual encoder's passage side
    static_base: str | None = None
    cascade_k: int = 4
    #: the cascade depths the profiles stage also tries for each subset with a cross-encoder
    #: (a fast profile may read only the cheap signals' best 2 or 3 units)
    profile_depths: tuple[int, ...] = (2, 3)
    ig_steps: int = IG_STEPS
    fusion_c: float = 1.0
    #: the learned fusion's objective, chosen on held-out articles (bench/results/
    #: extractor-profiles.json): clean questions weigh this share against the stressed ones,
    #: and no signal may count against a sentence
    fusion_clean_weight: float = 0.5
    fusion_nonnegative: bool = False
    #: the share of the fusion's fit given to the held-out questions read among other
    #: paragraphs of their article (the rest: clean and stressed, by fusion_clean_weight)
    fusion_multi_weight: float = 0.25
    seed: int = 42
    segmenter: str = defaults.SEGMENTER
    precision: str = "auto"
    limit: int | None = None

    def check(self) -> ExtractorTrainConfig:
        """Option errors before any work (a bad signal name, IG without a reader, dev data)."""
        unknown = [s for s in self.signals if s not in SIGNALS]
        if unknown or not self.signals:
            raise ConfigError(f"`stages` {','.join(self.signals)}: choose from {', '.join(SIGNALS)}")
        if "ig" in self.signals and "reader" not in self.signals:
            raise ConfigError("`stages`: ig explains the trained reader; add reader")
        if not 0.0 < self.fusion_clean_weight < 1.0:
            raise ConfigError(f"`fusion_clean_weight` {self.fusion_clean_weight}: give a share "
                              "in (0, 1)")
        for name in ("distractor_rate", "multi_passage_rate", "distill_weight",
                     "fusion_multi_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} {getattr(self, name)}: give a share in [0, 1]")
        if self.static_base == "dpr" and "dpr" not in self.signals:
            raise ConfigError("static_base 'dpr' distils the trained dual encoder: add dpr")
        if self.cascade_k < 1 or self.cross_candidates < 2:
            raise ConfigError("`cascade_k` must be >= 1 and `cross_candidates` >= 2")
        if self.heldout < 1:
            raise ConfigError("`heldout`: at least 1 question (the fusion is fitted there)")
        if Path(self.train_file).name.lower().startswith("dev"):
            raise ConfigError(f"{self.train_file}: train on a training file, never on dev")
        check_segmenter(self.segmenter)
        return self


def settings(pairs: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs as :class:`ExtractorTrainConfig` fields (the settings that
    have no flag of their own): a value is read as JSON (numbers, true, null; a list is a tuple
    field) else as text; an unknown name is a :class:`ConfigError` listing the known ones."""
    names, out = {f.name for f in fields(ExtractorTrainConfig)}, {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or name not in names:
            raise ConfigError(f"`set` {pair!r}: give NAME=VALUE with NAME one of "
                              f"{', '.join(sorted(names))}")
        value = json_or_text(text)
        out[name] = tuple(value) if isinstance(value, list) else value
    return out
