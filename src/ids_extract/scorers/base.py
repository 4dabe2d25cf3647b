"""The one small interface every relevance scorer implements.

A scorer sees a batch of contexts (each already split into sentences) and a batch of questions,
each pointing at its context. Grouping by context lets a scorer do per-context work once — encode a
context's sentences once for all its questions, build one BM25 index per context — instead of once
per question.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..select.units import ScoringBatch

T = TypeVar("T", bound=Hashable)


class Scorer(ABC):
    """Maps a :class:`ScoringBatch` to one score per sentence per question (higher = more relevant).

    Scores are only compared within one context; fusion standardises them per context, so a scorer
    need not calibrate its scale.
    """

    name: ClassVar[str]
    #: at most this many items per call (None: any number): slow scorers (IG) get small calls,
    #: so that progress is reported every few seconds rather than once a batch
    items_per_call: ClassVar[int | None] = None
    #: cheap enough to rank every unit of a long input; in a cascade (:mod:`ids_extract.select.
    #: cascade`) the other scorers read only the top units of the cheap ones
    cheap: ClassVar[bool] = False
    #: the options a command hands this scorer: constructor option -> the name of the command's
    #: value it takes (a flag such as ``sbert_model``, or ``device``); a command passes every
    #: value it has and each scorer takes the ones it declares (:func:`ids_extract.scorers.
    #: options_from`), so a new scorer needs no change in any command
    reads: ClassVar[Mapping[str, str]] = {}
    #: one line of help per constructor option (``ids-extract scorers`` lists them with their
    #: defaults)
    option_help: ClassVar[Mapping[str, str]] = {}

    @abstractmethod
    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """One float array per question, of length ``len(batch.contexts[batch.owner[q]])``."""

    def config(self) -> dict[str, object]:
        """What identifies this scorer's output (written to the manifest and the score cache)."""
        return {"name": self.name}


class BiEncoderScorer(Scorer):
    """A scorer that embeds questions and sentences separately and scores by dot product
    (cosine when the embeddings are unit length): sbert, dpr.

    ``score`` encodes every distinct sentence and every distinct question of the batch once, so a
    context asked several questions is encoded once, not once per question."""

    @abstractmethod
    def encode_questions(self, texts: list[str]) -> np.ndarray:
        """One embedding row per text, in the order given."""

    @abstractmethod
    def encode_passages(self, texts: list[Any]) -> np.ndarray:
        """One embedding row per passage input (see :meth:`passage_inputs`), in the order given."""

    def passage_inputs(self, sentences: Sequence[str]) -> Sequence[Hashable]:
        """What the passage encoder reads for each sentence of one context: the sentence itself
        (a scorer whose encoder also reads a sentence's neighbours returns more)."""
        return sentences

    def passage_embeddings(self, contexts: Sequence[Sequence[str]]) -> np.ndarray:
        """One row per sentence of every context, in order; each distinct input is encoded once."""
        unique, inverse = unique_texts([p for ctx in contexts for p in self.passage_inputs(ctx)])
        return self.encode_passages(unique)[inverse] if unique else np.zeros((0, 1), np.float32)

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """Dot products of each question with its context's sentences; in a cascade
        (``batch.candidates``) only the sentences some question of the batch reads are encoded
        (the others score 0: the cascade replaces them)."""
        if batch.candidates is not None:
            return self._score_candidates(batch)
        sent_emb = self.passage_embeddings(batch.contexts)
        q_unique, q_inverse = unique_texts(list(batch.queries))
        q_emb = self.encode_questions(q_unique)[q_inverse]
        offsets = np.cumsum([0] + [len(ctx) for ctx in batch.contexts])
        return [sent_emb[offsets[c]: offsets[c + 1]] @ q_emb[q] for q, c in enumerate(batch.owner)]

    def _score_candidates(self, batch: ScoringBatch) -> list[np.ndarray]:
        assert batch.candidates is not None
        needed = {(c, int(i)) for q, c in enumerate(batch.owner) for i in batch.candidates[q]}
        inputs = {c: self.passage_inputs(batch.contexts[c]) for c in {c for c, _ in needed}}
        keys = sorted(needed)
        unique, inverse = unique_texts([inputs[c][i] for c, i in keys])
        emb = self.encode_passages(unique)[inverse] if unique else np.zeros((0, 1), np.float32)
        row = {key: r for r, key in enumerate(keys)}
        q_unique, q_inverse = unique_texts(list(batch.queries))
        q_emb = self.encode_questions(q_unique)[q_inverse]
        out = []
        for q, c in enumerate(batch.owner):
            scores = np.zeros(len(batch.contexts[c]))
            for i in batch.candidates[q]:
                scores[int(i)] = float(emb[row[(c, int(i))]] @ q_emb[q])
            out.append(scores)
        return out


def unique_texts(texts: Sequence[T]) -> tuple[list[T], np.ndarray]:
    """The distinct texts (or other hashable items) in first-seen order, and for each input its
    index among them."""
    index: dict[T, int] = {}
    inverse = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64,
                          count=len(texts))
    return list(index), inverse
