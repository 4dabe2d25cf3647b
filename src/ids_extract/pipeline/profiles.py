"""Extractor profiles: which signals to run, with which cascade and fusion, measured for every
subset of the signals from scores computed once.

Every signal scores every unit once (clean questions and their stress set); a subset's cascade is
then applied exactly by masking (:func:`ids_extract.select.cascade.cascaded`), and its learned
fusion is fitted on those masked scores. So the whole frontier — top-1 clean and stressed, how
often the distractor is ranked first, and the cost of the signals — comes from one scoring pass,
not one extraction run per subset. ``train-extractor`` measures it out-of-fold on its held-out
articles and chooses the profiles there (never on dev); ``bench/extractor_profiles.py`` fits each
subset on the held-out articles and reports it on dev.

The cost of a subset is estimated from the seconds each signal took on the same questions: a
signal that reads every unit costs what it cost, a cascaded one its seconds per unit read times
the units the cascade hands it. The benchmark measures the chosen profiles end to end.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .. import defaults
from ..select.cascade import Cascade, cascaded
from ..select.fusion import WeightedFusion
from ..select.learned import LearnedFusion, cross_fit, fit
from .robustness import PerSignal, compare, figures, fused

#: read only the cascade's top k units of the other signals (one forward pass per pair)
RERANKERS = ("cross", "cross-small")


@dataclass(frozen=True)
class Objective:
    """How a learned fusion is fitted: clean questions weigh ``clean_weight`` against the
    stressed ones (0.5: as many of each), and with ``nonnegative`` no coefficient is below 0;
    where the scores hold a multi-passage set, it weighs ``multi_weight`` of the whole (a fusion
    fitted on single paragraphs alone learned weights that cost 4-7 points of top-1 when several
    passages are handed over at once)."""

    clean_weight: float = 0.5
    nonnegative: bool = False
    C: float = 1.0
    multi_weight: float = 0.0

    @property
    def name(self) -> str:
        return (f"clean {self.clean_weight:g}" + (", weights >= 0" if self.nonnegative else "")
                + (f", multi-passage {self.multi_weight:g}" if self.multi_weight else ""))


@dataclass
class Scores:
    """Every signal's scores of one question set (``clean``) and of its stress set, with what
    is needed to fit and measure fusions on them."""

    clean: PerSignal
    stressed: PerSignal
    labels: list[np.ndarray]  # clean + stressed (+ multi), one array per item
    groups: list[str]  # clean + stressed (+ multi): the item's article (folds: whole articles)
    clean_gold: list[set[int]]
    stress_gold: list[set[int]]
    distractors: list[int | None]
    #: the same questions, each among other paragraphs of its article (optional)
    multi: PerSignal | None = None
    multi_gold: list[set[int]] | None = None

    def weights(self, objective: Objective) -> list[float]:
        """Per item: each set gets its share of the total weight (clean and stressed split by
        ``clean_weight``, the multi-passage set ``multi_weight`` when there is one); mean 1."""
        n, m = len(self.clean_gold), len(self.stress_gold)
        k = len(self.multi_gold or [])
        multi = objective.multi_weight if k else 0.0
        w, total = objective.clean_weight, n + m + k
        shares = [(n, w * (1 - multi)), (m, (1 - w) * (1 - multi)), (k, multi)]
        return [x for size, share in shares for x in [share * total / max(size, 1)] * size]


def cascade_of(signals: Sequence[str], k: int) -> Cascade | None:
    """The cross-encoders of ``signals`` read the top ``k`` of the others (none when there is no
    other signal to rank with, or no cross-encoder)."""
    expensive = tuple(s for s in RERANKERS if s in signals)
    if not expensive or len(expensive) == len(signals):
        return None
    return Cascade(k, expensive)


def _view(scores: Scores, signals: Sequence[str],
          cascade: Cascade | None) -> tuple[PerSignal, PerSignal, dict[str, list[np.ndarray]]]:
    """(clean, stressed, all) scores of ``signals`` as their cascade gives them (all: clean,
    stressed and the multi-passage set when there is one, in the order of ``labels``)."""
    clean, _ = cascaded({s: scores.clean[s] for s in signals}, cascade)
    stressed, _ = cascaded({s: scores.stressed[s] for s in signals}, cascade)
    multi = (cascaded({s: scores.multi[s] for s in signals}, cascade)[0]
             if scores.multi is not None else dict.fromkeys(signals, []))
    return clean, stressed, {s: clean[s] + stressed[s] + multi[s] for s in signals}


def _multi_top1(scores: Scores, fused_all: list[np.ndarray]) -> dict[str, float]:
    """Top-1 on the multi-passage set (the last items of ``fused_all``), if there is one."""
    if not scores.multi_gold:
        return {}
    k = len(scores.multi_gold)
    return {"multi_top1": figures(fused_all[-k:], scores.multi_gold)["top1"]}


def out_of_fold(scores: Scores, signals: Sequence[str], objective: Objective,
                cascade: Cascade | None, folds: int = 4) -> dict[str, dict[str, float]]:
    """Figures of the learned fusion of ``signals``, each fold scored by a fusion fitted on the
    other folds (whole articles), and of their equal-weight sum."""
    clean, stressed, both = _view(scores, signals, cascade)
    oof = cross_fit(both, scores.labels, scores.groups, folds, objective.C,
                    weights=scores.weights(objective), nonnegative=objective.nonnegative)
    weighted = fused(both, WeightedFusion(list(signals)))
    n, m = len(scores.clean_gold), len(scores.stress_gold)
    rows = compare({"learned": oof[:n], "weighted": weighted[:n]},
                   {"learned": oof[n:n + m], "weighted": weighted[n:n + m]}, scores.clean_gold,
                   scores.stress_gold, scores.distractors)
    rows["learned"].update(_multi_top1(scores, oof))
    rows["weighted"].update(_multi_top1(scores, weighted))
    return rows


def fitted(scores: Scores, signals: Sequence[str], objective: Objective,
           cascade: Cascade | None) -> LearnedFusion:
    """The learned fusion of ``signals`` fitted on all of ``scores`` (clean and stressed)."""
    _, _, both = _view(scores, signals, cascade)
    return fit(both, scores.labels, C=objective.C, weights=scores.weights(objective),
               nonnegative=objective.nonnegative,
               fitted_on={"clean_weight": objective.clean_weight})


def measured(fusion: LearnedFusion | None, scores: Scores, signals: Sequence[str],
             cascade: Cascade | None) -> dict[str, dict[str, float]]:
    """Figures of a fusion fitted elsewhere (None: the equal-weight sum) on ``scores``."""
    clean, stressed, every = _view(scores, signals, cascade)
    fuser = fusion if fusion is not None else WeightedFusion(list(signals))
    rows = compare({"fused": fused(clean, fuser)}, {"fused": fused(stressed, fuser)},
                   scores.clean_gold, scores.stress_gold, scores.distractors)
    if scores.multi is not None:
        rows["fused"].update(_multi_top1(scores, fused(every, fuser)))
    return rows


def seconds_per_item(signals: Sequence[str], cascade: Cascade | None, scores: Scores,
                     timings: Mapping[str, Mapping[str, Any]]) -> float:
    """Estimated scoring seconds per question of ``signals`` (see the module doc)."""
    _, chosen = cascaded({s: scores.clean[s] for s in signals}, cascade)
    items = len(scores.clean_gold)
    total = 0.0
    for s in signals:
        t = timings[s]
        if cascade is not None and s in cascade.expensive and chosen is not None:
            total += t["seconds"] / max(t["units_read"], 1) * sum(len(c) for c in chosen)
        else:
            total += t["seconds"] * items / max(t["items"], 1)
    return total / max(items, 1)


def subsets(signals: Sequence[str]) -> list[tuple[str, ...]]:
    """Every non-empty subset of ``signals``, in their order."""
    return [c for r in range(1, len(signals) + 1) for c in itertools.combinations(signals, r)]


@dataclass
class Candidate:
    """One subset of signals measured out-of-fold: the figures of its learned fusion and its
    estimated cost."""

    signals: tuple[str, ...]
    cascade: dict[str, object] | None
    figures: dict[str, float]
    weighted: dict[str, float]
    seconds_per_item: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def frontier(scores: Scores, signals: Sequence[str], objective: Objective, k: int | Sequence[int],
             timings: Mapping[str, Mapping[str, Any]]) -> list[Candidate]:
    """Every subset of ``signals``, measured out-of-fold, cheapest first; a subset with a
    cross-encoder once per cascade depth in ``k`` (how many of the cheap signals' best units it
    reads: fewer is cheaper, more can find the answer lower down)."""
    out = []
    depths = sorted({k} if isinstance(k, int) else set(k))
    for subset in subsets(signals):
        seen: set[Any] = set()
        for depth in depths:
            cascade = cascade_of(subset, depth)
            if cascade in seen:
                continue  # no reranker (or nothing to rank with): one row
            seen.add(cascade)
            rows = out_of_fold(scores, subset, objective, cascade)
            out.append(Candidate(subset, cascade.config() if cascade else None,
                                 rows["learned"], rows["weighted"],
                                 round(seconds_per_item(subset, cascade, scores, timings), 6)))
    return sorted(out, key=lambda c: c.seconds_per_item)


#: the signals that need no training (a profile of only these is the untrained defaults)
UNTRAINED = defaults.SCORERS


@dataclass(frozen=True)
class Targets:
    """What a profile must hold on the held-out articles: at most this share (%) of stressed
    questions with the distractor first, at most this loss of top-1 under the distractor; and
    ``fast`` at most ``fast_cost`` times the scoring cost of the reference signals (the
    untrained defaults), measured on the machine that trains. 2.0, not the 0.4 a 4x-faster job
    would need: on the held-out articles no subset within 1x the defaults' cost keeps the
    distractor out of first place for 90 % of stressed questions (bm25 + static, the best under
    0.4x, puts it first for half of them), while the cross-encoder over the cheap signals' best 2
    units does at ~1.8x; a fast profile a restated question fools is no default
    (bench/results/pretrained.json, issue 32)."""

    distractor_first: float = 10.0
    stress_loss: float = 3.0
    fast_cost: float = 2.0


@dataclass
class Profile:
    """A chosen subset with the fusion that measured best for it there (``learned`` or the
    ``weighted`` equal-weight sum), its figures, and whether it holds the targets."""

    candidate: Candidate
    fusion: str
    figures: dict[str, float]
    targets_met: bool

    def to_dict(self) -> dict[str, Any]:
        return {"signals": list(self.candidate.signals), "cascade": self.candidate.cascade,
                "fusion": self.fusion, "heldout": self.figures,
                "seconds_per_question": self.candidate.seconds_per_item,
                "targets_met": self.targets_met}


def choose(candidates: Sequence[Candidate], reference: Sequence[str],
           targets: Targets = Targets()) -> dict[str, Profile]:
    """``fast``: the most accurate (held-out top-1) subset and fusion that costs at most
    ``targets.fast_cost`` times the ``reference`` signals (the defaults') and puts the
    distractor first for at most ``targets.distractor_first`` %; ``best``: the most accurate
    that holds both robustness targets. Neither is ever a subset of the untrained signals alone
    (a profile that is the defaults under another name helps nobody). Each subset competes with
    its learned fusion and with its equal-weight sum (a learned fusion fitted where half the
    questions carry a distractor can lose clean questions to it). Where nothing holds a
    profile's targets, its most accurate option within its cost is taken and marked
    ``targets_met=False`` (the card and the training log say so); ties go to the cheaper."""
    ref_cost = next((c.seconds_per_item for c in candidates
                     if set(c.signals) == set(reference)), None)
    limit = None if ref_cost is None else ref_cost * targets.fast_cost
    options = [(c, name, figures) for c in candidates
               if not set(c.signals) <= set(UNTRAINED)
               for name, figures in (("learned", c.figures), ("weighted", c.weighted))]
    robust = targets.distractor_first

    def pick(pool: list[tuple[Candidate, str, dict[str, float]]],
             holds: Any) -> Profile | None:
        if not pool:
            return None
        good = [o for o in pool if holds(o[2])]
        c, name, figures = max(good or pool, key=lambda o: (o[2]["top1"], -o[0].seconds_per_item))
        return Profile(c, name, figures, bool(good))

    fast = pick([o for o in options if limit is not None and o[0].seconds_per_item <= limit],
                lambda f: f["distractor_first"] <= robust)
    best = pick(options, lambda f: f["distractor_first"] <= robust
                and f["top1_loss"] <= targets.stress_loss)
    return {name: p for name, p in (("fast", fast), ("best", best)) if p is not None}
