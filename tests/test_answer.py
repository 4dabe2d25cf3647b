"""Extract-then-read: answers come back as exact spans of the ORIGINAL context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ids_extract.apps.answer import ExtractThenRead, Question, read_questions, to_original
from ids_extract.cli import app
from ids_extract.errors import DataError
from ids_extract.models.qa.features import ReaderConfig
from ids_extract.models.qa.reader import Reader
from ids_extract.select.join import join as compress
from ids_extract.select.segment import split_sentences

from .conftest import CONTEXT, CONTEXT2
from .test_reader import trained_reader  # noqa: F401  (fixture)

SPANS = split_sentences(CONTEXT)
runner = CliRunner()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=len(SPANS), max_size=len(SPANS)), st.data())
def test_spans_map_back_exactly(mask: list[bool], draw: st.DataObject) -> None:
    kept = [i for i, keep in enumerate(mask) if keep] or [2]
    comp = compress(CONTEXT, SPANS, kept)
    # a span inside one kept sentence maps back to the same text
    n = draw.draw(st.integers(0, len(kept) - 1))
    length = SPANS[kept[n]][1] - SPANS[kept[n]][0]
    a = draw.draw(st.integers(0, length - 1))
    b = draw.draw(st.integers(a + 1, length))
    start, end = comp.offsets[n] + a, comp.offsets[n] + b
    o_start, o_end, clipped = to_original(CONTEXT, comp, SPANS, start, end)
    assert not clipped and CONTEXT[o_start:o_end] == comp.context[start:end]
    assert o_start == SPANS[kept[n]][0] + a


def test_span_over_a_gap_is_clipped_to_what_was_read() -> None:
    comp = compress(CONTEXT, SPANS, [0, 3])  # sentences 1 and 2 dropped
    start = comp.context.index("Normandy")
    end = comp.context.index("1066") + 4
    o_start, o_end, clipped = to_original(CONTEXT, comp, SPANS, start, end)
    assert clipped and CONTEXT[o_start:o_end] == "Normandy."
    adjacent = compress(CONTEXT, SPANS, [2, 3])
    s, e = adjacent.context.index("century"), adjacent.context.index("invaded") + 7
    o_start, o_end, clipped = to_original(CONTEXT, adjacent, SPANS, s, e)
    assert not clipped and CONTEXT[o_start:o_end] == adjacent.context[s:e]


def test_extract_then_read_returns_original_spans(trained_reader: Path) -> None:  # noqa: F811
    reader = Reader.load(trained_reader, device="cpu", precision="fp32")
    pipeline = ExtractThenRead(reader, level="tokens:24", scorers=["bm25"])
    items = [Question("Who led the Norse raiders?", CONTEXT),
             Question("What river flows through Paris?", CONTEXT2, id="river")]
    results = pipeline.answer_many(items)
    assert [r.id for r in results] == ["q1", "river"]
    for r, q in zip(results, items, strict=True):
        assert r.answer and q.context[r.start:r.end] == r.answer
        assert r.answer in r.extracted_context
        assert len(r.extracted_context) < len(q.context)
        assert all(q.context[k.start:k.end] == k.text for k in r.kept)
        assert any(k.start <= r.start and r.end <= k.end for k in r.kept) or r.clipped
    # bm25 ranks the Rollo sentence first for q1: it is always kept
    assert any("Rollo" in k.text for k in results[0].kept)
    whole = ExtractThenRead(reader, extract=False)("Who led the Norse raiders?", CONTEXT)
    assert CONTEXT[whole.start:whole.end] == whole.answer and whole.extracted_context == CONTEXT


def test_questions_file_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "Who?", "context": CONTEXT, "id": "a"}) + "\n"
                    + json.dumps({"question": "Where?", "context": CONTEXT2}) + "\n")
    qs = read_questions(path)
    assert [(q.id, q.context) for q in qs] == [("a", CONTEXT), ("", CONTEXT2)]
    path.write_text(json.dumps([{"question": "Who?"}]))
    path = path.rename(tmp_path / "q.json")
    with pytest.raises(DataError, match="item 1"):
        read_questions(path)


def test_cli_answer_json(trained_reader: Path, tmp_path: Path) -> None:  # noqa: F811
    ctx_file = tmp_path / "ctx.txt"
    ctx_file.write_text(CONTEXT, encoding="utf-8")
    res = runner.invoke(app, ["answer", "--model", str(trained_reader), "--question",
                              "When did William invade England?", "--context-file", str(ctx_file),
                              "--scorers", "bm25", "--levels", "tokens:24", "--json",
                              "--device", "cpu"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert CONTEXT[out["start"]:out["end"]] == out["answer"] and out["kept"]
    batch = tmp_path / "many.json"
    batch.write_text(json.dumps([{"question": "Who?", "context": CONTEXT},
                                 {"question": "Where?", "context": CONTEXT2}]))
    res = runner.invoke(app, ["answer", "--model", str(trained_reader), "--input", str(batch),
                              "--scorers", "bm25", "--out", str(tmp_path / "a.json"),
                              "--device", "cpu"])
    assert res.exit_code == 0, res.output
    written = json.loads((tmp_path / "a.json").read_text())
    assert [w["id"] for w in written] == ["q1", "q2"]
    res = runner.invoke(app, ["answer", "--model", str(trained_reader), "--question", "Who?"])
    assert res.exit_code == 2 and "--context" in res.output


def test_reader_config_defaults_follow_length() -> None:
    cfg = ReaderConfig(max_seq_length=64)
    assert cfg.stride == 21 and cfg.question_tokens == 32
