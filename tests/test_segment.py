from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ids_extract.errors import ConfigError
from ids_extract.select.segment import check_segmenter, merge_spans, span_of, split_sentences

from .conftest import CONTEXT


def assert_tiles(spans: list[tuple[int, int]], text: str) -> None:
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (_, e), (s, _) in zip(spans, spans[1:], strict=False):
        assert e == s
    assert all(s < e for s, e in spans)


@pytest.mark.parametrize("segmenter", ["pysbd", "blingfire"])
def test_spans_tile_context_and_hold_sentences(segmenter: str) -> None:
    spans = split_sentences(CONTEXT, segmenter)
    assert_tiles(spans, CONTEXT)
    texts = [CONTEXT[s:e] for s, e in spans]
    assert len(texts) == 5
    assert texts[1] == "They were descended from Norse raiders led by Rollo. "
    assert texts[-1] == "The Norman dynasty had a major political impact on Europe."


def test_repeated_sentence_gets_its_own_span() -> None:
    text = "It rained. It rained. Then it stopped."
    spans = split_sentences(text)
    assert [text[s:e].strip() for s, e in spans] == ["It rained.", "It rained.", "Then it stopped."]
    assert spans[1] == (11, 22)


def test_leading_whitespace_and_empty() -> None:
    text = "  Hello there. General Kenobi.  "
    spans = split_sentences(text)
    assert_tiles(spans, text)
    assert split_sentences("   ") == [(0, 3)]


def test_unknown_segmenter_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown segmenter 'nltk'"):
        split_sentences("a. b.", "nltk")
    with pytest.raises(ConfigError, match="unknown segmenter"):
        check_segmenter("nltk")


def test_merge_spans_joins_sentences_an_answer_crosses() -> None:
    spans = [(0, 10), (10, 20), (20, 30), (30, 40)]
    assert merge_spans(spans, [(15, 25)]) == [(0, 10), (10, 30), (30, 40)]
    assert merge_spans(spans, [(12, 18)]) == spans
    assert merge_spans(spans, [(5, 35), (36, 38)]) == [(0, 40)]


def test_span_of() -> None:
    spans = [(0, 10), (10, 20), (20, 30)]
    assert span_of(spans, 12, 20) == (1, 1)
    assert span_of(spans, 9, 21) == (0, 2)
    assert span_of(spans, 30, 31) is None


@given(st.lists(st.sampled_from(["Yes.", "No!", "Dr. Who is here.", " ", "  ", "a b", "Why?",
                                 "1.5 m.", "\n", "U.S. troops left."]), max_size=12))
def test_any_text_is_tiled(parts: list[str]) -> None:
    text = " ".join(parts)
    if not text:
        return
    spans = split_sentences(text)
    assert_tiles(spans, text)
    assert "".join(text[s:e] for s, e in spans) == text


def test_a_long_text_is_segmented_in_windows_nearly_as_in_one_call(monkeypatch) -> None:
    """Windowing (for speed on long texts) gives nearly the spans of one pysbd call on the whole
    text: they tile it, and all but a few boundaries are the same (pysbd's list-number rule
    reads further than a window's last sentence, e.g. 'plan 99. Dr. …')."""
    from ids_extract.select import segment as sg

    text = " ".join(f"Dr. Smith met Mr. Jones in room {i}. They talked about the U.S. economy "
                    f"for {i} hours! Was it useful? Yes, e.g. for plan {i}." for i in range(120))
    assert len(text) > sg.LONG_TEXT
    whole = sg._tile(sg._align(text, sg._pysbd()(text)), len(text))
    monkeypatch.setattr(sg, "WINDOW", 700)
    windowed = sg.split_sentences(text)
    assert windowed[0][0] == 0 and windowed[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(windowed, windowed[1:], strict=False))
    same = {s for s, _ in whole} & {s for s, _ in windowed}
    assert len(same) >= 0.98 * len(whole) and abs(len(windowed) - len(whole)) <= 0.02 * len(whole)
    assert sg.split_sentences(text[:5000]) == sg._tile(sg._align(text[:5000],
                                                                 sg._pysbd()(text[:5000])), 5000)
