"""Scorers that need no question: position baselines, zero-shot label similarity, the classifier's
sentence-alone log-odds and IG of its class logit (completeness, targets, windows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ids_extract.errors import ConfigError
from ids_extract.models.classifier.predict import text_logits
from ids_extract.scorers import build_scorer
from ids_extract.scorers.cls_base import log_odds
from ids_extract.scorers.label import parse_descriptions
from ids_extract.select.units import ScoringBatch

from .conftest import CONTEXT, CONTEXT2, NORMAN, PARIS

BATCH = ScoringBatch([NORMAN, PARIS], ["", "", ""], [0, 1, 0])


def test_text_scorers_have_their_own_names() -> None:
    with pytest.raises(ConfigError, match="unknown scorer 'bm25'"):
        build_scorer("bm25", task="text")
    with pytest.raises(ConfigError, match="trained classifier"):
        build_scorer("ig", task="text")


def test_lead_and_headtail() -> None:
    lead = build_scorer("lead", task="text").score(BATCH)
    assert [len(s) for s in lead] == [5, 4, 5]
    assert list(np.argsort(-lead[0])) == [0, 1, 2, 3, 4]
    units = ["a" * 10] * 8  # equal lengths: a quarter from the head, the rest from the tail
    scores = build_scorer("headtail", task="text", head_ratio=0.25).score(
        ScoringBatch([units], [""], [0]))[0]
    # unit i has i/8 of the text before it and (7-i)/8 after: score -min(4i/8, (7-i)/6)
    assert list(np.argsort(-scores, kind="stable")) == [0, 7, 6, 5, 1, 4, 3, 2]
    only_head = build_scorer("headtail", task="text", head_ratio=1.0).score(
        ScoringBatch([units], [""], [0]))[0]
    assert list(np.argsort(-only_head, kind="stable")) == list(range(8))
    with pytest.raises(ConfigError):
        build_scorer("headtail", task="text", head_ratio=2)


def test_label_scorer(tiny_sbert_dir: Path) -> None:
    scorer = build_scorer("label", task="text", labels=["normans", "paris"], model=str(tiny_sbert_dir),
                          device="cpu", descriptions="paris=Paris is the capital of France.")
    assert scorer.descriptions == {"normans": ["normans"], "paris": ["Paris is the capital of France."]}
    scores = scorer.score(BATCH)
    assert [len(s) for s in scores] == [5, 4, 5] and np.all(scores[0] >= 0)
    # a unit equal to a description is the most similar to it: the best in its text by `max`
    top = build_scorer("label", task="text", labels=["normans", "paris"], mode="max",
                       model=str(tiny_sbert_dir), device="cpu",
                       descriptions={"paris": ["Paris is the capital of France."]}).score(BATCH)
    assert int(np.argmax(top[1])) == 0
    assert parse_descriptions("a=x|y, b=z") == {"a": ["x", "y"], "b": ["z"]}
    for bad in ({"labels": ["a"]}, {"labels": ["a", "b"], "descriptions": "c=no"},
                {"labels": ["a", "b"], "descriptions": "a"}, {"labels": ["a", "b"], "mode": "min"}):
        with pytest.raises(ConfigError):
            build_scorer("label", task="text", model=str(tiny_sbert_dir), **bad)


def test_log_odds() -> None:
    assert np.allclose(log_odds(np.array([[2.0, 0.0]])), [[2.0, -2.0]])
    three = log_odds(np.array([[0.0, 1.0, 3.0]]))
    assert three[0, 2] == pytest.approx(3.0 - np.log(np.exp(0.0) + np.exp(1.0)))
    p = np.exp(three[0]) / (1 + np.exp(three[0]))  # log-odds back to probabilities: a softmax
    assert np.allclose(p, np.exp([0.0, 1.0, 3.0]) / np.exp([0.0, 1.0, 3.0]).sum())


def test_alone_targets(tiny_classifier_dir: Path) -> None:
    model = str(tiny_classifier_dir)
    alone = build_scorer("alone", task="text", model=model, device="cpu", target="gold")
    gold = ScoringBatch([NORMAN, PARIS], ["", ""], [0, 1], ["normans", "paris"])
    by_gold = alone.score(gold)
    logits, _ = text_logits(alone.clf, [u.strip() for u in NORMAN], "head")
    assert np.allclose(by_gold[0], logits[:, 0] - logits[:, 1], atol=1e-5)
    with pytest.raises(ConfigError, match="`split` train"):
        alone.score(BATCH)
    anyone = build_scorer("alone", task="text", model=model, device="cpu", target="any")
    assert np.allclose(anyone.score(gold)[0], np.abs(logits[:, 0] - logits[:, 1]), atol=1e-5)
    auto = build_scorer("alone", task="text", model=model, device="cpu")
    predicted, _ = text_logits(auto.clf, [CONTEXT, CONTEXT2], "windows")
    t = int(predicted[0].argmax())
    expected = logits[:, t] - logits[:, 1 - t]
    assert np.allclose(auto.score(BATCH)[0], expected, atol=1e-5)  # eval: the predicted class
    assert np.allclose(auto.score(gold)[1], by_gold[1], atol=1e-5)  # labels given: gold
    with pytest.raises(ConfigError):
        build_scorer("ig", task="text", model=model, device="cpu", target="any")


def test_ig_completeness_and_windows(tiny_classifier_dir: Path) -> None:
    import torch

    ig = build_scorer("ig", task="text", model=str(tiny_classifier_dir), device="cpu", n_steps=64)
    clf = ig.clf
    enc = clf.tokenizer([CONTEXT2], return_tensors="pt")
    ids = enc["input_ids"]
    target = torch.tensor([1])
    extra = (enc["token_type_ids"], enc["attention_mask"], target)
    attributions = ig._run(ids, ig._baseline(ids), extra)  # (1, tokens, hidden)
    with torch.no_grad():
        gap = ig._forward(ids, *extra) - ig._forward(ig._baseline(ids), *extra)
    assert float(attributions.sum()) == pytest.approx(float(gap), rel=0.05, abs=1e-3)
    baseline = ig._baseline(ids)[0].tolist()
    assert baseline[0] == clf.tokenizer.cls_token_id and baseline[-1] == clf.tokenizer.sep_token_id
    assert set(baseline[1:-1]) == {clf.tokenizer.pad_token_id}
    scores = ig.score(BATCH)  # NORMAN is longer than the classifier's 32 tokens: windows
    assert [len(s) for s in scores] == [5, 4, 5] and np.isfinite(scores[0]).all()
    assert np.allclose(scores[0], scores[2])  # the same text, the same target
    assert len(set(np.round(scores[0], 6))) > 1
    gxi = build_scorer("ig", task="text", model=str(tiny_classifier_dir), device="cpu", mode="gxi")
    assert gxi.config()["n_steps"] == 1 and len(gxi.score(BATCH)[1]) == 4
    for bad in ({"n_steps": 1}, {"mode": "lrp"}, {"aggregation": "median"}, {"precision": "fp16"}):
        with pytest.raises(ConfigError):
            build_scorer("ig", task="text", model=str(tiny_classifier_dir), device="cpu", **bad)
