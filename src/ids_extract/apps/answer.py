"""Extract-then-read (METHOD.md §7): shrink a context to the sentences that matter for the
question, let a small reader answer from them, and give the answer back as a span of the
**original** context.

Extraction is the project's :class:`~ids_extract.pipeline.extractor.Extractor` (segment → score →
select, which reports the kept sentences of every question) on an evaluation split (no gold is
used). The reader's span in the shorter text is mapped back with the offsets of the kept sentences
(``Joined.offsets``), never by searching for the answer text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import defaults
from ..errors import ConfigError, DataError
from ..models.qa.features import Example
from ..models.qa.reader import Reader
from ..pipeline.extractor import Extractor
from ..pipeline.pretrained import check_beside_extractor
from ..pipeline.trained import TrainedExtractor
from ..select.join import Joined, join
from ..select.segment import Span
from ..squad.model import QA, Article, Paragraph, SquadDataset
from ..squad.read import load
from ..tabular import check_strings, jsonl_rows, read_utf8, text_given


@dataclass
class Question:
    """One question about one context; ``id`` is made up when not given."""

    question: str
    context: str
    id: str = ""


@dataclass
class KeptSentence:
    start: int
    end: int
    text: str
    score: float  # fused relevance score of the sentence


@dataclass
class Answered:
    """The answer as a span of the original context (``context[start:end] == answer``)."""

    id: str
    question: str
    answer: str
    start: int
    end: int
    score: float
    no_answer: bool
    clipped: bool  # the reader's span ran over a gap between kept sentences and was cut there
    kept: list[KeptSentence] = field(default_factory=list)
    extracted_context: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ExtractThenRead:
    """``ExtractThenRead(Reader.load("runs/reader"))(question, context)`` → :class:`Answered`.

    ``level`` defaults to ``tokens:L`` with L the reader's ``max_seq_length`` (the level made
    for that reader); ``level=None`` with ``extract=False`` reads the whole context (windows).
    """

    def __init__(self, reader: Reader, *, level: str | None = None,
                 scorers: Sequence[str] = defaults.SCORERS, extract: bool = True,
                 scorer_options: dict[str, dict[str, Any]] | None = None,
                 quiet: bool = True, extractor: Extractor | None = None) -> None:
        self.reader = reader
        self.extract = extract
        self.level = level or f"tokens:{reader.config.max_seq_length}"
        if extractor is not None and [str(lv) for lv in extractor.levels] != [self.level]:
            raise ConfigError(f"the extractor selects at {[str(lv) for lv in extractor.levels]}, "
                              f"not at the one level {self.level}")
        self.extractor = extractor or (
            Extractor(list(scorers), self.level, split="eval", lost="unanswerable",
                      scorer_options=scorer_options, quiet=quiet) if extract else None)
        self.quiet = quiet

    @classmethod
    def from_pretrained(cls, where: str | Path | TrainedExtractor, *, level: str | None = None,
                        device: str = "auto", precision: str = "auto") -> ExtractThenRead:
        """Extract with a trained extractor (a ``train-extractor`` folder, or a loaded
        :class:`~ids_extract.TrainedExtractor`) and read with its reader."""
        trained = TrainedExtractor.of(where)
        trained.check()  # the reader is read first: its hash, and every model's, now
        reader = Reader.load(trained.reader_path(), device=device, precision=precision)
        level = level or f"tokens:{reader.config.max_seq_length}"
        extractor = Extractor.from_pretrained(trained, level, device=device, split="eval",
                                              lost="unanswerable", quiet=True)
        return cls(reader, level=level, extractor=extractor)

    def __call__(self, question: str, context: str) -> Answered:
        return self.answer_many([Question(question, context)])[0]

    def answer_many(self, items: Sequence[Question], batch_size: int = 64) -> list[Answered]:
        """Extract and read many questions at once (scorers and reader batch across them);
        every answer is a span of its original context."""
        items = _with_ids(items)
        if not items:
            return []
        if self.extractor is None:
            examples = [Example(q.id, q.question, q.context) for q in items]
            preds = self.reader.predict(examples, batch_size=batch_size, quiet=self.quiet)
            return [Answered(q.id, q.question, p.text, p.start, p.end, p.score, not p.text, False,
                             [KeptSentence(0, len(q.context), q.context, 0.0)], q.context)
                    for q, p in zip(items, preds, strict=True)]
        dataset = SquadDataset("1.1", [Article("", [Paragraph(q.context, [QA(q.id, q.question, [])])
                                                    for q in items])], source="<questions>")
        units = self.extractor.to_units(dataset)
        scored = self.extractor.score(units)
        level = self.extractor.select_all(dataset, units, scored).levels[0]
        comps = [join(q.context, level.spans(units, n), level.kept[n])
                 for n, q in enumerate(items)]
        examples = [Example(q.id, q.question, c.context) for q, c in zip(items, comps, strict=True)]
        preds = self.reader.predict(examples, batch_size=batch_size, quiet=self.quiet)
        out = []
        for n, (q, pred, comp) in enumerate(zip(items, preds, comps, strict=True)):
            spans = level.spans(units, n)
            kept = [KeptSentence(s, e, q.context[s:e], float(scored.fused[n][i]))
                    for i in comp.kept for s, e in [spans[i]]]
            if not pred.text:
                out.append(Answered(q.id, q.question, "", 0, 0, pred.score, True, False, kept,
                                    comp.context))
                continue
            start, end, clipped = to_original(q.context, comp, spans, pred.start,
                                             pred.end)
            out.append(Answered(q.id, q.question, q.context[start:end], start, end, pred.score,
                                False, clipped, kept, comp.context))
        return out


def _with_ids(items: Sequence[Question]) -> list[Question]:
    out, seen = [], set()
    for n, q in enumerate(items):
        qid = q.id or f"q{n + 1}"
        if qid in seen:
            raise DataError("<questions>", f"question {n + 1}", f"duplicate id {qid!r}")
        if not q.question.strip() or not q.context.strip():
            raise DataError("<questions>", f"question {qid}", "empty question or context")
        seen.add(qid)
        out.append(Question(q.question, q.context, qid))
    return out


def to_original(context: str, comp: Joined, spans: Sequence[Span], start: int,
                end: int) -> tuple[int, int, bool]:
    """Map ``[start, end)`` of the shortened context back to the original one.

    Offset arithmetic through the kept sentences. A span that runs over a gap (two kept
    sentences that were not adjacent) is cut at the end of the first run of adjacent sentences,
    since the original text between them was never read; ``clipped`` says so."""
    lengths = [spans[k][1] - spans[k][0] for k in comp.kept]
    first = _locate(comp, lengths, start, forward=True)
    last = _locate(comp, lengths, end - 1, forward=False)
    o_start = spans[comp.kept[first]][0] + max(start - comp.offsets[first], 0)
    run = first
    while run < last and comp.kept[run + 1] == comp.kept[run] + 1:
        run += 1
    if run == last:
        o_end = spans[comp.kept[last]][0] + min(end - comp.offsets[last], lengths[last])
        return o_start, o_end, False
    o_end = spans[comp.kept[run]][1]
    return o_start, o_start + len(context[o_start:o_end].rstrip()), True


def _locate(comp: Joined, lengths: Sequence[int], pos: int, *, forward: bool) -> int:
    """Index of the kept sentence holding ``pos``; a position on an inserted space belongs to the
    next sentence (``forward``) or the previous one."""
    for n, off in enumerate(comp.offsets):
        if off <= pos < off + lengths[n]:
            return n
        if pos < off:
            return n if forward else max(n - 1, 0)
    return len(comp.offsets) - 1


def read_questions(path: str | Path) -> list[Question]:
    """Questions from a SQuAD file, a JSON list or JSON Lines of ``{"question", "context"[,
    "id"]}``; each problem a DataError with its place (a bad byte's line, an item, a field)."""
    p = Path(path)
    if not p.exists():
        raise DataError(str(p), "", "no such file")
    text = read_utf8(p)
    if p.suffix.lower() in (".jsonl", ".ndjson"):
        return _rows([(f"line {n}", row) for n, row in jsonl_rows(text, str(p))], str(p))
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(str(p), f"line {err.lineno} column {err.colno}",
                        f"not JSON: {err.msg}") from None
    if isinstance(raw, dict) and "data" in raw:
        return [Question(qa.question, par.context, qa.id) for _, par, qa in load(p).iter_qas()]
    if not isinstance(raw, list):
        raise DataError(str(p), "", "expected a SQuAD file or a list of {question, context}")
    return _rows([(f"item {n}", row) for n, row in enumerate(raw, 1)], str(p))


def _rows(rows: list[tuple[str, Any]], path: str) -> list[Question]:
    out = []
    for where, row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not isinstance(
                row.get("context"), str):
            raise DataError(path, where, "needs string fields 'question' and 'context'")
        check_strings(row, path, where)
        out.append(Question(row["question"], row["context"], str(row.get("id", ""))))
    return out


def questions_given(question: str | None, context: str | None, context_file: str | Path | None,
                    input: str | Path | None) -> list[Question]:
    """The questions a command was given: a file of them (``input``), or one ``question`` with
    its context inline or in a file."""
    if input is not None:
        if question or context or context_file:
            raise ConfigError("give either `input` or `question` with `context`/`context_file`")
        return read_questions(input)
    if not question:
        raise ConfigError("give `question` (with `context` or `context_file`), or `input`")
    return [Question(question, text_given(context, context_file), "q1")]


@dataclass
class AnswerJob:
    """``answer``'s settings (every default declared here; the command line reads them)."""

    levels: str | None = None
    scorers: str | None = None
    no_extract: bool = False
    device: str = "auto"
    precision: str = "auto"
    quiet: bool = False

    def pipeline(self, model: str | Path | None,
                 extractor: str | Path | TrainedExtractor | None) -> ExtractThenRead:
        """Extract-then-read with a trained extractor folder (its scorers, fusion and reader), or
        with a reader folder and the named scorers, their options handed as to every command."""
        from ..scorers import options_from
        from ..scorers.options import chosen_scorers, names_of

        if self.levels is not None and len(names_of(self.levels)) != 1:
            raise ConfigError(f"`levels` {self.levels}: answer reads at one level")
        if extractor is not None:
            check_beside_extractor(extractor, scorers=self.scorers, model=model)
            if self.no_extract:
                raise ConfigError("`extractor` extracts with its scorers: leave out `no_extract`")
            found = ExtractThenRead.from_pretrained(extractor, level=self.levels,
                                                    device=self.device, precision=self.precision)
        elif model is None:
            raise ConfigError("give `model` (a train-reader folder) or `extractor` (a "
                              "train-extractor folder)")
        else:
            names = chosen_scorers(self.scorers)
            reader = Reader.load(model, device=self.device, precision=self.precision)
            found = ExtractThenRead(reader, level=self.levels, scorers=names,
                                    extract=not self.no_extract,
                                    scorer_options=options_from(names, {"device": self.device}))
        found.quiet = found.quiet or self.quiet
        return found
