"""The sentence-level ("crashed") dataset: one row per (question, sentence).

Each row holds the question and article ids, the sentence index, its text and its span in the
context, and ``label``: where the answer starts inside that sentence, or ``None`` when the
sentence does not hold the answer start. The units are :func:`ids_extract.squad.units.segment`'s,
so a row is exactly a unit the extractor ranks (on a training split, sentences an answer crosses are merged,
so an answer never straddles two rows).

Most rows are negatives (SQuAD contexts have about five sentences). ``drop-empty`` keeps only the
answer rows (the lab note's choice); ``neg_ratio=R`` keeps at most R negatives per positive of a
question, sampled with a fixed seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from .. import defaults
from ..errors import ConfigError
from ..files import atomic_path, write_jsonl
from ..squad.model import SquadDataset
from ..squad.units import SquadUnits, squad_units

Balance = Literal["none", "drop-empty"]
BALANCES: tuple[str, ...] = ("none", "drop-empty")
FORMATS: dict[str, str] = {".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def sentence_rows(dataset: SquadDataset, *, split: str = "train", segmenter: str = defaults.SEGMENTER,
                  quiet: bool = True) -> Iterator[dict[str, Any]]:
    """All (question, sentence) rows of a dataset, in file order (see :func:`unit_rows`)."""
    return unit_rows(squad_units(dataset, split, segmenter, quiet=quiet))


def unit_rows(units: SquadUnits) -> Iterator[dict[str, Any]]:
    """All (question, unit) rows, in file order; unanswerable questions give only negatives.

    ``label`` uses the first gold answer (SQuAD training questions have one; dev questions have
    several annotators' answers, the first is the reference one); ``answer_text`` is its text on
    the labelled row.
    """
    for p, qa in zip(units.owner, units.qas, strict=True):
        answer = qa.answers[0] if qa.answers and not qa.is_impossible else None
        for i, (start, end) in enumerate(units.spans[p]):
            holds = answer is not None and start <= answer.answer_start < end
            yield {
                "id": qa.id,
                "title": units.titles[p],
                "context_index": p,
                "question": qa.question,
                "sentence_index": i,
                "num_sentences": len(units.spans[p]),
                "text": units.texts[p][start:end],
                "start": start,
                "end": end,
                "label": answer.answer_start - start if holds and answer else None,
                "answer_text": answer.text if holds and answer else None,
            }


def balance_rows(rows: Sequence[dict[str, Any]], balance: str = "none",
                 neg_ratio: float | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """Apply ``drop-empty`` or keep at most ``round(neg_ratio × positives)`` negatives per
    question (all of them when it has fewer); row order is kept."""
    if balance not in BALANCES:
        raise ConfigError(f"balance {balance!r}: choose from {', '.join(BALANCES)}")
    if neg_ratio is not None and balance != "none":
        raise ConfigError("give either `balance` drop-empty or `neg_ratio`, not both")
    if neg_ratio is not None and neg_ratio < 0:
        raise ConfigError(f"`neg_ratio` must be >= 0, not {neg_ratio}")
    if balance == "drop-empty":
        return [r for r in rows if r["label"] is not None]
    if neg_ratio is None:
        return list(rows)
    rng = random.Random(seed)
    keep: set[int] = set()
    by_question: dict[str, list[int]] = {}
    for n, r in enumerate(rows):
        by_question.setdefault(r["id"], []).append(n)
    for indices in by_question.values():
        pos = [n for n in indices if rows[n]["label"] is not None]
        neg = [n for n in indices if rows[n]["label"] is None]
        keep.update(pos)
        k = min(len(neg), round(neg_ratio * max(len(pos), 1)))
        keep.update(rng.sample(neg, k))
    return [r for n, r in enumerate(rows) if n in keep]


def write_rows(rows: Sequence[dict[str, Any]], target: str | Path) -> str:
    """Parquet or JSON Lines by the file's suffix, written atomically; returns the format."""
    fmt = FORMATS.get(Path(target).suffix.lower())
    if fmt is None:
        raise ConfigError(f"{target}: output must end in {', '.join(FORMATS)}")
    if fmt == "jsonl":
        write_jsonl(rows, target)
        return fmt
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(list(rows), schema=_schema()) if rows else _schema().empty_table()
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    return fmt


def _schema() -> Any:
    """Fixed column types, so that an all-negative file still has an integer ``label``."""
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("title", pa.string()), ("context_index", pa.int64()),
        ("question", pa.string()), ("sentence_index", pa.int64()),
        ("num_sentences", pa.int64()), ("text", pa.string()), ("start", pa.int64()),
        ("end", pa.int64()), ("label", pa.int64()), ("answer_text", pa.string()),
    ])
