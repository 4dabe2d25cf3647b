"""``compress``: one question and a long text (or a list of passages) in, the sentences that matter
for it out, **exactly within a token budget** — what users of prompt compressors ask for.

    >>> from ids_extract import compress
    >>> out = compress("Who led the raiders?", context, budget="tokens:256")  # doctest: +SKIP
    >>> out.text, out.tokens, out.under                                       # doctest: +SKIP

Budgets:

- ``tokens:L[@tokenizer]``: the question, the kept text and the tokenizer's special tokens fit in
  ``L`` tokens (the level made for a reader with ``max_seq_length = L``);
- ``ratio:R``: the kept text holds at most ``R`` of the text's tokens.

Best sentences are kept while they fit (in their original order); when even the best one does not
fit, it is cut to the room around its most relevant part (:mod:`ids_extract.select.cut`), so the
budget is never exceeded (the selection step is the one every task uses,
:func:`ids_extract.select.step.choose`, in its ``exact`` form); ``under`` says by how many
tokens the result is under it. The scorers are built once per configuration and reused by every
later call (the models stay loaded).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..models.tokenizer import load_light_tokenizer
from ..pipeline.scoring import score_units
from ..scorers import Scorer, build_scorer
from ..select.budget import count_tokens, rooms
from ..select.cascade import DEFAULT_K, Cascade
from ..select.fusion import WeightedFusion, parse_weights
from ..select.levels import Level, parse_level
from ..select.segment import Span, check_segmenter, split_sentences
from ..select.step import Budget, choose
from ..select.units import Units

SEPARATOR = "\n\n"  # between passages, in the text they are read as


@dataclass
class Kept:
    """One kept sentence: which passage, its span there, its text and its fused score."""

    passage: int
    start: int
    end: int
    text: str
    score: float


@dataclass
class Compression:
    """The result of :func:`compress`; ``tokens`` is what the budget counts (question + text +
    special tokens for ``tokens:L``, the kept text alone for ``ratio:R``)."""

    text: str
    budget: str
    limit: int
    tokens: int
    under: int
    original_tokens: int
    kept: list[Kept] = field(default_factory=list)
    cut: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def passages_kept(self, passages: int) -> list[KeptPassage]:
        """Per passage (``passages`` of them) that kept anything: its kept sentences joined (one
        space where two were not adjacent and nothing stood between them, ends stripped), their
        best fused score and their spans in the passage. Joined by blank lines these texts hold
        the very tokens of :attr:`text` (white space is no token for BERT-style tokenizers):
        what the RAG integrations hand back as documents."""
        texts, ends, best = [""] * passages, [-1] * passages, [-math.inf] * passages
        spans: list[list[tuple[int, int]]] = [[] for _ in range(passages)]
        for k in self.kept:
            t = texts[k.passage]
            gap = t and ends[k.passage] != k.start and not t[-1].isspace()
            texts[k.passage] = t + (" " if gap and not k.text[:1].isspace() else "") + k.text
            ends[k.passage], best[k.passage] = k.end, max(best[k.passage], k.score)
            spans[k.passage].append((k.start, k.end))
        return [KeptPassage(i, t.strip(), best[i], tuple(spans[i]))
                for i, t in enumerate(texts) if t.strip()]


@dataclass(frozen=True)
class KeptPassage:
    """One input passage cut down to its kept sentences, and their best fused score."""

    passage: int
    text: str
    score: float
    spans: tuple[tuple[int, int], ...] = ()  # the kept sentences' [start, end) in the passage

    def contiguous(self, original: str) -> tuple[int, int] | None:
        """The one span of the passage this text is (white space at its ends aside), or None
        when sentences between the kept ones were left out."""
        start, end = self.spans[0][0], self.spans[-1][1]
        whole = original[start:end]
        if whole.strip() != self.text:
            return None
        start += len(whole) - len(whole.lstrip())
        return start, start + len(self.text)


def compress_passages(question: str, passages: Sequence[str], budget: str, *,
                      scorers: Sequence[str], segmenter: str = "pysbd",
                      **scorer_options: Any) -> list[KeptPassage]:
    """:func:`compress` of retrieved passages, handed back per passage (none when every passage
    is empty): what the LangChain and LlamaIndex adapters return as documents."""
    if not any(p.strip() for p in passages):
        return []
    out = compress(question, list(passages), budget, scorers=scorers, segmenter=segmenter,
                   **scorer_options)
    return out.passages_kept(len(passages))


def compress(question: str, context: str | Sequence[str], budget: str = "tokens:256", *,
             scorers: Sequence[str] = ("bm25", "sbert"), segmenter: str = "pysbd",
             weights: str | None = None, cascade_k: int | None = DEFAULT_K,
             **scorer_options: Any) -> Compression:
    """Keep the sentences of ``context`` (a text, or a list of passages) that matter for
    ``question``, within ``budget`` (see the module doc). ``weights``: fusion weights
    (``"bm25=1,sbert=2"``); ``cascade_k``: the scorers that are not cheap (sbert, …) read only
    the ``cascade_k`` best sentences of the cheap ones (bm25, static), so a long text costs
    them no more than a short one (None: every scorer reads every sentence); ``scorer_options``
    go to the scorers by name, e.g. ``sbert={"backend": "onnx", "precision": "int8"}``."""
    level = check_budget(budget)
    passages = [context] if isinstance(context, str) else list(context)
    if not question.strip() or not any(p.strip() for p in passages):
        raise ConfigError("compress needs a non-empty question and text")
    text, spans, owners = _segment(passages, check_segmenter(segmenter))
    built = _scorers(tuple(scorers), _frozen(scorer_options))
    units = Units([text], [spans], [0], [question])
    names = [s.name for s in built]
    cascade = Cascade.over(cascade_k, names, [s.cheap for s in built])
    scored = score_units(units, built, WeightedFusion(names, parse_weights(weights, names)),
                         quiet=True, cascade=cascade)
    [order] = scored.rankings([s.name for s in built])
    tokenizer = load_light_tokenizer(level.tokenizer)
    counted = Budget.counted(units, tokenizer)
    [lengths] = counted.lengths
    limit, room = _room(level, question, lengths, tokenizer)
    choice = choose(units, level, scored.fused, [order], Budget(tokenizer, [lengths], [room]),
                    exact=True)
    kept, final = choice.kept[0], choice.spans(units, 0)
    joined = choice.joined(units, 0).context if kept else ""
    used = int(count_tokens([joined], tokenizer)[0]) if joined else 0
    total = used + (limit - room if level.kind == "tokens" else 0)
    return Compression(joined, str(level), limit, total, limit - total, int(lengths.sum()),
                       _kept(text, final, kept, owners, passages, scored.fused[0]),
                       choice.cuts[0] is not None)


def check_budget(spec: str) -> Level:
    """The budget's level; anything but ``tokens:L`` or ``ratio:R`` is a :class:`ConfigError`."""
    level = parse_level(spec)
    if level.kind not in ("tokens", "ratio"):
        raise ConfigError(f"budget {spec!r}: give tokens:L[@tokenizer] or ratio:R")
    return level


def _segment(passages: Sequence[str], segmenter: str) -> tuple[str, list[Span], list[int]]:
    """The passages as one text (joined by a blank line), its sentence spans (each passage cut
    on its own, so no sentence crosses two) and, per sentence, its passage."""
    text, spans, owners = "", list[Span](), list[int]()
    for n, passage in enumerate(passages):
        if n:
            text += SEPARATOR
            if spans:  # the blank line goes with the sentence before it
                spans[-1] = (spans[-1][0], spans[-1][1] + len(SEPARATOR))
        base = len(text)
        for s, e in split_sentences(passage, segmenter) if passage.strip() else []:
            spans.append((base + s, base + e))
            owners.append(n)
        text += passage
    return text, spans, owners


@lru_cache(maxsize=8)
def _scorers(names: tuple[str, ...], options: tuple[tuple[str, Any], ...]) -> list[Scorer]:
    """Scorers built once per configuration: later calls reuse them and their loaded models."""
    given = dict(options)
    return [build_scorer(n, **dict(given.get(n, ()))) for n in names]


def _frozen(options: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((name, tuple(sorted(opts.items()))) for name, opts in options.items()))


def _room(level: Level, question: str, lengths: np.ndarray, tokenizer: Any) -> tuple[int, int]:
    """(the budget in tokens, the part of it left for the kept text)."""
    if level.kind == "ratio":
        limit = int(math.floor(level.value * float(lengths.sum())))
        return limit, limit
    limit = int(level.value)
    [room] = rooms(limit, [question], tokenizer)
    if room < 1:
        raise ConfigError(f"budget {level}: the question and the special tokens take "
                          f"{limit - room} tokens, leaving no room for text; give a larger L")
    return limit, room


def _kept(text: str, spans: Sequence[Span], kept: Sequence[int], owners: Sequence[int],
          passages: Sequence[str], fused: np.ndarray) -> list[Kept]:
    """Each kept sentence located in its own passage."""
    starts = np.cumsum([0] + [len(p) + len(SEPARATOR) for p in passages])
    out = []
    for i in kept:
        s, e = spans[i]
        base, own = int(starts[owners[i]]), passages[owners[i]]
        start, end = s - base, min(e - base, len(own))  # without a trailing separator
        out.append(Kept(owners[i], start, end, own[start:end], float(fused[i])))
    return out
