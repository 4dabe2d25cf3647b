"""Budgets in an OpenAI encoding's tokens (``tokens:L@tiktoken:...``), offline: the test builds a
small BPE ranks file, and a named encoding that is not cached is refused clearly."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ids_extract import compress
from ids_extract.errors import ConfigError

from .conftest import CONTEXT, CONTEXT2

tiktoken = pytest.importorskip("tiktoken")


@pytest.fixture(scope="module")
def ranks_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every byte, then the words of the test texts (with their leading space), each reachable
    by merges of its prefixes: a real, small BPE table."""
    ranks = {bytes([b]): b for b in range(256)}
    for word in (CONTEXT + " " + CONTEXT2).split():
        token = (" " + word).encode()
        for end in range(2, len(token) + 1):
            ranks.setdefault(token[:end], len(ranks))
    path = tmp_path_factory.mktemp("tiktoken") / "tiny.tiktoken"
    path.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
    return path


def test_budget_in_tiktoken_tokens_is_never_exceeded(ranks_file: Path) -> None:
    from tiktoken.load import load_tiktoken_bpe

    from ids_extract.models.openai_tokens import PATTERN

    enc = tiktoken.Encoding("tiny", pat_str=PATTERN,
                            mergeable_ranks=load_tiktoken_bpe(str(ranks_file)), special_tokens={})
    question = "Who led the Norse raiders?"
    text = " ".join([CONTEXT, CONTEXT2] * 3)
    assert len(enc.encode_ordinary(text)) < len(text.encode()) / 2  # the merges are used
    for limit in (12, 20, 40, 90, 400):
        out = compress(question, text, f"tokens:{limit}@tiktoken:{ranks_file}",
                       scorers=("bm25",))
        used = len(enc.encode_ordinary(question)) + len(enc.encode_ordinary(out.text))
        assert used == out.tokens <= limit, (limit, used, out.tokens)
        assert out.text and out.under == limit - out.tokens
    whole = compress(question, CONTEXT, f"tokens:4000@tiktoken:{ranks_file}", scorers=("bm25",))
    assert whole.text.strip() == CONTEXT.strip() and not whole.cut


def test_an_encoding_that_is_not_cached_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    from ids_extract.models.openai_tokens import load_tiktoken

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty: it would be downloaded
    load_tiktoken.cache_clear()
    with pytest.raises(ConfigError, match="not in tiktoken's cache"):
        compress("Who?", CONTEXT, "tokens:64@tiktoken:o200k_base", scorers=("bm25",))
    with pytest.raises(ConfigError, match="tiktoken:nope"):
        compress("Who?", CONTEXT, "tokens:64@tiktoken:nope", scorers=("bm25",))
