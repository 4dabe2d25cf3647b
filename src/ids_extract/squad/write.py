"""Writing SQuAD data: the official JSON layout (v2.0 fields only when asked) and the flat rows of
the Hugging Face ``squad`` layout (Parquet). Every file is written atomically."""

from __future__ import annotations

import os
from typing import Any

from ..files import atomic_path, write_json
from .model import QA, Answer, Article, SquadDataset


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


def write_squad(dataset: SquadDataset, target: str | os.PathLike[str]) -> None:
    write_json(to_squad_dict(dataset), target)


def write_parquet(dataset: SquadDataset, target: str | os.PathLike[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(to_rows(dataset), schema=rows_schema())
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)


def output_version(input_version: str, v2: bool) -> str:
    """The ``version`` a level file says: ``v2.0`` whenever its records carry v2.0 fields (an
    unanswerable question, or the lost-answer policy ``unanswerable``), so a v1.1 evaluator is
    never handed v2.0 records; else the input's own."""
    if v2 and not input_version.lstrip("v").startswith("2"):
        return "v2.0"
    return input_version
