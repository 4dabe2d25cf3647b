"""Sentence segmentation into exact character spans that cover the context in order.

Every later step (scoring, selection, answer remapping) works on these spans, never on re-tokenised
copies of the text, so an answer offset can always be moved by plain arithmetic.

The segmenters (pysbd by default, blingfire as a fast option) return sentence *strings*; pysbd's own
``char_span`` mode is known to misplace repeated sentences, so spans are recovered here by aligning
the strings left to right (``_align``) and then widened so the spans tile the whole context: the
whitespace after a sentence belongs to that sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Literal

from .. import defaults
from ..errors import ConfigError

Span = tuple[int, int]
SegmenterName = Literal["pysbd", "blingfire"]
SEGMENTERS: tuple[str, ...] = ("pysbd", "blingfire")


def check_segmenter(name: str) -> str:
    """The name if it is a known segmenter whose library is installed, else a
    :class:`ConfigError` (raised before any work, not after the input was scanned)."""
    if name == "blingfire":
        _blingfire()
    elif name != defaults.SEGMENTER:
        raise ConfigError(f"unknown segmenter {name!r}: choose from {', '.join(SEGMENTERS)}")
    return name


@lru_cache(maxsize=1)
def _pysbd() -> Callable[[str], list[str]]:
    import re

    import pysbd

    # pysbd compiles its many patterns on every call through re's cache, which holds 512: more
    # than pysbd uses, so entries keep being evicted. A larger cache makes it ~17 % faster.
    if getattr(re, "_MAXCACHE", 4096) < 4096:
        re._MAXCACHE = 4096  # type: ignore[attr-defined]
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False)
    return segmenter.segment


@lru_cache(maxsize=1)
def _blingfire() -> Callable[[str], list[str]]:
    try:
        import blingfire
    except ImportError:  # optional extra
        raise ConfigError("segmenter 'blingfire' needs: pip install 'ids-extract[fast]'") from None
    return lambda text: str(blingfire.text_to_sentences(text)).split("\n")


#: texts longer than this are segmented window by window (pysbd's time grows faster than the
#: text: 1,000 words 0.05 s, 10,000 words 4.6 s, 50,000 words 53 s in one call on this machine)
LONG_TEXT = 12_000
WINDOW = 2_000


def split_sentences(context: str, segmenter: str = defaults.SEGMENTER) -> list[Span]:
    """Sentence spans ``[(start, end), …]`` with ``spans[0][0] == 0``, ``spans[-1][1] == len``."""
    check_segmenter(segmenter)
    split = _pysbd() if segmenter == defaults.SEGMENTER else _blingfire()
    if len(context) > LONG_TEXT:
        return _tile(_windowed(split, context), len(context))
    return _tile(_align(context, split(context)), len(context))


def _windowed(split: Callable[[str], list[str]], text: str) -> list[Span]:
    """Sentence spans of a long text, segmenting ``WINDOW`` characters at a time: the last
    sentence of a window may be cut by the window's end, so it is dropped and the next window
    starts where it started. A boundary is decided from a few characters around it, so the
    sentences are nearly always those of one call on the whole text (identical on 10,000 words
    of SQuAD dev; pysbd's rule for numbered items can read further, so a rare boundary moves;
    texts up to ``LONG_TEXT`` are never windowed), in linear time. A sentence longer than a
    window is cut at white space (:func:`_word_end`), never inside a word."""
    spans: list[Span] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + WINDOW)
        local = _align(text[start:end], split(text[start:end]))
        if end == len(text):
            spans += [(start + s, start + e) for s, e in local] or [(start, end)]
            break
        if len(local) < 2:  # one sentence longer than a window: it goes on to a word's end
            end = _word_end(text, start, end)
            spans.append((start, end))
            start = end
            continue
        spans += [(start + s, start + e) for s, e in local[:-1]]
        start += local[-1][0]
    return spans


def _word_end(text: str, start: int, end: int) -> int:
    """Where a piece of ``text`` from ``start`` ends near ``end`` without cutting a word: after
    the last white space before ``end``, else (one word longer than a window) after the next
    one, else at the text's end. A cut inside a word would make two units of one word: the text
    read from the middle of a word, and token counts that are not the text's own."""
    last = next((i for i in range(end - 1, start, -1) if text[i].isspace()), None)
    if last is not None:
        return last + 1
    after = next((i for i in range(end, len(text)) if text[i].isspace()), None)
    return len(text) if after is None else after + 1


def _align(context: str, pieces: Sequence[str]) -> list[Span]:
    """Find each piece in the context left to right; a piece that cannot be found is skipped
    (its text then joins the previous span when the spans are tiled)."""
    spans: list[Span] = []
    cursor = 0
    for piece in pieces:
        core = piece.strip()
        if not core:
            continue
        start = context.find(core, cursor)
        if start == -1:
            continue
        spans.append((start, start + len(core)))
        cursor = start + len(core)
    return spans


def _tile(spans: Sequence[Span], length: int) -> list[Span]:
    """Widen spans so they are contiguous and cover ``[0, length)``."""
    if not spans:
        return [(0, length)]
    starts = [0] + [s for s, _ in spans[1:]]
    ends = starts[1:] + [length]
    return list(zip(starts, ends, strict=True))


def merge_spans(spans: Sequence[Span], cuts: Sequence[Span]) -> list[Span]:
    """Merge neighbouring spans so that no ``[start, end)`` in ``cuts`` crosses a span boundary.

    Used with gold answers on training splits so that no answer is ever cut in two.
    """
    merged = list(spans)
    for start, end in cuts:
        first = next((i for i, (s, e) in enumerate(merged) if s <= start < e), None)
        if first is None:
            continue
        last = first
        while last + 1 < len(merged) and merged[last][1] < end:
            last += 1
        if last > first:
            merged[first : last + 1] = [(merged[first][0], merged[last][1])]
    return merged


def span_of(spans: Sequence[Span], start: int, end: int) -> tuple[int, int] | None:
    """Indices ``(first, last)`` of the spans that hold ``[start, end)``, or None if outside."""
    first = last = None
    for i, (s, e) in enumerate(spans):
        if s <= start < e:
            first = i
        if s < end <= e:
            last = i
            break
    if first is None or last is None:
        return None
    return first, last
