"""Streaming input: validated articles one at a time, grouped into shards of paragraphs.

SQuAD JSON is parsed incrementally with ``ijson`` so that memory does not grow with the file;
JSON Lines, Parquet and ``datasets`` folders are loaded whole (their rows of one paragraph need not
be adjacent, so they cannot be grouped on the fly) and then cut into the same shards.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..tabular import check_text
from .model import Article, SquadDataset, first_questions
from .read import load, parse_article
from .validate import BadAnswerPolicy, Validator

STREAMED_SUFFIXES = (".json",)


@dataclass
class InputInfo:
    """What one validating pass over the input found (goes to the manifest)."""

    source: str
    version: str = "1.1"
    articles: int = 0
    paragraphs: int = 0
    questions: int = 0
    has_impossible: bool = False
    repairs: list[str] = field(default_factory=list)

    @property
    def is_v2(self) -> bool:
        return self.has_impossible or self.version.lstrip("v").startswith("2")


def _streamable(source: str) -> bool:
    """SQuAD JSON (an object at the top); a JSON list of flat rows is loaded whole instead."""
    path = Path(source)
    if not path.is_file() or path.suffix.lower() not in STREAMED_SUFFIXES:
        return False
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return not head.startswith(b"[")


def check_bytes(path: Path, block: int = 1 << 20) -> bool:
    """Fail with the byte offset and line of the first invalid UTF-8 sequence, or on a file with
    nothing in it, reading in blocks; True when a lone surrogate escape (``\\ud800`` outside a
    pair) is in it: ijson reads one as ``?``, so the caller reads such a file whole to say where
    (:func:`scan`)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = lines = 0
    tail, lone, content = b"", False, False
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                at = max(offset - pending + err.start, 0)
                line = lines + chunk[: max(at - offset, 0)].count(b"\n") + 1
                raise DataError(str(path), f"byte {at} (line {line})",
                                f"invalid UTF-8 ({err.reason})") from None
            offset += len(chunk)
            lines += chunk.count(b"\n")
            content = content or bool(chunk.strip(b" \t\r\n" + codecs.BOM_UTF8))
            window = tail + chunk  # an escape near the block's end is read with the next one
            lone = lone or _lone_escape(window, len(window) - ESCAPE)
            tail = window[-TAIL:]
    if not content:
        raise DataError(str(path), "", "empty file")
    return lone or _lone_escape(tail, len(tail))


#: a JSON ``\\uXXXX`` escape of a surrogate (not itself escaped), a pair first, then a lone one
SURROGATE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u(?:[dD][89abAB][0-9a-fA-F]{2}"
                              rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}|([dD][89a-fA-F][0-9a-fA-F]{2}))")
ESCAPE, TAIL = 6, 32  # the length of one escape; the bytes read again with the next block


def _lone_escape(data: bytes, before: int) -> bool:
    """A lone surrogate escape that ends by byte ``before`` of ``data`` (one that ends later may
    be the first half of a pair the next block ends)."""
    return any(m.group(1) and m.end() <= before for m in SURROGATE_ESCAPE.finditer(data))


def _json_articles(path: Path, info: InputInfo) -> Iterator[dict[str, Any]]:
    """Raw article objects of a SQuAD JSON file, one at a time; fills ``info.version``."""
    import ijson

    builder: Any = None
    saw_data = False
    with path.open("rb") as fh:
        if fh.read(3) != codecs.BOM_UTF8:  # a UTF-8 byte-order mark is skipped, as by utf-8-sig
            fh.seek(0)
        try:
            for n, (prefix, event, value) in enumerate(ijson.parse(fh)):
                if n == 0 and event != "start_map":
                    raise DataError(str(path), "", "not a SQuAD file: expected an object with a "
                                                   "'data' list")
                if prefix == "data" and event == "start_array":
                    saw_data = True
                elif prefix == "version" and event in ("string", "number"):
                    info.version = check_text(str(value), str(path), "", "version")
                elif prefix == "data.item":
                    if event == "start_map":
                        builder = ijson.ObjectBuilder()
                    if builder is not None:
                        builder.event(event, value)
                    if event == "end_map":
                        yield builder.value
                        builder = None
                    continue
                if builder is not None:
                    builder.event(event, value)
        except ijson.JSONError as err:
            raise DataError(str(path), "", f"not JSON: {err}") from None
    if not saw_data:
        raise DataError(str(path), "", "not a SQuAD file: expected an object with a 'data' list")


def iter_articles(
    source: str,
    *,
    on_bad_answer: BadAnswerPolicy = "error",
    hf_split: str = "validation",
    limit: int | None = None,
    info: InputInfo | None = None,
) -> Iterator[Article]:
    """Validated articles in file order (the first ``limit`` questions only, if given).

    ``info``, when passed, is filled with counts, version and repairs as the stream goes."""
    info = info if info is not None else InputInfo(source)
    left = limit
    for article in _articles(source, on_bad_answer, hf_split, info):
        if left is not None:
            article = first_questions(article, left)
            left -= sum(len(p.qas) for p in article.paragraphs)
        if article.paragraphs:
            info.articles += 1
            info.paragraphs += len(article.paragraphs)
            info.questions += sum(len(p.qas) for p in article.paragraphs)
            info.has_impossible |= any(q.is_impossible for p in article.paragraphs for q in p.qas)
            yield article
        if left is not None and left <= 0:
            return


def _articles(source: str, policy: BadAnswerPolicy, hf_split: str,
              info: InputInfo) -> Iterator[Article]:
    if not _streamable(source):
        dataset = load(source, on_bad_answer=policy, split=hf_split)
        info.version = dataset.version
        info.repairs.extend(dataset.repairs)
        yield from dataset.articles
        return
    path = Path(source)
    validator = Validator(str(path), policy)
    validator.repairs = info.repairs  # reported as they happen, without copying the list
    for index, raw in enumerate(_json_articles(path, info)):
        yield validator.check(parse_article(raw, index, str(path)), index)


def scan(source: str, *, on_bad_answer: BadAnswerPolicy = "error",
         hf_split: str = "validation", limit: int | None = None,
         visit: Callable[[Article], None] | None = None) -> InputInfo:
    """One validating pass over the whole input, before anything is written: bad input fails
    here, with its place, and leaves no output behind. ``visit`` sees every validated article
    (the caller's own checks, e.g. that every question fits a token budget)."""
    if _streamable(source) and check_bytes(Path(source)):
        load(source, on_bad_answer=on_bad_answer, split=hf_split)  # names the surrogate's place
    info = InputInfo(source)
    for article in iter_articles(source, on_bad_answer=on_bad_answer, hf_split=hf_split,
                                 limit=limit, info=info):
        if visit is not None:
            visit(article)
    if info.questions == 0:
        raise DataError(source, "", "no questions in the input")
    return info


def iter_shards(articles: Iterator[Article], version: str,
                shard_size: int) -> Iterator[SquadDataset]:
    """Consecutive groups of ``shard_size`` paragraphs; an article cut by a shard boundary
    appears in both shards under its title (the writer joins it again)."""
    current: list[Article] = []
    count = 0
    for article in articles:
        for paragraph in article.paragraphs:
            if not current or current[-1].title != article.title:
                current.append(Article(article.title, []))
            current[-1].paragraphs.append(paragraph)
            count += 1
            if count == shard_size:
                yield SquadDataset(version, current)
                current, count = [], 0
    if current:
        yield SquadDataset(version, current)
