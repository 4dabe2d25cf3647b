"""Okapi BM25 of the question against the sentences of its own context (the context is the corpus).

Built on ``bm25s`` (indexing and scoring). Its default tokenizer drops one-letter tokens and English
stopwords; here numbers and one-letter tokens are kept ("1", "a", "X") because answers to SQuAD
questions are often numbers and initials, and stopwords are kept unless asked for (the reference
pipeline keeps them too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s
import numpy as np

from .base import Scorer, ScoringBatch

TOKEN_PATTERN = re.compile(r"\w+")


def tokenize(text: str, stopwords: frozenset[str] = frozenset()) -> list[str]:
    """Lower-cased word tokens; numbers and single characters are kept."""
    return [t for t in TOKEN_PATTERN.findall(text.lower()) if t not in stopwords]


class BM25Scorer(Scorer):
    name = "bm25"
    cheap = True
    option_help = {"k1": "term saturation", "b": "length normalisation",
                   "stopwords": "None, or en"}

    def __init__(self, k1: float = 1.5, b: float = 0.75, method: str = "lucene",
                 stopwords: str | None = None) -> None:
        self.k1, self.b, self.method = k1, b, method
        self.stopwords_name = stopwords
        self.stopwords = frozenset(bm25s.stopwords.STOPWORDS_EN) if stopwords == "en" else frozenset()

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """One index per context (its sentences are the corpus), queried by each of its
        questions."""
        by_context: dict[int, list[int]] = {}
        for q, c in enumerate(batch.owner):
            by_context.setdefault(c, []).append(q)
        out: list[np.ndarray] = [np.empty(0)] * len(batch.queries)
        for c, questions in by_context.items():
            index = self._index(batch.contexts[c])
            for q in questions:
                out[q] = self._query(index, batch.queries[q], len(batch.contexts[c]))
        return out

    def _index(self, sentences: Sequence[str]) -> bm25s.BM25 | None:
        """One index over a context's sentences.

        The vocabulary is numbered here, in first-seen order: given plain token lists, bm25s
        numbers tokens in ``set`` order, which changes with ``PYTHONHASHSEED``, and with it the
        order in which a query's term scores are summed, so near-ties flipped between runs."""
        docs = [tokenize(s, self.stopwords) for s in sentences]
        if not any(docs):
            return None
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in docs]
        index = bm25s.BM25(k1=self.k1, b=self.b, method=self.method)
        index.index((ids, vocab), show_progress=False)
        return index

    def _query(self, index: bm25s.BM25 | None, question: str, n: int) -> np.ndarray:
        if index is None:
            return np.zeros(n, dtype=np.float32)
        vocab = index.vocab_dict
        ids = sorted({vocab[t] for t in tokenize(question, self.stopwords) if t in vocab})
        if not ids:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(index.get_scores_from_ids(ids), dtype=np.float32)
