"""Cutting one unit down to a token budget, around its most relevant part.

A ``tokens:L`` level is named for a model's ``max_seq_length``, so it must fit even when the best
sentence alone does not (a long sentence, or a context without punctuation that the segmenter
leaves whole). The unit is then cut to the room left by the query and the special tokens, keeping
its most relevant part, at the finest grain that fits:

1. **clauses**: the unit is split at clause punctuation (``, ; :`` and dashes and brackets); the
   run of consecutive clauses that fits and holds the most query words wins;
2. **token window**: when no single clause fits, a window of at most ``room`` tokens, starting and
   ending on word boundaries, that holds the most query words. A "word" (a run of tokens with no
   space between them) longer than the room is cut between any two of its tokens, so text written
   without spaces (Japanese, Chinese) fills the budget instead of keeping one token.

Ties go to the longer piece, then to the earlier one (so without a query — classification — the
head of the unit is kept). A span that must stay whole (a gold answer on a training split) is kept
inside the piece whenever it fits. Relevance is a count of the query's content words: the scorers
rank whole units, not pieces, and a lexical count is cheap and needs no model here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .segment import Span

#: clause breaks: after , ; : and closing brackets, before opening ones, around dashes; and, for
#: scripts written without spaces (Chinese, Japanese), right after their own punctuation
CLAUSE_BREAK = re.compile(r"(?<=[,;:)\]])\s+|\s+(?=[(\[])|\s+[-–—]+\s+|(?<=[、，；：。！？）」』])(?=\S)")
WORD = re.compile(r"\w+")
#: function words left out of the relevance count (a question's "what/is/the" match anything)
STOPWORDS = frozenset((
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and", "or",
    "but", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "what", "which",
    "who", "whom", "whose", "when", "where", "why", "how", "that", "this", "these", "those", "it",
    "its", "as", "into", "than", "then", "there", "their", "they", "he", "she", "his", "her", "we",
    "you", "i", "not", "no",
))


def content_words(query: str) -> frozenset[str]:
    """The query's lower-cased words that count for relevance."""
    return frozenset(w for w in WORD.findall(query.lower()) if w not in STOPWORDS)


def cut_span(text: str, span: Span, room: int, query: str, tokenizer: Any,
             keep: Span | None = None) -> Span:
    """The part of ``text[span]`` (character offsets into ``text``) to keep so that it holds at
    most ``room`` tokens; ``keep`` is a span that must stay inside the result when it fits."""
    start, end = span
    piece = text[start:end]
    words = content_words(query)
    enc = tokenizer(piece, add_special_tokens=False, return_offsets_mapping=True,
                    return_attention_mask=False, return_token_type_ids=False)
    offsets: list[tuple[int, int]] = [tuple(o) for o in enc["offset_mapping"]]
    if len(offsets) <= room:
        return span
    local_keep = (keep[0] - start, keep[1] - start) if keep else None
    best = _best_clauses(piece, offsets, room, words, local_keep)
    if best is None:
        best = _best_window(piece, offsets, max(room, 1), words, local_keep)
    a, b = best
    while b > a and piece[a].isspace():
        a += 1
    while b > a and piece[b - 1].isspace():
        b -= 1
    return start + a, start + b


def _best_clauses(piece: str, offsets: Sequence[tuple[int, int]], room: int,
                  words: frozenset[str], keep: Span | None) -> Span | None:
    """The best run of consecutive clauses that fits, or None when no clause fits alone."""
    bounds = [0] + [m.end() for m in CLAUSE_BREAK.finditer(piece)] + [len(piece)]
    clauses = [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    if len(clauses) < 2:
        return None
    starts = np.array([o[0] for o in offsets])
    best: tuple[tuple[int, int, int], Span] | None = None
    for i in range(len(clauses)):
        for j in range(i, len(clauses)):
            a, b = clauses[i][0], clauses[j][1]
            tokens = int(((starts >= a) & (starts < b)).sum())
            if tokens > room:
                break
            if keep is not None and not (a <= keep[0] and keep[1] <= b):
                continue
            key = (_relevance(piece[a:b], words), tokens, -a)
            if best is None or key > best[0]:
                best = (key, (a, b))
    return best[1] if best else None


def _best_window(piece: str, offsets: Sequence[tuple[int, int]], room: int,
                 words: frozenset[str], keep: Span | None) -> Span:
    """The best window of at most ``room`` tokens on word boundaries (see the module doc)."""
    n = len(offsets)
    word_start, word_end = _boundaries(offsets, room)
    hits = np.array([_token_hit(piece, o, words) for o in offsets], dtype=np.int64)
    prefix = np.concatenate([[0], np.cumsum(hits)])
    best: tuple[tuple[int, int, int], Span] | None = None
    for i in (i for i in range(n) if word_start[i]):
        j = min(i + room, n) - 1
        while j > i and not word_end[j]:
            j -= 1
        a, b = offsets[i][0], offsets[j][1]
        if keep is not None and not (a <= keep[0] and keep[1] <= b):
            continue
        key = (int(prefix[j + 1] - prefix[i]), j - i + 1, -a)
        if best is None or key > best[0]:
            best = (key, (a, b))
    if best is None:  # the span to keep is longer than the room: keep its head
        a = keep[0] if keep else 0
        first = next((i for i, o in enumerate(offsets) if o[0] >= a), 0)
        last = min(first + room, n) - 1
        return offsets[first][0], offsets[last][1]
    return best[1]


def _boundaries(offsets: Sequence[tuple[int, int]], room: int) -> tuple[list[bool], list[bool]]:
    """Per token, whether a window may start / end there: at a space between tokens, and
    anywhere inside a run without spaces longer than ``room`` tokens (see the module doc)."""
    n = len(offsets)
    start = [i == 0 or offsets[i][0] > offsets[i - 1][1] for i in range(n)]
    firsts = [i for i in range(n) if start[i]] + [n]
    for a, b in zip(firsts[:-1], firsts[1:], strict=True):
        if b - a > room:  # a word the room cannot hold: its tokens are the boundaries
            start[a:b] = [True] * (b - a)
    end = [i == n - 1 or start[i + 1] for i in range(n)]
    return start, end


def _token_hit(piece: str, offset: tuple[int, int], words: frozenset[str]) -> int:
    """1 when the token is the first piece of a query content word."""
    a, b = offset
    if not words or b <= a or (a > 0 and (piece[a - 1].isalnum() or piece[a - 1] == "_")):
        return 0  # no query, an empty token, or a word's continuation piece
    m = WORD.match(piece, a)
    if m is None or m.start() != a:
        return 0
    return int(m.group(0).lower() in words)


def _relevance(text: str, words: frozenset[str]) -> int:
    return len(words & set(WORD.findall(text.lower())))
