"""The one driver: a toy third task, defined in this file alone, runs through the whole pipeline
(units → scores → fusion → the selection step → its writer) and through the score cache the
engines use, with no edit anywhere else.

The toy task shortens log records for a query: a record is ``"time | level | message | …"``,
its units are its fields (its own segmentation, not sentences), the query is what is looked
for, the rule keeps the time field always, and a level is written as a dict of id → short record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ids_extract.models.hub import load_tokenizer
from ids_extract.pipeline.driver import Chosen, Driver, Tokenizers
from ids_extract.pipeline.selector import Selector
from ids_extract.pipeline.shards import save_shard, score_shard, unpack_shard
from ids_extract.select.budget import count_tokens
from ids_extract.select.levels import Level, parse_levels
from ids_extract.select.segment import Span
from ids_extract.select.step import Rules
from ids_extract.select.units import Units

RECORDS = {
    "a": "09:14 | INFO | disk check passed | host alpha | all volumes mounted",
    "b": "09:15 | ERROR | disk full on volume two | host beta | writes refused since 09:10",
    "c": "09:16 | WARN | memory high | host gamma | swap in use, disk idle",
}
QUERY = "disk full error"


@dataclass
class LogUnits(Units):
    ids: list[str] = field(default_factory=list)


class KeepTime(Rules):
    """The task's rule: the time field (unit 0) is always kept, and never dropped for a budget."""

    def after_level(self, q: int, kept: list[int], order: np.ndarray, lengths: np.ndarray,
                    room: int | None) -> list[int]:
        return sorted({0, *kept})

    def protected(self, q: int) -> set[int]:
        return {0}


@dataclass
class LogTask:
    """A third task: log records shortened for a query."""

    query: str

    def units(self, data: dict[str, str], segmenter: str, *,
              spans: Sequence[list[Span]] | None = None, quiet: bool = True) -> LogUnits:
        texts = list(data.values())
        cut = [list(s) for s in spans] if spans is not None else [fields(t) for t in texts]
        return LogUnits(texts, cut, list(range(len(texts))), [self.query] * len(texts),
                        ids=list(data))

    def rules(self, units: LogUnits, level: Level, name: str) -> KeepTime:
        return KeepTime()

    def write(self, data: dict[str, str], chosen: Chosen[LogUnits, KeepTime]) -> dict[str, str]:
        units = chosen.units
        return {i: chosen.choice.joined(units, q).context.strip()
                for q, i in enumerate(units.ids)}


def fields(text: str) -> list[Span]:
    """Spans of the ``" | "``-separated fields, the separator kept with the field before it."""
    spans, start = [], 0
    while (end := text.find(" | ", start)) != -1:
        spans.append((start, end + 3))
        start = end + 3
    return [*spans, (start, len(text))]


def driver(levels: str, **kw: object) -> Driver[dict[str, str], LogUnits, KeepTime,
                                                 dict[str, str]]:
    parsed = parse_levels(levels)
    return Driver(LogTask(QUERY), Selector.build(["bm25"]), parsed, Tokenizers.load(parsed),
                  quiet=True, **kw)  # type: ignore[arg-type]


def test_a_third_task_runs_through_the_driver() -> None:
    run = driver("top-k:1,tokens:16,max-ratio:0.5")
    top, tokens, share = run.run(RECORDS).outputs
    assert top["b"] == "09:15 | disk full on volume two |"  # the time, and the best field
    assert all(v.startswith(RECORDS[k][:5]) for level in (top, tokens, share)
               for k, v in level.items())  # the task's rule held at every level
    assert run.level_names == ["D1-top-k1", "D2-tokens16", "D3-max-ratio0.5"]
    tok = load_tokenizer(None)
    for k, short in tokens.items():  # query + kept fields + special tokens within 16 tokens
        assert len(tok(QUERY, short)["input_ids"]) <= 16, k
    for k, short in share.items():  # at most half of each record's own tokens
        assert count_tokens([short], tok)[0] <= count_tokens([RECORDS[k]], tok)[0] // 2


def test_the_engines_score_cache_serves_any_task(tmp_path: Path) -> None:
    run = driver("top-k:2")
    path = tmp_path / "shard-00000.npz"
    save_shard(path, score_shard(run, RECORDS))
    units, scored = unpack_shard(run, RECORDS, path)  # no segmentation: the cached spans
    assert units.spans == run.units(RECORDS).spans
    assert run.select(RECORDS, units, scored).outputs == run.run(RECORDS).outputs
