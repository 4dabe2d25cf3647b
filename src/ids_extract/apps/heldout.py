"""The held-out stages of ``train-extractor``: score the held-out articles and their stress set
with every signal (``score``), then fit and measure the learned fusion there (``fuse``).

The stress set's distractors are made with pools from the whole training file (other articles
than the question's own); the held-out questions were never trained on. The fusion is fitted on
the clean and the stressed questions together, and its reported figures are out-of-fold
(:func:`ids_extract.select.learned.cross_fit`, folds of whole articles), so they are not measured
on the questions it was fitted on. ``report.json`` also holds a leave-one-signal-out ablation:
what each signal adds, by the same cross-validation.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from ..files import write_json
from ..pipeline.fit_fusion import sentence_labels
from ..pipeline.pretrained import ExtractorSpec
from ..pipeline.robustness import compare, distractor_units, fused, signal_scores
from ..scorers import build_scorer
from ..select.cascade import Cascade
from ..select.fusion import WeightedFusion
from ..select.learned import cross_fit, fit
from ..squad.read import load
from ..squad.stress import StressSet, stress_set
from ..squad.units import SquadUnits, answer_units, squad_units

REPORT = "heldout/report.json"
FOLDS = 4


class HeldOut:
    """The held-out questions, their stress set, the units of both and every signal's scores."""

    def __init__(self, out: Path, spec: ExtractorSpec, seed: int, train_file: str, device: str,
                 quiet: bool) -> None:
        self.out, self.spec, self.device, self.quiet = out, spec, device, quiet
        self.data = load(out / "data" / "heldout.json")
        self.stress: StressSet = stress_set(self.data, seed=seed, segmenter=spec.segmenter,
                                            source=load(train_file))
        self.clean = squad_units(self.data, "eval", spec.segmenter)
        self.stressed = squad_units(self.stress.dataset, "eval", spec.segmenter)

    @functools.cached_property
    def scores(self) -> tuple[dict[str, list[np.ndarray]], dict[str, list[np.ndarray]]]:
        """(clean, stressed) scores per signal, from the cache when scored before."""
        cache = self.out / "heldout" / "scores"
        scorers = [build_scorer(name, **options)
                   for name, options in self.spec.scorer_options(self.device).items()]
        cascade = Cascade.from_config(self.spec.cascade)
        return (signal_scores(self.clean, scorers, cache, cascade, self.quiet),
                signal_scores(self.stressed, scorers, cache, cascade, self.quiet))

    def titles(self, units: SquadUnits) -> list[str]:
        return [units.titles[p] for p in units.owner]


def score(out: Path, spec: ExtractorSpec, seed: int, train_file: str, device: str,
          quiet: bool) -> dict[str, Any]:
    """The ``score`` stage: every signal over the held-out questions and their stress set."""
    held = HeldOut(out, spec, seed, train_file, device, quiet)
    clean, _ = held.scores
    return {"questions": len(held.clean), "signals": list(clean),
            "with_distractor": len(held.stress.inserted),
            "distractor_coverage_pct": round(100 * held.stress.coverage, 2)}


def fuse(out: Path, spec: ExtractorSpec, seed: int, train_file: str, C: float, device: str,
         quiet: bool) -> dict[str, Any]:
    """The ``fuse`` stage: fit the learned fusion on clean + stressed held-out questions, save
    it as ``fusion.json``, and write the held-out report (out-of-fold figures)."""
    held = HeldOut(out, spec, seed, train_file, device, quiet)
    clean, stressed = held.scores
    names = list(clean)
    both = {n: clean[n] + stressed[n] for n in names}
    labels = sentence_labels(held.clean) + sentence_labels(held.stressed)
    groups = held.titles(held.clean) + held.titles(held.stressed)
    model = fit(both, labels, C=C, fitted_on={"heldout_questions": len(held.clean),
                                              "stressed_questions": len(held.stressed)})
    model.save(out / "fusion.json")
    gold = (answer_units(held.clean), answer_units(held.stressed))
    distractors = distractor_units(held.stressed, held.stress)
    n = len(held.clean)

    def rows(subset: list[str]) -> dict[str, dict[str, float]]:
        oof = cross_fit({s: both[s] for s in subset}, labels, groups, FOLDS, C)
        weighted = fused(both, WeightedFusion(subset))
        return compare({"learned": oof[:n], "weighted": weighted[:n]},
                       {"learned": oof[n:], "weighted": weighted[n:]}, *gold, distractors)

    table = compare(clean, stressed, *gold, distractors)
    table.update({f"fused ({k}, {'out-of-fold' if k == 'learned' else 'equal weights'})": v
                  for k, v in rows(names).items()})
    ablation = ({f"without {s}": rows([m for m in names if m != s])["learned"] for s in names}
                if len(names) > 1 else {})
    report = {"heldout_questions": n, "heldout_articles": [a.title for a in held.data.articles],
              "with_distractor": len(held.stress.inserted),
              "distractor_coverage_pct": round(100 * held.stress.coverage, 2),
              "distractor_merged": sum(1 for q, d in enumerate(distractors) if d is None
                                       and held.stressed.qas[q].id in held.stress.inserted),
              "folds": FOLDS, "signals": table, "ablation": ablation,
              "weights": {k: round(v, 4) for k, v in model.weights().items()}}
    write_json(report, out / REPORT)
    learned = table[next(k for k in table if k.startswith("fused (learned"))]
    return {"top1": learned["top1"], "stress_top1": learned["stress_top1"],
            "distractor_first": learned["distractor_first"], "weights": report["weights"]}
