from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ids_extract.errors import ConfigError
from ids_extract.select.join import join as compress
from ids_extract.select.levels import Level, add_gold, parse_level, parse_levels
from ids_extract.select.levels import pick as select
from ids_extract.select.segment import split_sentences

from .conftest import CONTEXT


def test_parse_levels() -> None:
    assert parse_level("tokens:128@bert-base-uncased") == Level("tokens", 128, "bert-base-uncased")
    assert [str(lv) for lv in parse_levels("ratio:0.5,top-k:2,threshold:0.7")] == [
        "ratio:0.5", "top-k:2", "threshold:0.7"]
    assert parse_level("tokens:64").name == "tokens64"
    for bad in ["ratio:1.5", "top-k:0", "tokens:1.5", "size:3", "ratio", "ratio:x",
                "top-k:2@bert", "threshold:2"]:
        with pytest.raises(ConfigError):
            parse_level(bad)
    with pytest.raises(ConfigError, match="twice"):
        parse_levels("top-k:1,top-k:1")


SCORES = np.array([0.1, 0.9, 0.3, 0.8, 0.0])
ORDER = np.argsort(-SCORES, kind="stable")
LENGTHS = np.array([10, 20, 30, 40, 50])


def test_select_keeps_original_order_and_at_least_one() -> None:
    assert select(parse_level("top-k:2"), SCORES, ORDER, LENGTHS) == [1, 3]
    # ratio 0.4 of 150 tokens = 60: sentence 1 (20) + 3 (40) reach it
    assert select(parse_level("ratio:0.4"), SCORES, ORDER, LENGTHS) == [1, 3]
    assert select(parse_level("ratio:0.41"), SCORES, ORDER, LENGTHS) == [1, 2, 3]
    # budget 65: 1 (20) + 3 (40) = 60, then 2 (30) does not fit, 0 (10) does -> 70 > 65? no: skip
    assert select(parse_level("tokens:999"), SCORES, ORDER, LENGTHS, budget=65) == [1, 3]
    assert select(parse_level("tokens:999"), SCORES, ORDER, LENGTHS, budget=70) == [0, 1, 3]
    assert select(parse_level("tokens:999"), SCORES, ORDER, LENGTHS, budget=5) == [1]
    assert select(parse_level("threshold:0.85"), SCORES, ORDER, LENGTHS) == [1, 3]
    assert select(parse_level("threshold:1.0"), SCORES, ORDER, LENGTHS) == [1]


def test_add_gold_fits_the_budget_by_dropping_the_worst_others() -> None:
    kept = [1, 3]  # 60 tokens
    assert add_gold(kept, [4], ORDER, LENGTHS, budget=None) == [1, 3, 4]
    assert add_gold(kept, [4], ORDER, LENGTHS, budget=75) == [1, 4]
    assert add_gold(kept, [4], ORDER, LENGTHS, budget=10) == [4]


def test_compress_inserts_a_space_only_between_non_adjacent_sentences() -> None:
    context = "A b.C d. E f."
    spans = [(0, 4), (4, 9), (9, 13)]
    assert compress(context, spans, [0, 1]).context == "A b.C d. "
    assert compress(context, spans, [1, 2]).context == "C d. E f."
    comp = compress(context, spans, [0, 2])
    assert comp.context == "A b. E f."
    assert comp.remap(spans, 9, 13) == 5 and comp.remap(spans, 5, 7) is None


@given(st.sets(st.integers(0, 4), min_size=1), st.data())
def test_remapped_answer_equals_original_text(kept: set[int], data: st.DataObject) -> None:
    spans = split_sentences(CONTEXT)
    start = data.draw(st.integers(0, len(CONTEXT) - 1))
    end = data.draw(st.integers(start + 1, min(len(CONTEXT), start + 120)))
    comp = compress(CONTEXT, spans, sorted(kept))
    new = comp.remap(spans, start, end)
    covered = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
    if set(covered) <= kept:
        assert new is not None
        assert comp.context[new : new + end - start] == CONTEXT[start:end]
    else:
        assert new is None
