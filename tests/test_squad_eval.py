"""Official SQuAD v1.1 / v2.0 rules on cases worked out by hand."""

from __future__ import annotations

import pytest

from ids_extract.squad.evaluate import evaluate, exact_match, f1_score, headline, normalize_answer
from ids_extract.squad.model import QA, Answer, Article, Paragraph, SquadDataset

CTX = "The Eiffel Tower is in Paris. It was built in 1889 by Gustave Eiffel's company."


def dataset(qas: list[QA], version: str = "1.1") -> SquadDataset:
    return SquadDataset(version, [Article("t", [Paragraph(CTX, qas)])])


def ans(text: str) -> Answer:
    return Answer(text, CTX.find(text) if text in CTX else 0)


def test_normalisation_removes_case_punctuation_articles_and_spaces() -> None:
    assert normalize_answer("  The  Eiffel-Tower, an icon! ") == "eiffeltower icon"
    assert normalize_answer("A") == ""
    assert normalize_answer("theatre") == "theatre"  # "the" only as a word


def test_f1_by_hand() -> None:
    # pred tokens: [eiffel, tower, in, paris]; gold: [eiffel, tower] -> P 2/4, R 2/2, F1 2/3
    assert f1_score("The Eiffel Tower in Paris", "Eiffel Tower") == pytest.approx(2 / 3)
    # repeated tokens count with multiplicity: pred [paris, paris], gold [paris] -> P 1/2, R 1
    assert f1_score("Paris Paris", "Paris") == pytest.approx(2 / 3)
    assert f1_score("London", "Paris") == 0.0
    assert f1_score("", "") == 1.0 and f1_score("", "Paris") == 0.0
    assert exact_match("the Paris.", "Paris") == 1 and exact_match("Paris 1889", "Paris") == 0


def test_v1_max_over_golds_and_missing_counts_zero() -> None:
    ds = dataset([
        QA("q1", "Where?", [ans("Paris"), ans("in Paris")]),
        QA("q2", "When?", [ans("1889")]),
        QA("q3", "Who?", [ans("Gustave Eiffel's company"), ans("Gustave Eiffel")]),
    ])
    # q1: exact on gold 1 -> EM 1, F1 1. q2: missing -> 0. q3: "Gustave Eiffel" exact on gold 2.
    preds = {"q1": "Paris", "q3": "Gustave Eiffel"}
    m = evaluate(ds, preds)
    assert m["exact_match"] == pytest.approx(200 / 3)
    assert m["f1"] == pytest.approx(200 / 3)
    assert m["missing"] == 1 and m["total"] == 3
    # q3 with "Eiffel's company": vs gold 1 (tokens gustave eiffels company) P 2/2 R 2/3 -> 0.8
    m = evaluate(ds, {"q1": "Paris", "q2": "in 1889", "q3": "Eiffel's company"})
    # q2: pred [in, 1889] gold [1889] -> P 1/2 R 1 -> 2/3
    assert m["exact_match"] == pytest.approx(100 / 3)
    assert m["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0.8) / 3)
    assert headline(m) == (m["exact_match"], m["f1"])


def v2_dataset() -> SquadDataset:
    return dataset([
        QA("a1", "Where?", [ans("Paris")]),
        QA("a2", "When?", [ans("1889")]),
        QA("n1", "Why?", [], is_impossible=True),
        QA("n2", "How tall?", [], is_impossible=True),
    ], version="v2.0")


def test_v2_hasans_noans_split() -> None:
    preds = {"a1": "Paris", "a2": "", "n1": "", "n2": "Paris"}
    m = evaluate(v2_dataset(), preds)
    # a1 right, a2 empty on answerable (0), n1 empty on unanswerable (1), n2 wrong (0)
    assert m["exact"] == pytest.approx(50.0) and m["f1"] == pytest.approx(50.0)
    assert m["HasAns_exact"] == pytest.approx(50.0) and m["HasAns_total"] == 2
    assert m["NoAns_exact"] == pytest.approx(50.0) and m["NoAns_total"] == 2
    assert "best_f1" not in m


def test_v2_best_threshold_by_hand() -> None:
    preds = {"a1": "Paris", "a2": "1889", "n1": "Paris", "n2": ""}
    probs = {"a1": 0.1, "a2": 0.7, "n1": 0.5, "n2": 0.9}
    m = evaluate(v2_dataset(), preds, probs)
    # plain: a1 1, a2 1, n1 0, n2 1 -> 75
    assert m["exact"] == pytest.approx(75.0)
    # threshold walk from "all empty" (2 NoAns right): a1 +1 -> 3 (t .1), n1 -1 -> 2, a2 +1 -> 3,
    # n2 (empty pred) 0 -> 3. Best 3/4 first reached at 0.1.
    assert m["best_exact"] == pytest.approx(75.0) and m["best_exact_thresh"] == pytest.approx(0.1)
    # with na_prob_thresh 0.6: a2 (0.7) and n2 (0.9) become empty -> a1 1, a2 0, n1 0, n2 1
    m = evaluate(v2_dataset(), preds, probs, na_prob_thresh=0.6)
    assert m["exact"] == pytest.approx(50.0)


def test_v2_gold_that_normalises_to_nothing_is_ignored() -> None:
    ds = dataset([QA("a", "?", [Answer("The", 0), ans("Paris")])], version="v2.0")
    assert evaluate(ds, {"a": "Paris"})["exact"] == 100.0
    assert evaluate(ds, {"a": ""})["exact"] == 0.0
