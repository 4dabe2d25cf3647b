"""The one small interface every relevance scorer implements.

A scorer sees a batch of contexts (each already split into sentences) and a batch of questions,
each pointing at its context. Grouping by context lets a scorer do per-context work once — encode a
context's sentences once for all its questions, build one BM25 index per context — instead of once
per question.
"""

from __future__ import annotations

import inspect
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
    #: constructor options that cannot change a score, only where and how fast it is computed
    #: (device, batch sizes, progress): the only options :meth:`config` leaves out
    runtime: ClassVar[frozenset[str]] = frozenset()
    #: an option recorded under other keys of :meth:`recorded` (a DPR ``model`` as its two
    #: encoders), so it is not added again under its own name
    recorded_as: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: options left out of :meth:`config` at this value: an option added after score caches
    #: existed keeps their keys valid at the behaviour they had (the reader's ``precision``)
    omitted_at: ClassVar[Mapping[str, object]] = {}
    _given: dict[str, object]  # the options it was built with (set by __new__)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Every scorer records the options it was built with (constructor parameters, defaults
        filled in) before its own ``__init__`` runs, so :meth:`config` needs no help from it."""
        self = super().__new__(cls)
        if cls.__init__ is object.__init__ and (args or kwargs):  # object's would let them by
            raise TypeError(f"{cls.__name__}() takes no options")
        try:
            bound = inspect.signature(cls.__init__).bind_partial(None, *args, **kwargs)
        except TypeError:
            bound = None  # the constructor refuses these arguments itself
        if bound is not None:
            bound.apply_defaults()
            self._given = {k: v for k, v in list(bound.arguments.items())[1:]
                           if k in declared_options(cls)}
        return self

    @abstractmethod
    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        """One float array per question, of length ``len(batch.contexts[batch.owner[q]])``."""

    def recorded(self) -> dict[str, object]:
        """How this scorer records its options in :meth:`config`, in order: the value it
        resolved (a model by its content identity, ``"auto"`` by what was chosen) and facts
        that follow from them (a model folder's input format). Options it does not name are
        added as given; so override this, not :meth:`config`."""
        return {}

    def config(self) -> dict[str, object]:
        """What identifies this scorer's output: the manifest's record and the score cache's
        key. Derived from the declared options, so none can be forgotten: the name, then
        :meth:`recorded`, then every other constructor option that is not :attr:`runtime`, as
        given (an option declared later changes the key, and old scores are never reused for
        it)."""
        out: dict[str, object] = {"name": self.name, **self.recorded()}
        for option, value in getattr(self, "_given", {}).items():
            if option in self.runtime or option in out or (
                    set(self.recorded_as.get(option, ())) & out.keys()):
                continue
            out[option] = value
        return {k: v for k, v in out.items()
                if not (k in self.omitted_at and self.omitted_at[k] == v)}


def declared_options(cls: type) -> list[str]:
    """A scorer class's declared options: its constructor's named parameters, in order."""
    params = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    return [name for name, p in list(params.items())[1:]
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


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
