"""``compress`` over JSON Lines: requests ``{"question", "context" or "passages", optional "id"
and "budget"}`` in (a file or stdin), one result per request out, in order.

Options that would fail every line (an unknown scorer, a bad budget or a budget tokenizer that
is not there, weights naming a scorer that is not used, a segmenter, ``cascade_k`` below 0, an
``out`` that exists) are refused by :meth:`CompressJob.check` before any line is read. After
that a bad request (bytes that are not UTF-8, not JSON, a lone surrogate, a field missing or given
twice, an empty text, a budget too small for its question, an ``id`` used before) is one located
error (``file: line N (id X): problem``) and one ``{"id", "error"}`` result in its place; the
others are still answered. An input with no request at all (an empty file) is an error.

Only light modules are imported before the first request: the scorers load what they need
(``bm25`` alone loads neither torch nor transformers).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .. import defaults
from ..errors import ConfigError, DataError, IdsExtractError
from ..files import check_out
from ..scorers import options_from, scorer_class
from ..scorers.options import chosen_scorers, merged, parse_scorer_options
from ..select.cascade import DEFAULT_K, check_k
from ..select.fusion import parse_weights
from ..select.segment import SEGMENTERS, check_segmenter
from ..tabular import SURROGATE, check_strings

if TYPE_CHECKING:
    from ..pipeline.trained import TrainedExtractor

DEFAULT_BUDGET = defaults.BUDGET
#: the input that is standard input
STDIN = "-"


@dataclass
class CompressJob:
    """The settings of one ``compress`` run (every default declared here)."""

    budget: str = DEFAULT_BUDGET
    scorers: str | None = None
    fast: bool = False
    segmenter: str | None = None  # pysbd, when the scorers are named
    weights: str | None = None
    device: str = "auto"
    cascade_k: int | None = DEFAULT_K
    scorer_option: list[str] | None = None
    #: a train-extractor folder (or a shipped one's name) instead of the scorers; with neither,
    #: nor anything an extractor decides, the shipped one (squad-en, profile fast)
    extractor: str | Path | TrainedExtractor | None = None
    profile: str | None = None  # one of its profiles
    names: list[str] = field(default_factory=list, init=False)
    options: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)

    def check(self, out: Path | None = None, overwrite: bool = False) -> CompressJob:
        """Refuse now what would fail every line (see the module doc)."""
        from ..models.tokenizer import Tokenizers
        from ..pipeline.pretrained import DEFAULT_PROFILE, decided_of, default_extractor
        from ..select.levels import parse_budget

        level = parse_budget(self.budget)
        try:  # its tokenizer loaded by the loader compress() uses, once, now
            Tokenizers.load([level])
        except ConfigError as err:
            raise ConfigError(f"`budget` {self.budget}: {err}") from None
        if self.extractor is None and (found := default_extractor(**decided_of(self))) is not None:
            self.extractor, self.profile = found, self.profile or DEFAULT_PROFILE
        if self.extractor is not None:
            self._pretrained()
        else:
            self._scorers()
        if out is not None:
            check_out(out, folder=False)
            if out.exists() and not overwrite:
                raise ConfigError(f"`out` {out}: already exists; use `overwrite` to replace it")
        return self

    def _pretrained(self) -> None:
        """A trained extractor decides the scorers, fusion, cascade and segmenter: options
        that would say otherwise are refused (:func:`~ids_extract.pipeline.pretrained.
        check_beside_extractor`); the folder and the profile are read now."""
        from ..pipeline.pretrained import check_beside_extractor, decided_of
        from ..pipeline.trained import extractor_key
        from .compress import pretrained_selector

        check_beside_extractor(self.extractor, **decided_of(self))
        # built now (and cached) with the key compress() uses, so the folder is read once
        settings = self.settings()
        pretrained_selector(extractor_key(settings["extractor"]), self.profile,
                            settings["device"], settings["cascade_k"])

    def _scorers(self) -> None:
        """The scorers by name, their weights, segmenter, cascade and options, checked."""
        if self.profile is not None:
            raise ConfigError("`profile` is one of a trained extractor's: give `extractor`")
        self.names = chosen_scorers(self.scorers, self.fast)
        for scorer in self.names:
            scorer_class(scorer)
        parse_weights(self.weights, self.names)
        self.segmenter = check_segmenter(self.segmenter or SEGMENTERS[0])
        check_k(self.cascade_k)
        self.options = merged(options_from(self.names, {"device": self.device}),
                              parse_scorer_options(self.scorer_option, self.names))

    def settings(self) -> dict[str, Any]:
        """:func:`~ids_extract.apps.compress.compress`'s arguments for every request."""
        if self.extractor is not None:
            return {"extractor": self.extractor, "profile": self.profile,
                    "cascade_k": self.cascade_k or None,
                    "device": None if self.device == "auto" else self.device}
        return {"scorers": self.names, "segmenter": self.segmenter, "weights": self.weights,
                "cascade_k": self.cascade_k or None, **self.options}

    def answers(self, source: BinaryIO, name: str,
                failed: Callable[[DataError], None]) -> Iterator[dict[str, Any]]:
        """Each request's result, or its located error (handed to ``failed`` at once), in input
        order."""
        from . import compress as api

        seen: dict[str, int] = {}
        for n, rid, row in requests(source, name):
            if not isinstance(row, DataError) and rid in seen:
                row = DataError(name, f"line {n} (id {rid})", f"id {rid!r} was used on line "
                                f"{seen[rid]}: give every request its own id")
            seen.setdefault(rid, n)
            if isinstance(row, DataError):
                failed(row)
                yield {"id": rid, "error": row.problem}
                continue
            try:
                text = row["passages"] if "passages" in row else row["context"]
                result = api.compress(row["question"], text, row.get("budget", self.budget),
                                      **self.settings())
            except IdsExtractError as err:
                failed(DataError(name, f"line {n} (id {rid})", str(err)))
                yield {"id": rid, "error": str(err)}
                continue
            yield result.to_dict() | {"id": rid}


def open_requests(path: str) -> BinaryIO:
    """The requests file, read lazily line by line, as bytes: each line is decoded on its own
    (:func:`requests`), so a bad byte is the problem of its line only."""
    try:
        return open(path, "rb")  # noqa: SIM115 (closed by the caller)
    except FileNotFoundError:
        raise DataError(path, "", "no such file") from None


def requests(source: BinaryIO, name: str) -> Iterator[tuple[int, str, dict[str, Any] | DataError]]:
    """(line number, id, a checked request) or (line number, id, the located problem of that
    line: not UTF-8 with its byte offset, not JSON, a lone surrogate, a field missing); a request
    without an id gets its line number. Lines are split at ``\\n`` only (JSON Lines); a UTF-8
    byte-order mark before the first is skipped; a source with no request is an error."""
    offset, seen = 0, False
    for n, raw in enumerate(source, 1):
        body = raw[len(codecs.BOM_UTF8):] if n == 1 and raw.startswith(codecs.BOM_UTF8) else raw
        start, offset = offset + len(raw) - len(body), offset + len(raw)
        try:
            line = body.decode("utf-8")
        except UnicodeDecodeError as err:
            rid = _id_of(body.decode("utf-8", "replace"), n)
            seen = True
            yield n, rid, DataError(name, f"line {n} (id {rid})", f"invalid UTF-8 at byte "
                                    f"{start + err.start} ({err.reason})")
            continue
        if line.strip():
            seen = True
            yield _request(line, n, name)
    if not seen:
        raise DataError(name, "", "empty file" if offset == 0 else "no requests (blank lines only)")


def _id_of(line: str, n: int) -> str:
    """The id of a line that could not be read as UTF-8, if the rest of it is a JSON request."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return str(n)
    return str(row.get("id", n)) if isinstance(row, dict) else str(n)


def _request(line: str, n: int, name: str) -> tuple[int, str, dict[str, Any] | DataError]:
    """One line as a request, or what is wrong with it (with the line and, when known, the id)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        return n, str(n), DataError(name, f"line {n}", f"not JSON: {err}")
    if not isinstance(row, dict):
        return n, str(n), DataError(name, f"line {n}", "expected an object with a string "
                                                       "'question'")
    rid = str(row.get("id", n))
    rid = str(n) if SURROGATE.search(rid) else rid  # such an id is refused just below
    where = f"line {n} (id {rid})"
    try:
        check_strings(row, name, where)
    except DataError as err:
        return n, rid, err
    problem = _problem(row)
    return n, rid, DataError(name, where, problem) if problem else row


def _problem(row: dict[str, Any]) -> str | None:
    """What makes a request object unusable, if anything."""
    if not isinstance(row.get("question"), str):
        return "expected an object with a string 'question'"
    if "context" in row and "passages" in row:
        return "give 'context' or 'passages', not both"
    text = row.get("passages", row.get("context"))
    if not (isinstance(text, str) or (isinstance(text, list) and text
                                      and all(isinstance(p, str) for p in text))):
        return "needs 'context' (a string) or 'passages' (a list of strings)"
    if "budget" in row and not isinstance(row["budget"], str):
        return "'budget' must be a string such as 'tokens:256'"
    return None
