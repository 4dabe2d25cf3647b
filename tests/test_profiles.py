"""The profile frontier's parts: the cascade applied to scores of every unit, the constrained
learned fusion, and how profiles are chosen."""

from __future__ import annotations

import numpy as np

from ids_extract.pipeline.profiles import Candidate, Targets, cascade_of, choose, subsets
from ids_extract.select.cascade import Cascade, cascaded, masked
from ids_extract.select.learned import fit


def test_cascaded_equals_masking_the_cheap_top_k() -> None:
    bm25 = [np.array([3.0, 1.0, 2.0, 0.0])]
    cross = [np.array([0.0, 9.0, 5.0, 7.0])]
    scores, chosen = cascaded({"bm25": bm25, "cross": cross}, Cascade(2, ("cross",)))
    assert chosen is not None and chosen[0].tolist() == [0, 2]
    assert np.allclose(scores["cross"][0], masked(cross[0], np.array([0, 2])))
    assert scores["cross"][0][2] > scores["cross"][0][0] > scores["cross"][0][1]
    assert scores["bm25"][0] is bm25[0]
    same, none = cascaded({"bm25": bm25, "cross": cross}, None)
    assert none is None and same["cross"][0] is cross[0]


def test_nonnegative_fusion_keeps_every_weight_at_or_above_zero() -> None:
    rng = np.random.default_rng(0)
    labels, good, bad = [], [], []
    for _ in range(200):
        y = np.zeros(5, dtype=np.int64)
        y[rng.integers(5)] = 1
        labels.append(y)
        good.append(y * 2.0 + rng.normal(size=5))
        bad.append(-y * 1.0 + rng.normal(size=5))  # evidence against the answer
    free = fit({"good": good, "bad": bad}, labels)
    held = fit({"good": good, "bad": bad}, labels, nonnegative=True)
    assert free.weights()["bad"] < 0 and min(held.coef) >= 0 and held.weights()["good"] > 0
    weighted = fit({"good": good, "bad": bad}, labels, weights=[1.0] * 100 + [0.0] * 100)
    half = fit({"good": good[:100], "bad": bad[:100]}, labels[:100])
    assert np.allclose(weighted.coef, half.coef, atol=1e-3)  # weight 0: left out
    # where the free optimum has no negative weight, the bounded solver finds the same one
    assert np.allclose(fit({"good": good}, labels, nonnegative=True).coef,
                       fit({"good": good}, labels).coef, atol=0.01)


def test_cascade_of_and_choice() -> None:
    assert cascade_of(("bm25", "cross", "cross-small"), 4) == Cascade(4, ("cross", "cross-small"))
    assert cascade_of(("cross",), 4) is None and cascade_of(("bm25", "sbert"), 4) is None
    assert len(subsets("abc")) == 7

    def cand(signals: tuple[str, ...], top1: float, first: float, loss: float,
             cost: float, weighted_top1: float = 0.0) -> Candidate:
        figures = {"top1": top1, "distractor_first": first, "top1_loss": loss}
        return Candidate(signals, None, figures, {**figures, "top1": weighted_top1}, cost)

    rows = [cand(("bm25",), 80, 60, 50, 0.001), cand(("bm25", "sbert"), 83, 30, 25, 0.01),
            cand(("bm25", "cross-small"), 86, 5, 2, 0.003),
            cand(("bm25", "static", "cross-small"), 86, 4, 2, 0.0035),
            cand(("bm25", "dpr"), 87, 6, 4, 0.009),  # over 0.4 of the defaults' cost
            cand(("bm25", "cross"), 89, 2, 1, 0.05), cand(("dpr", "cross"), 90, 12, 1, 0.06)]
    chosen = choose(rows, ("bm25", "sbert"), Targets(fast_cost=0.4))
    assert chosen["fast"].candidate.signals == ("bm25", "cross-small")  # a tie: the cheaper
    assert chosen["best"].candidate.signals == ("bm25", "cross")  # 90: distractor first too often
    assert chosen["fast"].fusion == "learned" and chosen["fast"].targets_met
    # nothing within the cost keeps the distractor down: the most accurate there, flagged; its
    # equal-weight sum beats its learned fusion, so that is the profile's fusion; the untrained
    # signals are never a profile, however accurate
    cheap = [cand(("bm25",), 80, 60, 50, 0.001), cand(("bm25", "sbert"), 88, 30, 25, 0.01, 89),
             cand(("bm25", "static"), 82, 20, 25, 0.002, 83),
             cand(("bm25", "cross"), 89, 2, 1, 0.05)]
    fast = choose(cheap, ("bm25", "sbert"), Targets(fast_cost=0.4))["fast"]
    assert fast.candidate.signals == ("bm25", "static") and fast.fusion == "weighted"
    assert fast.figures["top1"] == 83 and not fast.targets_met
    # the default targets allow 2x the defaults' cost: a robust subset there beats a cheaper
    # one that the distractor fools
    assert choose(rows, ("bm25", "sbert"))["fast"].candidate.signals == ("bm25", "dpr")
    assert choose(cheap, ("bm25", "sbert"))["best"].candidate.signals == ("bm25", "cross")


def test_multi_passage_moves_answers_into_the_joined_context() -> None:
    from ids_extract.squad.passages import multi_passage

    from .conftest import people_dataset

    data = people_dataset()
    multi = multi_passage(data, others=4, seed=0)
    assert multi.num_questions == data.num_questions
    for (_, p, qa), (_, old_p, old) in zip(multi.iter_qas(), data.iter_qas(), strict=True):
        assert qa.id == old.id and old_p.context in p.context
        for a in qa.answers:
            assert p.context[a.answer_start:a.answer_start + len(a.text)] == a.text
    again = multi_passage(data, others=4, seed=0)
    assert [p.context for p in again.paragraphs()] == [p.context for p in multi.paragraphs()]
