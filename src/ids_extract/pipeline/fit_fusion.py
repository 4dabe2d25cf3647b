"""Fitting the ``learned`` fusion on a QA training file: score it with every scorer and label each
sentence by whether it holds the first answer's start, on the same units (segmented once, with the
evaluation split's rules: those the extractor ranks on dev), then fit
:func:`ids_extract.select.learned.fit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import defaults
from ..select.learned import LearnedFusion, fit
from ..select.segment import check_segmenter
from ..squad.model import SquadDataset
from ..squad.units import SquadUnits, squad_units
from .selector import Selector
from .sentences import unit_rows


def sentence_labels(units: SquadUnits) -> list[np.ndarray]:
    """Per question (in file order), 1 for the sentence that holds the first answer's start
    (from the sentence-level dataset's rows)."""
    out: list[np.ndarray] = []
    for row in unit_rows(units):
        if row["sentence_index"] == 0:
            out.append(np.zeros(row["num_sentences"], dtype=np.int64))
        if row["label"] is not None:
            out[-1][row["sentence_index"]] = 1
    return out


def fit_on_dataset(dataset: SquadDataset, scorers: Sequence[str],
                   scorer_options: Mapping[str, Mapping[str, Any]] | None = None,
                   segmenter: str = defaults.SEGMENTER, C: float = 1.0, source: str | None = None,
                   quiet: bool = True) -> LearnedFusion:
    """Score a training file with every scorer (evaluation-split units) and fit the fusion."""
    units = squad_units(dataset, "eval", check_segmenter(segmenter), quiet=quiet)
    selector = Selector.build(scorers, options=scorer_options)
    scored = selector.score(units, quiet=quiet)
    info = {"source": source or dataset.source, "segmenter": segmenter,
            "scorer_configs": [s.config() for s in selector.scorers]}
    return fit(scored.per_scorer, sentence_labels(units), C=C, fitted_on=info)
