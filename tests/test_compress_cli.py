"""``compress`` for RAG pipelines: one located error per bad request while the others are answered,
a start without torch or transformers, the tokenizers-only tokenizer counting exactly as
transformers does, a cut that fills the budget for text without spaces, and the --fast profile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ids_extract import compress
from ids_extract.cli import app
from ids_extract.models.hub import load_tokenizer
from ids_extract.models.tokenizer import RustTokenizer, load_light_tokenizer
from ids_extract.select.budget import count_tokens, pair_overhead

from .conftest import CONTEXT, CONTEXT2, DEV

runner = CliRunner()
JAPANESE = ("東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。江戸時代には徳川幕府が"
            "置かれ、政治の中心として栄えました。明治維新の後、天皇が京都から東京に移りました。")


def texts_to_check() -> list[str]:
    """dev-v1.1's contexts and questions when the file is there, and texts of other scripts."""
    texts = [CONTEXT, CONTEXT2, JAPANESE, "naïve café — ½ 𝔘nicode\u200b zero-width", "  ", ""]
    if DEV.exists():
        data = json.loads(DEV.read_text(encoding="utf-8"))["data"]
        texts += [p["context"] for a in data for p in a["paragraphs"]][:1500]
        texts += [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]][:1500]
    return texts


def test_the_light_tokenizer_counts_and_cuts_exactly_as_transformers() -> None:
    light, full = load_light_tokenizer(None), load_tokenizer(None)
    assert isinstance(light, RustTokenizer)
    texts = texts_to_check()
    assert (count_tokens(texts, light) == count_tokens(texts, full)).all()
    assert pair_overhead(light) == pair_overhead(full) == 3
    assert pair_overhead(light, pair=False) == pair_overhead(full, pair=False) == 2
    for text in texts[:300]:
        ours = light(text, add_special_tokens=False, return_offsets_mapping=True)
        theirs = full(text, add_special_tokens=False, return_offsets_mapping=True)
        assert ours["input_ids"] == list(theirs["input_ids"])
        assert [tuple(o) for o in ours["offset_mapping"]] == [tuple(o) for o in
                                                               theirs["offset_mapping"]]


def test_compress_with_bm25_starts_without_torch_or_transformers(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"question": "Who led the raiders?", "context": CONTEXT}) + "\n")
    code = ("import sys; from ids_extract.cli import app\n"
            f"sys.argv = ['ids-extract', 'compress', {str(src)!r}, '--scorers', 'bm25']\n"
            "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert "Rollo" in json.loads(lines[0])["text"] and lines[-1] == "[]"


def test_each_bad_request_is_one_located_error_and_the_others_are_answered(tmp_path: Path) -> None:
    lines = [json.dumps({"id": "ok1", "question": "Who led the Norse raiders?", "context": CONTEXT}),
             "{not json",
             json.dumps({"id": "empty", "question": "Who?", "context": "   "}),
             json.dumps({"id": "small", "question": "Who led the Norse raiders?",
                         "context": CONTEXT, "budget": "tokens:5"}),
             json.dumps({"id": "noq", "context": CONTEXT}),
             "",
             json.dumps({"question": "What river flows through Paris?", "passages": [CONTEXT2]})]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["compress", str(src), "--scorers", "bm25", "--budget", "tokens:40",
                              "--out", str(out)])
    assert res.exit_code == 2
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == ["ok1", "2", "empty", "small", "noq", "7"]
    assert "Rollo" in got[0]["text"] and "Seine" in got[5]["text"]
    assert [("error" in g) for g in got] == [False, True, True, True, True, False]
    for where in ("line 2:", "line 3 (id empty)", "line 4 (id small)", "line 5 (id noq)"):
        assert f"{src}: {where}" in res.output
    assert "4 request(s) failed" in res.output
    res = runner.invoke(app, ["compress", str(src), "--scorers", "bm25", "--budget", "tokens"])
    assert res.exit_code == 2 and res.stdout == ""  # a bad --budget: refused before any line
    res = runner.invoke(app, ["compress", str(src), "--scorers", "bm25,nope"])
    assert res.exit_code == 2 and res.stdout == "" and "unknown scorer 'nope'" in res.output


def test_fast_is_bm25_and_static_and_refuses_scorers(monkeypatch: pytest.MonkeyPatch) -> None:
    res = runner.invoke(app, ["compress", "--fast", "--scorers", "bm25"], input="")
    assert res.exit_code == 2 and "--fast sets the scorers" in res.output
    res = runner.invoke(app, ["extract", "in.json", "--fast", "--scorers", "bm25"])
    assert res.exit_code == 2 and "--fast sets the scorers" in res.output
    from ids_extract.scorers.options import FAST_SCORERS

    seen: list[list[str]] = []
    monkeypatch.setattr("ids_extract.apps.compress.compress",
                        lambda *a, scorers, **k: seen.append(list(scorers)) or compress(
                            *a, scorers=["bm25"]))
    row = json.dumps({"question": "Who led the Norse raiders?", "context": CONTEXT})
    res = runner.invoke(app, ["compress", "--fast"], input=row + "\n")
    assert res.exit_code == 0 and seen == [FAST_SCORERS.split(",")] == [["bm25", "static"]]


def test_text_without_spaces_fills_the_budget() -> None:
    for limit in (20, 30, 40):
        out = compress("日本の首都はどこですか？", JAPANESE, f"tokens:{limit}", scorers=["bm25"])
        assert out.cut and out.tokens <= limit and out.under <= 6, (limit, out)
        assert len(out.text) > 3 and out.text in JAPANESE
    tight = compress("日本の首都はどこですか？", "東京は日本の首都です" * 10, "tokens:24",
                     scorers=["bm25"])
    assert tight.under == 0  # no punctuation at all: a window of exactly the room


@settings(max_examples=40, deadline=None)
@given(chars=st.lists(st.sampled_from(list("東京日本首都人口世界江戸時代政治中心のはがをにで、。")),
                      min_size=1, max_size=200),
       limit=st.integers(18, 80))
def test_the_budget_is_never_exceeded_without_spaces(chars: list[str], limit: int) -> None:
    text = "".join(chars)
    if not text.strip("、。"):
        return
    out = compress("東京の人口は？", text, f"tokens:{limit}", scorers=["bm25"])
    real = len(load_tokenizer(None)("東京の人口は？", out.text)["input_ids"])
    assert out.tokens == real <= limit
    assert out.text in text
