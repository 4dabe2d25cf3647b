"""The ig and reader scorers on a tiny BertForQuestionAnswering built from a config: shapes,
completeness of the attributions, windows, cascade, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ids_extract.errors import ConfigError
from ids_extract.scorers import ScoringBatch, build_scorer
from ids_extract.scorers.ig import IGScorer, best_span
from ids_extract.scorers.reader import windows

from .conftest import CONTEXT, CONTEXT2

SENTENCES = [
    "The Normans were people who in the 10th and 11th centuries gave their name to Normandy. ",
    "They were descended from Norse raiders led by Rollo. ",
    "In 1066, William the Conqueror invaded England.",
]
PARIS = ["Paris is the capital of France. ", "It has 2 million people. ",
         "The Seine flows through Paris. ", "X marks the spot."]
BATCH = ScoringBatch([SENTENCES, PARIS], ["Who led the Norse raiders?", "What river flows?",
                                          "When did William invade England?"], [0, 1, 0])


def test_scores_have_one_finite_value_per_sentence(tiny_qa_dir: Path) -> None:
    for options in ({"n_steps": 8}, {"target": "sum", "aggregation": "max", "n_steps": 4},
                    {"mode": "gxi"}):
        scores = build_scorer("ig", model=str(tiny_qa_dir), device="cpu", **options).score(BATCH)
        assert [len(s) for s in scores] == [3, 4, 3]
        assert all(np.isfinite(s).all() for s in scores)
        assert not np.allclose(scores[0], scores[0][0])  # the sentences are told apart


def _logit_gap(scorer: IGScorer, row: dict[str, list[int]], span: tuple[int, int],
               which: str) -> float:
    """F(input) − F(baseline) for the start or end logit at ``span``, by two plain forwards."""
    import torch

    ids = torch.tensor([row["input_ids"]])
    types = torch.tensor([row["token_type_ids"]])
    pos = span[0] if which == "start" else span[1]
    values = []
    for x in (ids, scorer._baseline(ids)):
        with torch.no_grad():
            out = scorer.qa.model(input_ids=x, token_type_ids=types)
        values.append(float((out.start_logits if which == "start" else out.end_logits)[0, pos]))
    return values[0] - values[1]


def test_completeness_attributions_sum_to_the_logit_difference(tiny_qa_dir: Path) -> None:
    scorer = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=64)
    win = windows(scorer.qa, BATCH)
    atts = scorer.attribute_windows(win.inputs, [s >= 0 for s in win.sentence_of])
    assert len(atts) == len(win.inputs)
    for row, att in zip(win.inputs, atts, strict=True):
        n = len(row["input_ids"])
        assert att.token_scores["start"].shape == (n,) == att.start_prob.shape
        assert np.isclose(np.linalg.norm(att.token_scores["end"]), 1.0)
        assert win.sentence_of[win.inputs.index(row)][att.span[0]] >= 0  # span in the context
        for which in ("start", "end"):
            gap = _logit_gap(scorer, row, att.span, which)
            assert abs(att.raw_sums[which] - gap) <= 0.02 * max(1.0, abs(gap))
            assert abs(att.delta[which]) <= 0.02 * max(1.0, abs(gap))


def test_few_steps_are_less_complete_than_many(tiny_qa_dir: Path) -> None:
    errors = []
    for steps in (2, 64):
        scorer = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=steps,
                          method="riemann_left", target="start")
        win = windows(scorer.qa, BATCH)
        atts = scorer.attribute_windows(win.inputs, [s >= 0 for s in win.sentence_of])
        errors.append(sum(abs(a.delta["start"]) for a in atts))
    assert errors[1] < errors[0]


def test_long_context_is_windowed(tiny_qa_dir: Path) -> None:
    long = [CONTEXT + " ", CONTEXT2 + " ", CONTEXT + " ", CONTEXT2]
    batch = ScoringBatch([long], ["Who led the Norse raiders?"], [0])
    scorer = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=4, max_seq_length=48,
                      stride=16)
    assert len(windows(scorer.qa, batch).inputs) > 1
    (scores,) = scorer.score(batch)
    assert scores.shape == (4,) and np.isfinite(scores).all()


def test_cascade_runs_ig_only_where_cheap_scorers_are_unsure(tiny_qa_dir: Path) -> None:
    plain = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=4).score(BATCH)
    never = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=4, cascade="bm25",
                     cascade_margin=-1.0)
    cheap = never.score(BATCH)
    assert never.last_ig_fraction == 0.0
    bm25 = build_scorer("bm25").score(BATCH)
    for c, b in zip(cheap, bm25, strict=True):  # the cheap fusion's ranking, not IG's
        assert list(np.argsort(-c)) == list(np.argsort(-b))
    always = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=4, cascade="bm25",
                      cascade_margin=1e9)
    assert all(np.allclose(a, p) for a, p in zip(always.score(BATCH), plain, strict=True))
    assert always.last_ig_fraction == 1.0


def test_reader_mass_is_a_share_of_the_probability(tiny_qa_dir: Path) -> None:
    scores = build_scorer("reader", model=str(tiny_qa_dir), device="cpu").score(BATCH)
    assert [len(s) for s in scores] == [3, 4, 3]
    for s in scores:
        assert (s >= 0).all() and s.sum() <= 1.0 + 1e-6 and s.sum() > 0.5


def test_best_span_is_valid() -> None:
    start = np.array([9.0, 1.0, 0.0, 5.0, 0.0])
    end = np.array([9.0, 0.0, 3.0, 0.0, 1.0])
    context = np.array([False, True, True, True, True])
    assert best_span(start, end, context) == (3, 4)  # [CLS] excluded, end >= start


def test_bad_options_and_models_are_config_errors(tiny_qa_dir: Path,
                                                  tiny_tokenizer_dir: Path) -> None:
    with pytest.raises(ConfigError):
        build_scorer("ig", model=str(tiny_qa_dir), target="middle")
    with pytest.raises(ConfigError):
        build_scorer("ig", model=str(tiny_qa_dir), n_steps=1)
    with pytest.raises(ConfigError, match="QA"):
        build_scorer("reader", model=str(tiny_tokenizer_dir))
    with pytest.raises(ConfigError):
        build_scorer("ig")
