"""The held-out stages of ``train-extractor``: score the held-out articles and their stress set
with every signal (``score``), then fit and measure the learned fusion there (``fuse``).

The stress set's distractors are made with pools from the whole training file (other articles
than the question's own); the held-out questions were never trained on. The fusion is fitted on
the clean and the stressed questions together, and its reported figures are out-of-fold
(:func:`ids_extract.select.learned.cross_fit`, folds of whole articles), so they are not measured
on the questions it was fitted on. ``report.json`` also holds a leave-one-signal-out ablation
(what each signal adds) and the fusion objectives compared, by the same cross-validation.

Every signal reads every unit here (no cascade while scoring): the cascade of the extractor, or
of any profile, is applied exactly afterwards (:func:`ids_extract.select.cascade.cascaded`), so
the ``profiles`` stage measures every subset of the signals from this one scoring pass, with the
seconds each signal took (:mod:`ids_extract.pipeline.profiles`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ..files import write_json
from ..pipeline.fit_fusion import sentence_labels
from ..pipeline.pretrained import ExtractorSpec
from ..pipeline.profiles import Objective, Scores, cascade_of, choose, frontier, out_of_fold
from ..pipeline.robustness import compare, distractor_units, figures
from ..pipeline.scoring import ScoreCache
from ..pipeline.selector import Selector
from ..scorers import build_scorer
from ..select.cascade import Cascade
from ..squad.passages import multi_passage
from ..squad.read import load
from ..squad.stress import StressSet, stress_set
from ..squad.units import answer_units, squad_units

REPORT = "heldout/report.json"
FRONTIER = "heldout/frontier.json"
FOLDS = 4
#: the fusion objectives compared on the held-out articles (the report's "objectives")
OBJECTIVES = (Objective(0.5), Objective(0.8), Objective(0.5, True), Objective(0.8, True),
              Objective(0.5, multi_weight=0.25), Objective(0.5, multi_weight=0.5))
#: other paragraphs of the article around each held-out question in the multi-passage set
MULTI_OTHERS = 4


class HeldOut:
    """The held-out questions, their stress set, the units of both and every signal's scores
    of every unit (cached per signal, with the seconds each took)."""

    def __init__(self, out: Path, spec: ExtractorSpec, seed: int, train_file: str, device: str,
                 quiet: bool) -> None:
        self.out, self.spec, self.device, self.quiet = out, spec, device, quiet
        self.data = load(out / "data" / "heldout.json")
        self.stress: StressSet = stress_set(self.data, seed=seed, segmenter=spec.segmenter,
                                            source=load(train_file))
        self.clean = squad_units(self.data, "eval", spec.segmenter)
        self.stressed = squad_units(self.stress.dataset, "eval", spec.segmenter)
        # each question among other paragraphs of its article, as retrieval hands them over
        self.multi = squad_units(multi_passage(self.data, others=MULTI_OTHERS, seed=seed),
                                 "eval", spec.segmenter)
        self.cache = out / "heldout" / "scores"

    @functools.cached_property
    def scorers(self) -> list[Any]:
        return [build_scorer(name, **options)
                for name, options in self.spec.scorer_options(self.device).items()]

    @functools.cached_property
    def scores(self) -> Scores:
        """Every signal over every unit of the clean and the stressed questions."""
        sets = (self.clean, self.stressed, self.multi)
        selector = Selector.build(self.scorers)  # every unit read: the cascade comes after
        clean, stressed, multi = (selector.score(u, cache=self.cache, quiet=self.quiet).per_scorer
                                  for u in sets)
        titles = [u.titles[p] for u in sets for p in u.owner]
        labels = [y for u in sets for y in sentence_labels(u)]
        return Scores(clean, stressed, labels, titles, answer_units(self.clean),
                      answer_units(self.stressed), distractor_units(self.stressed, self.stress),
                      multi, answer_units(self.multi))

    def timings(self) -> dict[str, dict[str, Any]]:
        """The seconds each signal took on the clean questions (every unit read)."""
        out = {}
        for scorer in self.scorers:
            found = ScoreCache(self.cache).timing(self.clean, scorer)
            if found is not None:
                out[scorer.name] = found
        return out


def score(out: Path, spec: ExtractorSpec, seed: int, train_file: str, device: str,
          quiet: bool) -> dict[str, Any]:
    """The ``score`` stage: every signal over the held-out questions and their stress set."""
    held = HeldOut(out, spec, seed, train_file, device, quiet)
    found = held.scores
    return {"questions": len(held.clean), "signals": list(found.clean),
            "with_distractor": len(held.stress.inserted),
            "distractor_coverage_pct": round(100 * held.stress.coverage, 2),
            "seconds": {k: v["seconds"] for k, v in held.timings().items()}}


def fuse(out: Path, spec: ExtractorSpec, seed: int, train_file: str, objective: Objective,
         k: int, device: str, quiet: bool) -> dict[str, Any]:
    """The ``fuse`` stage: fit the learned fusion on clean + stressed held-out questions (the
    extractor's cascade applied), save it as ``fusion.json``, and write the held-out report
    (out-of-fold figures, the ablation and the objectives compared)."""
    from ..pipeline.profiles import fitted

    held = HeldOut(out, spec, seed, train_file, device, quiet)
    found = held.scores
    names = list(found.clean)
    model = fitted(found, names, objective, cascade_of(names, k))
    model.fitted_on.update({"heldout_questions": len(held.clean),
                            "stressed_questions": len(held.stressed),
                            "nonnegative": objective.nonnegative})
    model.save(out / "fusion.json")

    def rows(subset: list[str], how: Objective = objective) -> dict[str, dict[str, float]]:
        return out_of_fold(found, subset, how, cascade_of(subset, k), FOLDS)

    table = compare(found.clean, found.stressed, found.clean_gold, found.stress_gold,
                    found.distractors)
    if found.multi is not None and found.multi_gold is not None:
        for name in names:
            table[name]["multi_top1"] = figures(found.multi[name], found.multi_gold)["top1"]
    table.update({f"fused ({k}, {'out-of-fold' if k == 'learned' else 'equal weights'})": v
                  for k, v in rows(names).items()})
    ablation = ({f"without {s}": rows([m for m in names if m != s])["learned"] for s in names}
                if len(names) > 1 else {})
    objectives = {o.name: rows(names, o)["learned"] for o in OBJECTIVES}
    report = {"heldout_questions": len(held.clean),
              "heldout_articles": [a.title for a in held.data.articles],
              "with_distractor": len(held.stress.inserted),
              "distractor_coverage_pct": round(100 * held.stress.coverage, 2),
              "distractor_merged": sum(1 for q, d in enumerate(found.distractors) if d is None
                                       and held.stressed.qas[q].id in held.stress.inserted),
              "folds": FOLDS, "objective": objective.name, "signals": table,
              "ablation": ablation, "objectives": objectives,
              "weights": {k: round(v, 4) for k, v in model.weights().items()}}
    write_json(report, out / REPORT)
    learned = table[next(k for k in table if k.startswith("fused (learned"))]
    return {"top1": learned["top1"], "stress_top1": learned["stress_top1"],
            "distractor_first": learned["distractor_first"], "weights": report["weights"]}


def profiles(out: Path, spec: ExtractorSpec, seed: int, train_file: str, objective: Objective,
             k: int | list[int], reference: tuple[str, ...], device: str,
             quiet: bool) -> dict[str, Any]:
    """The ``profiles`` stage: every subset of the signals measured out-of-fold (the frontier,
    ``heldout/frontier.json``), the named profiles chosen there
    (:func:`ids_extract.pipeline.profiles.choose`), each one's fusion fitted on all held-out
    questions and saved as ``profiles/<name>.fusion.json``."""
    from ..pipeline.profiles import fitted

    held = HeldOut(out, spec, seed, train_file, device, quiet)
    found, timings = held.scores, held.timings()
    names = [n for n in found.clean if n in timings]
    candidates = frontier(found, names, objective, k, timings)
    chosen = choose(candidates, reference)
    write_json({"objective": objective.name, "k": k, "reference": list(reference),
                "timings": timings, "candidates": [c.to_dict() for c in candidates],
                "chosen": {n: p.to_dict() for n, p in chosen.items()}}, out / FRONTIER)
    result: dict[str, Any] = {}
    for name, profile in chosen.items():
        cand = profile.candidate
        if profile.fusion == "learned":
            model = fitted(found, cand.signals, objective, Cascade.from_config(cand.cascade))
            model.save(out / "profiles" / f"{name}.fusion.json")
        result[name] = profile.to_dict()
    return result
