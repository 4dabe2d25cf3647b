"""Data I/O: SQuAD v1.1/v2.0 JSON, JSON Lines and Hugging Face datasets in; SQuAD JSON and Parquet out.

Everything is loaded into one small object model (``SquadDataset`` → ``Article`` → ``Paragraph`` →
``QA``) that keeps the SQuAD nesting, so the writer can give back the same schema with the same ids
and ``version``. Validation happens at load time and names the file and the
article/paragraph/question of every problem; nothing downstream has to re-check the input.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .errors import DataError

BadAnswerPolicy = Literal["error", "repair", "skip"]


@dataclass(frozen=True)
class Answer:
    """One gold answer: its text and the character offset where it starts in the context."""

    text: str
    answer_start: int

    @property
    def end(self) -> int:
        return self.answer_start + len(self.text)


@dataclass
class QA:
    """One question about a paragraph (SQuAD ``qas`` entry)."""

    id: str
    question: str
    answers: list[Answer]
    is_impossible: bool = False
    plausible_answers: list[Answer] = field(default_factory=list)


@dataclass
class Paragraph:
    context: str
    qas: list[QA]


@dataclass
class Article:
    title: str
    paragraphs: list[Paragraph]


@dataclass
class SquadDataset:
    """A SQuAD-shaped dataset; ``version`` is kept as read (``"1.1"``, ``"v2.0"``, …)."""

    version: str
    articles: list[Article]
    source: str = "<memory>"
    repairs: list[str] = field(default_factory=list)

    @property
    def is_v2(self) -> bool:
        return any(qa.is_impossible for _, _, qa in self.iter_qas()) or self.version.lstrip(
            "v"
        ).startswith("2")

    def paragraphs(self) -> Iterator[Paragraph]:
        for article in self.articles:
            yield from article.paragraphs

    def iter_qas(self) -> Iterator[tuple[Article, Paragraph, QA]]:
        for article in self.articles:
            for paragraph in article.paragraphs:
                for qa in paragraph.qas:
                    yield article, paragraph, qa

    @property
    def num_questions(self) -> int:
        return sum(len(p.qas) for p in self.paragraphs())

    def limit(self, n_questions: int | None) -> SquadDataset:
        """The first ``n_questions`` questions, with the nesting kept (for quick runs and tests)."""
        if n_questions is None:
            return self
        articles: list[Article] = []
        left = n_questions
        for article in self.articles:
            paragraphs = []
            for paragraph in article.paragraphs:
                if left <= 0:
                    break
                paragraphs.append(Paragraph(paragraph.context, paragraph.qas[:left]))
                left -= len(paragraphs[-1].qas)
            if paragraphs:
                articles.append(Article(article.title, paragraphs))
            if left <= 0:
                break
        return replace(self, articles=articles)


# ----------------------------------------------------------------------------------------- reading


def load(
    source: str | os.PathLike[str],
    *,
    on_bad_answer: BadAnswerPolicy = "error",
    split: str = "validation",
) -> SquadDataset:
    """Load SQuAD data from a JSON/JSONL/Parquet file, a ``save_to_disk`` folder, or a hub name.

    ``on_bad_answer`` decides what happens to an answer whose text is not found at its
    ``answer_start``: ``error`` (default) stops with the location, ``repair`` moves it to the
    nearest occurrence of its text (else skips it), ``skip`` drops it; both report in ``repairs``.
    """
    path = Path(source)
    if path.is_dir():
        rows = _rows_from_hf(str(path), split, local=True)
        return _validated(_from_rows(rows, str(path)), str(path), on_bad_answer)
    if not path.exists():
        if _looks_like_hub_name(str(source)):
            rows = _rows_from_hf(str(source), split, local=False)
            return _validated(_from_rows(rows, str(source)), str(source), on_bad_answer)
        raise DataError(str(source), "", "no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _validated(_from_rows(_rows_from_parquet(path), str(path)), str(path), on_bad_answer)
    text = _read_utf8(path)
    if suffix in (".jsonl", ".ndjson"):
        dataset = _from_rows(_rows_from_jsonl(text, str(path)), str(path))
    else:
        dataset = _from_squad_json(text, str(path))
    return _validated(dataset, str(path), on_bad_answer)


def _looks_like_hub_name(name: str) -> bool:
    return ("/" in name.strip("/") and not name.startswith((".", "/"))) or name.isidentifier()


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(
            str(path), f"byte {err.start} (line {line})", f"invalid UTF-8 ({err.reason})"
        ) from None


def _from_squad_json(text: str, path: str) -> SquadDataset:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, f"line {err.lineno} column {err.colno}", f"not JSON: {err.msg}") from None
    if isinstance(raw, list) and raw and all(isinstance(r, dict) and "context" in r for r in raw):
        return _from_rows(iter(raw), path)  # flat rows, as datasets' to_json(lines=False) writes
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise DataError(path, "", "not a SQuAD file: expected an object with a 'data' list")
    articles = [parse_article(a, i, path) for i, a in enumerate(raw["data"])]
    return SquadDataset(str(raw.get("version", "1.1")), articles, source=path)


def _require(obj: Any, key: str, kind: type | tuple[type, ...], path: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise DataError(path, where, f"expected an object, found {type(obj).__name__}")
    if key not in obj:
        raise DataError(path, where, f"missing field '{key}'")
    value = obj[key]
    if not isinstance(value, kind):
        raise DataError(path, where, f"field '{key}' has type {type(value).__name__}")
    return value


def parse_article(raw: Any, index: int, path: str) -> Article:
    where = f"article {index}"
    if isinstance(raw, dict) and isinstance(raw.get("title"), str):
        where = f"article {index} ({raw['title']!r})"
    title = raw.get("title", "") if isinstance(raw, dict) else ""
    paragraphs = _require(raw, "paragraphs", list, path, where)
    parsed = [_parse_paragraph(p, f"{where} paragraph {j}", path) for j, p in enumerate(paragraphs)]
    return Article(str(title), parsed)


def _parse_paragraph(raw: Any, where: str, path: str) -> Paragraph:
    context = _require(raw, "context", str, path, where)
    if not context.strip():
        raise DataError(path, where, "empty context")
    qas = _require(raw, "qas", list, path, where)
    return Paragraph(context, [_parse_qa(q, f"{where} question {k}", path) for k, q in enumerate(qas)])


def _parse_qa(raw: Any, where: str, path: str) -> QA:
    qid = _require(raw, "id", (str, int), path, where)
    where = f"{where.rsplit(' question', 1)[0]} question id {qid!s}"
    question = _require(raw, "question", str, path, where)
    if not question.strip():
        raise DataError(path, where, "empty question")
    impossible = bool(raw.get("is_impossible", False))
    answers = [_parse_answer(a, where, path) for a in raw.get("answers", []) or []]
    plausible = [_parse_answer(a, where, path) for a in raw.get("plausible_answers", []) or []]
    if not answers and not impossible:
        raise DataError(path, where, "no answers and not marked is_impossible")
    return QA(str(qid), question, answers, impossible, plausible)


def _parse_answer(raw: Any, where: str, path: str) -> Answer:
    text = _require(raw, "text", str, path, where)
    start = _require(raw, "answer_start", int, path, where)
    if not text:
        raise DataError(path, where, "empty answer text")
    return Answer(text, start)


def _rows_from_jsonl(text: str, path: str) -> Iterator[dict[str, Any]]:
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(path, f"line {lineno}", f"not JSON: {err.msg}") from None
        if not isinstance(row, dict):
            raise DataError(path, f"line {lineno}", "expected one JSON object per line")
        yield row


def _rows_from_parquet(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for a broken file
        raise DataError(str(path), "", f"not a readable Parquet file: {err}") from None
    yield from table.to_pylist()


def _rows_from_hf(name: str, split: str, *, local: bool) -> Iterator[dict[str, Any]]:
    """Rows from ``datasets``: a ``save_to_disk`` folder, or a hub name for users with internet."""
    import datasets

    try:
        loaded = datasets.load_from_disk(name) if local else datasets.load_dataset(name, split=split)
    except Exception as err:  # datasets raises many types (FileNotFound, ConnectionError, …)
        raise DataError(name, "", f"could not load with datasets: {err}") from None
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise DataError(name, "", f"no split {split!r} (has {sorted(loaded)})")
        loaded = loaded[split]
    yield from loaded


def _answers_from_row(raw: Any, path: str, where: str) -> list[Answer]:
    """Accept both HF columnar answers ``{text: [...], answer_start: [...]}`` and a list of dicts."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        texts, starts = raw.get("text", []), raw.get("answer_start", [])
        if len(texts) != len(starts):
            raise DataError(path, where, "answers.text and answers.answer_start differ in length")
        raw = [{"text": t, "answer_start": s} for t, s in zip(texts, starts, strict=True)]
    if not isinstance(raw, list):
        raise DataError(path, where, "field 'answers' must be a list or {text, answer_start}")
    return [_parse_answer(a, where, path) for a in raw]


def _from_rows(rows: Iterator[dict[str, Any]], path: str) -> SquadDataset:
    """Group flat rows (one per question) back into articles and paragraphs, order kept."""
    articles: dict[str, Article] = {}
    paragraphs: dict[tuple[str, str], Paragraph] = {}
    for n, row in enumerate(rows):
        where = f"row {n}"
        qid = _require(row, "id", (str, int), path, where)
        where = f"row {n} question id {qid!s}"
        context = _require(row, "context", str, path, where)
        question = _require(row, "question", str, path, where)
        if not context.strip():
            raise DataError(path, where, "empty context")
        if not question.strip():
            raise DataError(path, where, "empty question")
        answers = _answers_from_row(row.get("answers"), path, where)
        impossible = bool(row.get("is_impossible", not answers))
        title = str(row.get("title") or "")
        article = articles.setdefault(title, Article(title, []))
        key = (title, context)
        if key not in paragraphs:
            paragraphs[key] = Paragraph(context, [])
            article.paragraphs.append(paragraphs[key])
        paragraphs[key].qas.append(QA(str(qid), question, answers, impossible))
    if not paragraphs:
        raise DataError(path, "", "no rows: not a SQuAD-style dataset")
    version = "v2.0" if any(q.is_impossible for p in paragraphs.values() for q in p.qas) else "1.1"
    return SquadDataset(version, list(articles.values()), source=path)


# -------------------------------------------------------------------------------------- validation


class Validator:
    """Checks article after article (so a stream can be checked without loading it whole): ids
    unique across the file, every answer at its offset; repairs or skips on request."""

    def __init__(self, path: str, policy: BadAnswerPolicy) -> None:
        self.path, self.policy = path, policy
        self.seen: dict[str, str] = {}
        self.repairs: list[str] = []

    def check(self, article: Article, a_i: int) -> Article:
        for p_i, paragraph in enumerate(article.paragraphs):
            kept = []
            for qa in paragraph.qas:
                where = f"article {a_i} ({article.title!r}) paragraph {p_i} question id {qa.id}"
                if qa.id in self.seen:
                    raise DataError(self.path, where,
                                    f"duplicate question id (first at {self.seen[qa.id]})")
                self.seen[qa.id] = where
                qa.answers = self._answers(qa.answers, paragraph.context, where)
                qa.plausible_answers = self._answers(qa.plausible_answers, paragraph.context, where)
                if qa.answers or qa.is_impossible:
                    kept.append(qa)
                else:
                    self.repairs.append(f"{where}: question skipped: no usable answer left")
            paragraph.qas = kept
        return article

    def _answers(self, answers: list[Answer], context: str, where: str) -> list[Answer]:
        return _checked_answers(answers, context, where, self.path, self.policy, self.repairs)


def _validated(dataset: SquadDataset, path: str, policy: BadAnswerPolicy) -> SquadDataset:
    """Check ids are unique and every answer sits at its offset; repair or skip on request."""
    validator = Validator(path, policy)
    for a_i, article in enumerate(dataset.articles):
        validator.check(article, a_i)
    dataset.repairs = validator.repairs
    dataset.source = path
    return dataset


def _checked_answers(
    answers: list[Answer],
    context: str,
    where: str,
    path: str,
    policy: BadAnswerPolicy,
    report: list[str],
) -> list[Answer]:
    kept = []
    for answer in answers:
        if context[answer.answer_start : answer.end] == answer.text and answer.answer_start >= 0:
            kept.append(answer)
            continue
        found = context[answer.answer_start : answer.end] if answer.answer_start >= 0 else ""
        problem = (
            f"answer {answer.text!r} does not match the context at answer_start "
            f"{answer.answer_start} (found {found!r})"
        )
        if policy == "error":
            raise DataError(
                path, where, problem + "; use --on-bad-answer repair or skip to go on"
            )
        fixed = _nearest_occurrence(context, answer) if policy == "repair" else None
        if fixed is not None:
            report.append(f"{where}: repaired {answer.text!r} {answer.answer_start} -> {fixed}")
            kept.append(Answer(answer.text, fixed))
        else:
            report.append(f"{where}: skipped: {problem}")
    return kept


def _nearest_occurrence(context: str, answer: Answer) -> int | None:
    """Offset of the occurrence of the answer text closest to the stated ``answer_start``."""
    best: int | None = None
    start = context.find(answer.text)
    while start != -1:
        if best is None or abs(start - answer.answer_start) < abs(best - answer.answer_start):
            best = start
        start = context.find(answer.text, start + 1)
    return best


# ----------------------------------------------------------------------------------------- writing


def article_dict(article: Article, v2: bool) -> dict[str, Any]:
    """One article in SQuAD JSON form; ``v2`` adds ``is_impossible`` (and plausible answers)."""

    def answer(a: Answer) -> dict[str, Any]:
        return {"answer_start": a.answer_start, "text": a.text}

    def qa_dict(qa: QA) -> dict[str, Any]:
        out: dict[str, Any] = {"answers": [answer(a) for a in qa.answers], "question": qa.question,
                               "id": qa.id}
        if v2:
            out["is_impossible"] = qa.is_impossible
            if qa.plausible_answers:
                out["plausible_answers"] = [answer(a) for a in qa.plausible_answers]
        return out

    return {"title": article.title,
            "paragraphs": [{"context": p.context, "qas": [qa_dict(q) for q in p.qas]}
                           for p in article.paragraphs]}


def to_squad_dict(dataset: SquadDataset, v2: bool | None = None) -> dict[str, Any]:
    v2 = dataset.is_v2 if v2 is None else v2
    return {"data": [article_dict(a, v2) for a in dataset.articles], "version": dataset.version}


def to_rows(dataset: SquadDataset) -> list[dict[str, Any]]:
    """Flat rows in the Hugging Face ``squad`` layout (columnar ``answers``)."""
    return [
        {
            "id": qa.id,
            "title": art.title,
            "context": par.context,
            "question": qa.question,
            "answers": {"text": [a.text for a in qa.answers],
                        "answer_start": [a.answer_start for a in qa.answers]},
            "is_impossible": qa.is_impossible,
        }
        for art, par, qa in dataset.iter_qas()
    ]


def rows_schema() -> Any:
    """The Parquet schema of :func:`to_rows` (fixed, so streamed row groups always agree)."""
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("title", pa.string()), ("context", pa.string()),
        ("question", pa.string()),
        ("answers", pa.struct([("text", pa.list_(pa.string())),
                               ("answer_start", pa.list_(pa.int64()))])),
        ("is_impossible", pa.bool_()),
    ])


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` and move it into place only on success.

    A crash or Ctrl-C leaves either the old file or none, never a half-written one.
    """
    tmp = temp_beside(target)
    try:
        yield tmp
        commit_temp(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


TEMP_SUFFIX = ".tmp"


def temp_beside(target: str | os.PathLike[str]) -> Path:
    """An empty temporary file in the target's folder (so the final move is atomic)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    os.close(fd)
    return Path(tmp)


def commit_temp(tmp: Path, target: str | os.PathLike[str]) -> None:
    """Give the temporary file normal permissions and move it over the target in one step."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, target)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(obj: Any, target: str | os.PathLike[str]) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=None) + "\n", encoding="utf-8")


def write_squad(dataset: SquadDataset, target: str | os.PathLike[str]) -> None:
    write_json(to_squad_dict(dataset), target)


def write_parquet(dataset: SquadDataset, target: str | os.PathLike[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(to_rows(dataset), schema=rows_schema())
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)


def write_jsonl(rows: Sequence[dict[str, Any]], target: str | os.PathLike[str]) -> None:
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
