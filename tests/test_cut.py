"""``tokens:L`` never exceeds L: the best unit is cut to the room around its most relevant part
when it does not fit alone; budgets too small for the question are refused before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ids_extract import Extractor
from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.models.hub import load_tokenizer
from ids_extract.select.cut import cut_span
from ids_extract.select.levels import parse_level
from ids_extract.squad.read import load

runner = CliRunner()
LONG = ("the market opened early and traders bought grain while farmers sold cattle and the "
        "mayor spoke about roads and bridges and schools and the harbour was busy all day and "
        "the old lighthouse keeper named Pieter Vos counted ships until the sun went down and "
        "nobody knew why the bells rang twice that evening in the square")


def tokens(text: str) -> int:
    return len(load_tokenizer(None)(text, add_special_tokens=False)["input_ids"])


def test_a_sentence_without_punctuation_is_cut_to_a_window_around_the_query_words() -> None:
    tok = load_tokenizer(None)
    a, b = cut_span(LONG, (0, len(LONG)), 12, "Who was the lighthouse keeper?", tok)
    assert tokens(LONG[a:b]) <= 12
    assert "lighthouse keeper" in LONG[a:b]
    assert LONG[a:b] == LONG[a:b].strip() and (a == 0 or LONG[a - 1] == " ")  # whole words


def test_clauses_are_preferred_and_the_head_wins_without_a_query() -> None:
    text = ("In 1850, after a long war that ruined the northern provinces completely, the king "
            "signed the treaty of Utrecht; his brother refused to attend the ceremony.")
    tok = load_tokenizer(None)
    a, b = cut_span(text, (0, len(text)), 14, "Which treaty did the king sign?", tok)
    assert "treaty of Utrecht" in text[a:b] and tokens(text[a:b]) <= 14
    assert text[a:b].startswith("the king signed")  # a whole clause, not a token window
    head = cut_span(text, (0, len(text)), 14, "", tok)
    assert head[0] == 0 and tokens(text[head[0]:head[1]]) <= 14


def test_a_span_to_keep_stays_inside_the_cut() -> None:
    tok = load_tokenizer(None)
    start = LONG.index("the bells rang twice")
    a, b = cut_span(LONG, (0, len(LONG)), 10, "Who counted ships?", tok,
                    keep=(start, start + len("the bells rang twice")))
    assert a <= start and start + 20 <= b and tokens(LONG[a:b]) <= 10


def squad_file_with(tmp_path: Path, context: str, question: str, answer: str) -> Path:
    raw = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": [
        {"id": "x1", "question": question,
         "answers": [{"text": answer, "answer_start": context.index(answer)}]}]}]}]}
    path = tmp_path / "long.json"
    path.write_text(json.dumps(raw))
    return path


@pytest.mark.parametrize("split", ["eval", "train"])
def test_tokens_level_never_exceeds_its_length(tmp_path: Path, split: str) -> None:
    path = squad_file_with(tmp_path, LONG, "What did the farmers sell?", "the bells rang twice")
    result = Extractor(["bm25"], "tokens:24", split=split, quiet=True).run(load(path))  # type: ignore[arg-type]
    level = result.levels[0]
    par = next(level.dataset.paragraphs())
    tok = load_tokenizer(None)
    assert len(tok(par.qas[0].question, par.context)["input_ids"]) <= 24
    assert level.stats.summary["cut"] == 1
    if split == "train":  # keep-gold: the cut keeps the answer
        assert par.qas[0].answers and "the bells rang twice" in par.context
        assert level.stats.summary["lost_by_cut"] == 0
    else:  # the query words decide; the answer is elsewhere, and counted as lost by the cut
        assert "farmers sold cattle" in par.context and not par.qas[0].answers
        assert level.stats.summary["lost_by_cut"] == 1
        assert level.stats.summary["retention_pct"] == 0.0


def test_budgets_too_small_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tokens:8 or more"):
        parse_level("tokens:5")
    path = squad_file_with(tmp_path, LONG, "Why did nobody in the old square know that the bells "
                           "rang twice that evening in the harbour town?", "the bells rang twice")
    out = tmp_path / "never"
    res = runner.invoke(app, ["extract", str(path), "--out", str(out), "--scorers", "bm25",
                              "--levels", "tokens:16"])
    assert res.exit_code == 2 and "question id x1" in res.output and "no room" in res.output
    assert not out.exists()
