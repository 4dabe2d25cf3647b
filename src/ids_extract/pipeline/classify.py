"""Classification extraction: texts → units → scores (no question) → fusion → levels → shorter texts.

:class:`TextExtractor` is the Python API behind ``ids-extract extract-texts``; the steps are the
one driver's (:mod:`.driver`), and what is classification's is :class:`TextTask`: where the units
come from (:mod:`ids_extract.textcls.units`: one document and one item per text, an empty query,
gold labels on a training split only), the filler rule, and the level written as shorter texts.

One call of the classification extractor beyond the core: units that hold only markup or white
space (:func:`ids_extract.select.pieces.is_filler`, e.g. IMDB's ``<br /><br />``) rank last, and
are dropped from a shortened text unless the whole text is kept: they carry nothing for the
label and cost budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import defaults
from ..errors import ConfigError
from ..progress import Meter
from ..scorers import Scorer
from ..select.budget import count_tokens
from ..select.levels import Level, parse_levels
from ..select.pieces import check_unit
from ..select.segment import Span, check_segmenter
from ..select.step import Budget, Choice, Rules
from ..textcls.model import TextDataset
from ..textcls.units import SPLITS, TextUnits, text_units
from .driver import Chosen, Driven, Driver
from .output import TEXTS_PRODUCT
from .product import Product
from .scoring import Scored
from .selector import Selector

DEFAULT_TEXT_LEVELS, DEFAULT_TEXT_SCORERS = defaults.TEXT_LEVELS, defaults.TEXT_SCORERS


@dataclass
class TextLevelResult:
    """One level: the shortened texts, per text the kept unit indices, and the statistics."""

    level: Level
    name: str
    texts: list[str]
    kept: list[list[int]]
    stats: dict[str, Any] = field(default_factory=dict)


class TextExtractor(Driven):
    """Keep the units of each text that matter for its label, at several levels.

    >>> ex = TextExtractor(["alone", "label"], "tokens:128",
    ...                    scorer_options={"alone": {"model": "models/clf128"}})  # doctest: +SKIP
    >>> results = ex.run(ids_extract.textcls.load("reviews.jsonl"))             # doctest: +SKIP

    ``split="train"`` hands the gold labels to the scorers (a classifier scorer may explain the
    known class); ``split="eval"`` never does.
    """

    def __init__(self, scorers: Sequence[str | Scorer] = DEFAULT_TEXT_SCORERS,
                 levels: str | Sequence[str] = DEFAULT_TEXT_LEVELS, *, split: str = "eval",
                 weights: Mapping[str, float] | str | None = None, unit: str = "sentence",
                 segmenter: str = defaults.SEGMENTER, stats_tokenizer: str | None = None,
                 scorer_options: Mapping[str, Mapping[str, Any]] | None = None,
                 chunk_size: int = 2048, quiet: bool = False) -> None:
        if split not in SPLITS:
            raise ConfigError(f"split {split!r}: choose from {', '.join(SPLITS)}")
        self.split, self.unit = split, check_unit(unit)
        check_segmenter(segmenter)
        parsed = parse_levels(levels if isinstance(levels, str) else [str(x) for x in levels])
        self.selector = Selector.build(scorers, task="text", options=scorer_options,
                                       weights=weights, segmenter=segmenter)
        self.stats_tokenizer = stats_tokenizer
        # the dataset is Any: only units() reads it (the texts are in the units), so selecting
        # from cached scores needs no dataset
        self.driver = Driver(TextTask(split, self.unit), self.selector, parsed,
                             stats_tokenizer=stats_tokenizer, chunk_size=chunk_size, quiet=quiet)

    def config(self) -> dict[str, Any]:
        """Everything that determines the output (manifest and cache key)."""
        return {"task": "classification", "split": self.split, "unit": self.unit,
                "segmenter": self.segmenter, "scorers": [s.config() for s in self.scorers],
                "fusion": self.fuser.config(), "levels": [str(lv) for lv in self.levels],
                "stats_tokenizer": self.stats_tokenizer or "default"}


    def level_names(self) -> list[str]:
        return self.driver.level_names

    # ------------------------------------------------------------------ stages

    def to_units(self, dataset: TextDataset,
                 spans_given: Sequence[list[Span]] | None = None) -> TextUnits:
        return self.driver.units(dataset, spans_given)

    def score(self, units: TextUnits, meter: Meter | None = None) -> Scored:
        return self.driver.score(units, meter)

    def select_all(self, units: TextUnits, scored: Scored,
                   only: Sequence[str] | None = None) -> list[TextLevelResult]:
        """Apply every level (or those named in ``only``, e.g. ``"D1-tokens128"``)."""
        return self.driver.select(None, units, scored, only).outputs

    def run(self, dataset: TextDataset) -> list[TextLevelResult]:
        return self.driver.run(dataset).outputs


@dataclass
class TextTask:
    """Classification as a task of the driver (:class:`.driver.Task`): one document and one
    item per text (no query; gold labels on a training split only), markup fillers ranked last
    and dropped, and each level written as the shortened texts with their statistics."""

    split: str
    unit: str

    def scoring_fields(self) -> dict[str, Any]:
        """What of the task its units and scores depend on (labels on a training split)."""
        return {"split": self.split, "unit": self.unit}

    @property
    def product(self) -> Product[Any]:
        """Its levels on disk: files in the input's format (:data:`.output.TEXTS_PRODUCT`)."""
        return TEXTS_PRODUCT

    def units(self, data: TextDataset, segmenter: str, *,
              spans: Sequence[list[Span]] | None = None, quiet: bool = True) -> TextUnits:
        return text_units(data, self.split, self.unit, segmenter, spans_given=spans, quiet=quiet)

    def rules(self, units: TextUnits, level: Level, name: str) -> _FillerRules:
        return _FillerRules(units.fillers)

    def write(self, data: object, chosen: Chosen[TextUnits, _FillerRules]) -> TextLevelResult:
        """The level's texts (kept units joined) and what it did to them."""
        units, choice = chosen.units, chosen.choice
        texts = [choice.joined(units, q).context for q in range(len(units))]
        stats = level_stats(chosen.name, chosen.level, units, choice, chosen.counted, texts)
        return TextLevelResult(chosen.level, chosen.name, texts, choice.kept, stats)


class _FillerRules(Rules):
    """Fillers rank last and below every other unit (so ``threshold`` levels skip them), and
    are kept only when the whole text is (then it is unchanged)."""

    def __init__(self, fillers: Sequence[Sequence[bool]]) -> None:
        self.fillers = fillers

    def ranked(self, q: int, fused: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _fillers_lowest(fused, self.fillers[q]), _fillers_last(order, self.fillers[q])

    def after_level(self, q: int, kept: list[int], order: np.ndarray, lengths: np.ndarray,
                    room: int | None) -> list[int]:
        filler = self.fillers[q]
        if len(kept) == len(filler) or not any(filler):
            return kept
        content = [i for i in kept if not filler[i]]
        return content or kept


def _fillers_last(order: np.ndarray, filler: Sequence[bool]) -> np.ndarray:
    """The ranking with filler units moved behind every other unit (order kept otherwise)."""
    if not any(filler):
        return order
    return np.array([i for i in order if not filler[i]] + [i for i in order if filler[i]],
                    dtype=order.dtype)


def _fillers_lowest(scores: np.ndarray, filler: Sequence[bool]) -> np.ndarray:
    """Fused scores with fillers below every other unit (so ``threshold`` levels skip them)."""
    mask = np.asarray(filler, dtype=bool)
    if not mask.any() or mask.all():
        return scores
    return np.where(mask, float(scores[~mask].min()) - 1.0, scores)


def level_stats(name: str, level: Level, units: TextUnits, choice: Choice, base: Budget,
                texts: Sequence[str]) -> dict[str, Any]:
    """What a level did: kept tokens and their share of the text, kept units, texts left
    unchanged (every unit kept, none cut), texts cut, texts still over the budget. At least one
    text."""
    kept, lengths, rooms = choice.kept, base.lengths, choice.budget.rooms
    total = np.array([int(x.sum()) for x in lengths], dtype=np.float64)
    kept_tokens = np.array([int(lengths[q][list(k)].sum()) for q, k in enumerate(kept)],
                           dtype=np.float64)
    over = 0
    if rooms is not None:  # the texts as written (a cut unit counts what is left of it)
        counts = count_tokens(list(texts), choice.budget.tokenizer)
        over = int(sum(int(c) > r for c, r in zip(counts, rooms, strict=True)))
        kept_tokens = counts.astype(np.float64)
    ratio = kept_tokens / np.maximum(total, 1)
    return {
        "name": name, "level": str(level), "texts": len(kept),
        "unchanged_pct": round(100 * float(np.mean([
            len(k) == len(s) and c is None
            for k, s, c in zip(kept, units.spans, choice.cuts, strict=True)])), 2),
        "over_budget": over,
        "tokens": {"mean": round(float(total.mean()), 2), "p50": float(np.percentile(total, 50))},
        "kept_tokens": {"mean": round(float(kept_tokens.mean()), 2),
                        **{f"p{p}": float(np.percentile(kept_tokens, p)) for p in (50, 90)}},
        "compression": {"mean": round(float(ratio.mean()), 4),
                        **{f"p{p}": round(float(np.percentile(ratio, p)), 4) for p in (10, 50, 90)}},
        "kept_units_mean": round(float(np.mean([len(k) for k in kept])), 3),
        "units_mean": round(float(np.mean([len(s) for s in units.spans])), 3),
        "cut": sum(c is not None for c in choice.cuts),
    }
