"""``compress``: one question and a long text (or a list of passages) in, the sentences that matter
for it out, **exactly within a token budget** — what users of prompt compressors ask for.

    >>> from ids_extract import compress
    >>> out = compress("Who led the raiders?", context, budget="tokens:256")  # doctest: +SKIP
    >>> out.text, out.tokens, out.under                                       # doctest: +SKIP

Budgets:

- ``tokens:L[@tokenizer]``: the question, the kept text and the tokenizer's special tokens fit in
  ``L`` tokens (the level made for a reader with ``max_seq_length = L``);
- ``max-ratio:R``: the kept text holds at most ``R`` of the text's tokens (the text counted as
  written);
- ``ratio:R``: the best sentences until *at least* ``R`` of the text's tokens are kept, as in
  ``extract``'s levels (one meaning everywhere): a floor, not a budget. ``compress`` read it as
  at most R before, so it warns, for one release, that ``max-ratio:R`` is that spelling now.

A budget that leaves no room for any text (``tokens:L`` with a long question, ``max-ratio:R`` of
a short text) is a :class:`ConfigError`, never an empty text.

Best sentences are kept while they fit (in their original order); when even the best one does not
fit, it is cut to the room around its most relevant part (:mod:`ids_extract.select.cut`), so the
budget is never exceeded (the selection step is the one every task uses,
:func:`ids_extract.select.step.choose`, in its ``exact`` form); ``under`` says by how many
tokens the result is under it. The request runs through the one driver
(:mod:`ids_extract.pipeline.driver`) as a task of its own (:class:`_Request`); its scorers,
fusion, cascade and segmenter are a :class:`~ids_extract.pipeline.selector.Selector` built once
per configuration (:func:`selector_for`) and reused by every later call (the models stay loaded).
A request that is not text (bytes, a lone surrogate) is a :class:`ConfigError`; so is a keyword
that is neither an option nor the options of a scorer in use (``sbert={"backend": "onnx"}``).
``fast=True``: bm25 and static embeddings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .. import defaults
from ..errors import ConfigError
from ..pipeline.driver import Chosen, Driver
from ..pipeline.pretrained import DEFAULT_PROFILE, check_beside_extractor, default_extractor
from ..pipeline.selector import Selector
from ..pipeline.trained import TrainedExtractor, extractor_key
from ..scorers.options import FAST_SCORERS, chosen_scorers
from ..select.budget import count_tokens
from ..select.cascade import DEFAULT_K
from ..select.levels import Level
from ..select.segment import Span, split_sentences
from ..select.step import Rules
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
    special tokens for ``tokens:L``, the kept text alone for ``max-ratio:R`` and ``ratio:R``)
    and ``under`` how far below ``limit`` it is (``ratio:R``: ``limit`` is the least it keeps,
    R of the text rounded up); ``cut``: the one kept sentence was cut to fit."""

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


def compress_passages(question: str, passages: Sequence[str], budget: str,
                      **options: Any) -> list[KeptPassage]:
    """:func:`compress` of retrieved passages, handed back per passage (none when every passage
    is empty): what the LangChain and LlamaIndex adapters return as documents. ``options``
    are :func:`compress`'s (``scorers``, ``extractor``, ``profile``, …)."""
    if not any(p.strip() for p in passages):
        return []
    return compress(question, list(passages), budget, **options).passages_kept(len(passages))


def compress(question: str, context: str | Sequence[str], budget: str = defaults.BUDGET, *,
             scorers: Sequence[str] | None = None, fast: bool = False,
             segmenter: str | None = None,
             weights: str | None = None, cascade_k: int | None = DEFAULT_K,
             extractor: str | Path | TrainedExtractor | None = None,
             profile: str | None = None,
             device: str | None = None, **scorer_options: Any) -> Compression:
    """Keep the sentences of ``context`` (a text, or a list of passages) that matter for
    ``question``, within ``budget`` (see the module doc). With none of the options below, the
    extractor that ships with the package (``squad-en``, profile ``fast``: trained, robust to
    restated distractors); ``scorers``: these scorers instead (the paper's: ``bm25,sbert``, the
    default of any scorer option given without them); ``fast``: bm25 and static embeddings,
    not with ``scorers``; ``segmenter``: pysbd (default) or
    blingfire; ``weights``: fusion weights (``"bm25=1,sbert=2"``); ``cascade_k``: the scorers
    that are not cheap (sbert, …) read only the ``cascade_k`` best sentences of the cheap ones
    (bm25, static), so a long text costs them no more than a short one (None: every scorer reads
    every sentence); ``scorer_options`` go to the scorers by name, e.g.
    ``sbert={"backend": "onnx", "precision": "int8"}`` (any other keyword is an error).

    ``extractor``: a trained extractor instead (a ``train-extractor`` folder, a shipped one's
    name or a loaded :class:`~ids_extract.TrainedExtractor`): its scorers, models, fusion,
    cascade and segmenter (``profile``: one of its profiles, ``fast`` or ``best``; ``device`` for its
    models); the options above are then refused, as the folder decides them."""
    passages = checked_request(question, context)
    check_keywords(scorer_options)
    decided = {"scorers": scorers, "fast": fast, "weights": weights, "segmenter": segmenter,
               "cascade_k": cascade_k, **scorer_options}
    if extractor is None and (extractor := default_extractor(**decided)) is not None:
        profile = profile or DEFAULT_PROFILE
    if extractor is not None:
        check_beside_extractor(extractor, **decided)
        selector = pretrained_selector(extractor_key(extractor), profile, device, cascade_k)
    elif profile is not None:
        raise ConfigError("compress: a profile is one of a trained extractor's; give extractor=")
    else:
        names = scorer_names(scorers, fast, scorer_options)
        selector = selector_for(tuple(names), _frozen(scorer_options), weights, cascade_k,
                                segmenter or defaults.SEGMENTER)
    # the budget goes down once: the driver reads it (select.levels.parse_budget), loads its
    # tokenizer (models.tokenizer) and checks its room (select.budget.check_room)
    driver = Driver(_Request(question), selector, [budget], exact=True, quiet=True,
                    room_for=[question], texts=[SEPARATOR.join(passages)])
    [out] = driver.run(passages).outputs
    return out


#: compress()'s own keywords (every other one names a scorer and holds its options)
KEYWORDS = ("budget", "scorers", "fast", "segmenter", "weights", "cascade_k", "extractor",
            "profile", "device")


def check_keywords(scorer_options: dict[str, Any]) -> None:
    """Every keyword beyond compress()'s own names a scorer and holds a dict of its options: an
    unknown one (a misspelt option) or another value is a :class:`ConfigError`, not a crash or
    an option dropped without a word."""
    from ..scorers import REGISTRY

    for key, value in scorer_options.items():
        if key not in REGISTRY:
            raise ConfigError(f"compress() got an unknown keyword {key!r}: give "
                              f"{', '.join(KEYWORDS)}, or a scorer's options by its name "
                              f"({', '.join(f'{n}={{…}}' for n in REGISTRY)})")
        if not isinstance(value, Mapping):
            raise ConfigError(f"compress(): {key}= takes a dict of the {key} scorer's options "
                              f"(e.g. sbert={{'backend': 'onnx'}}), not {type(value).__name__}")


def scorer_names(scorers: Sequence[str] | None, fast: bool,
                 scorer_options: Mapping[str, Any]) -> list[str]:
    """The scorers by name (the default, ``fast``'s, or ``scorers``: not both); options for a
    scorer that is not among them would be dropped, so they are an error too."""
    if fast and scorers is not None:
        raise ConfigError(f"compress: fast=True sets the scorers ({FAST_SCORERS}); leave out "
                          "scorers=")
    names = chosen_scorers(list(scorers) if scorers is not None else None, fast)
    unused = [k for k in scorer_options if k not in names]
    if unused:
        raise ConfigError(f"compress: options for {', '.join(unused)}, which "
                          f"{'is' if len(unused) == 1 else 'are'} not among the scorers "
                          f"({', '.join(names)})")
    return names


def checked_request(question: object, context: object) -> list[str]:
    """The request's passages, or a :class:`ConfigError` that says what is wrong: text that is
    not ``str`` (bytes must be decoded first), an empty question or text, or a lone surrogate
    (not Unicode text: the tokenizer cannot read it)."""
    if isinstance(context, bytes | bytearray) or not isinstance(context, str | Sequence):
        raise ConfigError(f"compress: the context must be text (str) or a list of texts, not "
                          f"{type(context).__name__}{_decode_hint(context)}")
    passages = [context] if isinstance(context, str) else list(context)
    named = [("question", question), *((f"passage {n}", p) for n, p in enumerate(passages))]
    for what, text in named:
        if not isinstance(text, str):
            raise ConfigError(f"compress: the {what} must be text (str), not "
                              f"{type(text).__name__}{_decode_hint(text)}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ConfigError(f"compress: the {what} holds a lone surrogate "
                              f"(U+{ord(text[err.start]):04X}) at character {err.start}: it is not "
                              "Unicode text; decode it with errors='replace', or remove it"
                              ) from None
    if not str(question).strip() or not any(p.strip() for p in passages):
        raise ConfigError("compress needs a non-empty question and text")
    return passages


def _decode_hint(value: object) -> str:
    return " (decode it first, e.g. .decode('utf-8'))" if isinstance(value, bytes | bytearray) \
        else ""


@lru_cache(maxsize=8)
def selector_for(names: tuple[str, ...], options: tuple[tuple[str, Any], ...],
                 weights: str | None, cascade_k: int | None, segmenter: str) -> Selector:
    """The scorers, fusion, cascade and segmenter of one configuration, built once: later calls
    reuse them and their loaded models."""
    given = {name: dict(opts) for name, opts in options}
    return Selector.build(names, options=given, weights=weights, cascade=cascade_k,
                          segmenter=segmenter)


@lru_cache(maxsize=4)
def pretrained_selector(extractor: str | TrainedExtractor, profile: str | None,
                        device: str | None, cascade_k: int | None = DEFAULT_K) -> Selector:
    """A trained extractor's selector (or one profile's), loaded once: later calls reuse its
    models. Keyed by :func:`~ids_extract.pipeline.trained.extractor_key` (a folder by its
    resolved path, a loaded extractor by itself). When the extractor has no cascade of its
    own, ``cascade_k`` gives it compress's (the signals that are not cheap, e.g. dpr, read only
    the cheap ones' top k), so a long text costs them what a page does, as with the defaults;
    on inputs of k sentences or fewer nothing changes."""
    return TrainedExtractor.of(extractor).selector(profile, device, cascade_k=cascade_k)


def _frozen(options: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((name, tuple(sorted(opts.items()))) for name, opts in options.items()))


@dataclass
class _PassageUnits(Units):
    """The request as units: one document (the passages joined by a blank line), one item (the
    question), and per unit its passage."""

    passages: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)


@dataclass
class _Request:
    """One ``compress`` request as a task of the driver (:class:`~ids_extract.pipeline.driver.
    Task`): the passages cut into sentences, no rules of its own, the level written as a
    :class:`Compression`."""

    question: str

    def units(self, data: list[str], segmenter: str, *,
              spans: Sequence[list[Span]] | None = None, quiet: bool = True) -> _PassageUnits:
        text, cut, owners = _segment(data, segmenter)
        return _PassageUnits([text], [list(spans[0]) if spans else cut], [0], [self.question],
                             passages=data, owners=owners)

    def rules(self, units: _PassageUnits, level: Level, name: str) -> Rules:
        return Rules()

    def write(self, data: list[str], chosen: Chosen[_PassageUnits, Rules]) -> Compression:
        """The kept text, what the budget counts of it, and each kept sentence located."""
        units, choice, level = chosen.units, chosen.choice, chosen.level
        tokenizer = choice.budget.tokenizer
        kept, final = choice.kept[0], choice.spans(units, 0)
        if not kept:  # not even one token of the best sentence fits
            raise ConfigError(f"budget {level} leaves no room for any of this text")
        joined = choice.joined(units, 0).context
        used = int(count_tokens([joined], tokenizer)[0])
        original = int(count_tokens([units.texts[0]], tokenizer)[0])  # the text as written
        limit, total = _limit(level, choice.budget.rooms, original, used)
        return Compression(joined, str(level), limit, total, limit - total, original,
                           _kept(units.texts[0], final, kept, units.owners, data,
                                 chosen.scored.fused[0]),
                           choice.cuts[0] is not None)


def _limit(level: Level, budget_rooms: list[int] | None, original: int,
           used: int) -> tuple[int, int]:
    """The limit and what it counts: ``tokens:L`` counts the question and the special tokens
    too; ``max-ratio:R`` the kept text against R of the text; ``ratio:R`` (a floor) the kept
    text against the least it keeps, R of the text rounded up (``under`` is then how far below
    it the result is: 0 or less)."""
    if level.kind == "ratio":
        return math.ceil(level.value * original), used
    assert budget_rooms is not None  # the other two are token budgets
    [room] = budget_rooms
    if level.kind == "tokens":
        return int(level.value), used + int(level.value) - room
    return room, used


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
