"""The one driver: a toy third task, defined in this file alone, runs through the whole pipeline
(units → scores → fusion → the selection step → its writer), through the score cache the
engines use, and into an output folder of the one engine that ``validate`` and ``stats`` read,
with no edit anywhere else: its product (a JSON file format with its read-back, a level sink,
the statistics ``stats`` prints) is defined here and registered with one call.

The toy task shortens log records for a query: a record is ``"time | level | message | …"``,
its units are its fields (its own segmentation, not sentences), the query is what is looked
for, the rule keeps the time field always, and a level is written as a dict of id → short record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from typer.testing import CliRunner

from ids_extract.cli import app
from ids_extract.errors import IdsExtractError
from ids_extract.files import write_json
from ids_extract.models.hub import load_tokenizer
from ids_extract.pipeline.driver import Chosen, Driver, Tokenizers
from ids_extract.pipeline.product import FileFormat, Files, Product, Statistics
from ids_extract.pipeline.products import register
from ids_extract.pipeline.run import Held, Options, run_to_dir
from ids_extract.pipeline.selector import Selector
from ids_extract.pipeline.shards import save_shard, score_shard, unpack_shard
from ids_extract.pipeline.validate import validate_dir
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


class JsonFile:
    """The toy's one file format: a level's records as one JSON object, written whole on close
    (atomically, by ``write_json``)."""

    def __init__(self, target: Path, context: object) -> None:
        self.target, self.records = target, dict[str, str]()

    def add(self, records: dict[str, str]) -> None:
        self.records.update(records)

    def close(self) -> None:
        write_json(self.records, self.target)

    def abort(self) -> None:
        self.records = {}


def reread(path: Path, entry: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """``validate``'s read-back: every record there, each still starting with its time."""
    records = json.loads(path.read_text(encoding="utf-8"))
    if len(records) != entry["stats"]["records"] or not all(
            v[:5] == RECORDS[k][:5] for k, v in records.items()):
        raise IdsExtractError(f"{path}: not the records the manifest says")
    return f"{len(records)} records, times kept"


class LogLevel:
    """A level's sink: the records to the file, their count and mean length as statistics."""

    def __init__(self, files: Files, name: str, level: str, context: object) -> None:
        self.files, self.entry = files, {"name": name, "level": level}
        self.lengths: list[int] = []

    def add(self, records: dict[str, str]) -> None:
        self.files.add(records)
        self.lengths += [len(v) for v in records.values()]

    def close(self) -> dict[str, Any]:
        return {**self.entry, "files": self.files.close(),
                "stats": {"records": len(self.lengths),
                          "mean_chars": sum(self.lengths) / max(len(self.lengths), 1)}}

    def abort(self) -> None:
        self.files.abort()


LOGS = register(Product(
    "toy-logs/1", {"json": FileFormat("json", ".json", JsonFile, reread)}, LogLevel,
    Statistics(lambda m: f"log records of {m['input']['path']}",
               (("records", lambda s: str(s["records"])),
                ("mean chars", lambda s: f"{s['mean_chars']:.1f}")))))


@dataclass
class LogTask:
    """A third task: log records shortened for a query."""

    query: str

    @property
    def product(self) -> Product[Any]:
        return LOGS

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


def test_a_third_task_gets_an_output_folder_that_validate_and_stats_read(tmp_path: Path) -> None:
    run, out = driver("top-k:1,max-ratio:0.5"), tmp_path / "logs"

    def write() -> Any:
        return run_to_dir(run, Held(RECORDS, len(RECORDS)), out,
                          {"path": "records", "sha256": "toy", "limit": None},
                          {"query": QUERY, "levels": [str(lv) for lv in run.levels]},
                          Options(("json",)))

    summary = write()
    assert summary.written == run.level_names
    top = json.loads((out / "D1-top-k1.json").read_text(encoding="utf-8"))
    assert top == run.run(RECORDS).outputs[0]  # the folder holds what the driver makes
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "toy-logs/1" and manifest["levels"][0]["stats"]["records"] == 3
    assert all(c.ok for c in validate_dir(out)), validate_dir(out)
    assert write().skipped == run.level_names  # resumed: the same input and config are done
    res = CliRunner().invoke(app, ["stats", str(out)])
    assert res.exit_code == 0 and "log records of records" in res.output
    assert "mean chars" in res.output and "D2-max-ratio0.5" in res.output
    (out / "D1-top-k1.json").write_text("{}", encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(out)])
    assert res.exit_code == 1 and "sha256 differs" in res.output
