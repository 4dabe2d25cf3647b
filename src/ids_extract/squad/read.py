"""Reading SQuAD data: v1.1/v2.0 JSON, a JSON list of rows, JSON Lines, Parquet, a ``datasets``
``save_to_disk`` folder, or a hub dataset name (for users with internet).

Every problem names the file and the article/paragraph/question (or row) it is in, and the field
when it is one field's (a lone surrogate in a question: :func:`ids_extract.tabular.check_text`;
every string this reader keeps is checked, as each is written again). A path that does not
exist is "no such file" when it looks like a path, and a hub name only when it cannot be one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..tabular import check_text, jsonl_rows, load_hf, looks_like_hub_name, read_parquet, read_utf8
from .model import QA, Answer, Article, Paragraph, SquadDataset
from .validate import BadAnswerPolicy, validated


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
        rows = iter(load_hf(str(path), split, local=True))
        return validated(_from_rows(rows, str(path)), str(path), on_bad_answer)
    if not path.exists():
        if looks_like_hub_name(str(source)):
            rows = iter(load_hf(str(source), split, local=False))
            return validated(_from_rows(rows, str(source)), str(source), on_bad_answer)
        raise DataError(str(source), "", "no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        rows = iter(read_parquet(path).to_pylist())
        return validated(_from_rows(rows, str(path)), str(path), on_bad_answer)
    text = read_utf8(path)
    if suffix in (".jsonl", ".ndjson"):
        dataset = _from_rows((row for _, row in jsonl_rows(text, str(path))), str(path))
    else:
        dataset = _from_squad_json(text, str(path))
    return validated(dataset, str(path), on_bad_answer)


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
    version = check_text(str(raw.get("version", "1.1")), path, "", "version")
    return SquadDataset(version, articles, source=path)


def _require(obj: Any, key: str, kind: type | tuple[type, ...], path: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise DataError(path, where, f"expected an object, found {type(obj).__name__}")
    if key not in obj:
        raise DataError(path, where, f"missing field '{key}'")
    value = obj[key]
    if not isinstance(value, kind):
        raise DataError(path, where, f"field '{key}' has type {type(value).__name__}")
    return check_text(value, path, where, key) if isinstance(value, str) else value


def parse_article(raw: Any, index: int, path: str) -> Article:
    """One article of a SQuAD file, every field checked: an error names the file, the article
    (by index and title, so a user finds it in a large file) and the paragraph or question."""
    where = f"article {index}"
    if isinstance(raw, dict) and isinstance(raw.get("title"), str):
        where = f"article {index} ({raw['title']!r})"
    title = check_text(str(raw.get("title", "")) if isinstance(raw, dict) else "", path,
                       f"article {index}", "title")
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
        title = check_text(str(row.get("title") or ""), path, where, "title")
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
