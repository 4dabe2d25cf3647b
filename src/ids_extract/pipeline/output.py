"""The built-in tasks' products (:mod:`.product`): what QA and classification levels become on
disk, how ``validate`` reads them back and what ``stats`` prints of them.

- QA (:data:`QA_PRODUCT`): one SQuAD dataset per level, streamed shard by shard, in every chosen format
  (``squad``: the official JSON, ``parquet``: the Hugging Face ``squad`` rows); the top-k recall
  of every scorer is tallied over the run;
- classification (:data:`TEXTS_PRODUCT`): one file per level in the input's own format (ids, labels and
  other columns unchanged, texts shortened).

Every file is written atomically (a temporary file moved into place on success), so an
interrupted run leaves only whole files behind. The engine that feeds the writers is
:mod:`.run`; the folder around the files (manifest, lock, resume) is :mod:`.folder`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IdsExtractError
from ..files import commit_temp, temp_beside
from ..select.stats import LevelStats, RankingStats
from ..squad.model import Article, SquadDataset
from ..squad.read import load
from ..squad.units import SquadUnits, answer_units
from ..squad.write import article_dict, rows_schema, to_rows
from ..textcls.model import FORMATS as TEXT_FORMATS
from ..textcls.model import Columns, TextDataset
from ..textcls.read import load as load_texts
from ..textcls.write import SUFFIX as TEXT_SUFFIX
from ..textcls.write import write_like
from .product import FileFormat, Files, Product, Statistics, Table

QA_FORMAT = "ids-extract/1"
TEXTS_FORMAT = "ids-extract-texts/1"


# ---------------------------------------------------------------------------------------- QA


@dataclass(frozen=True)
class SquadOut:
    """What a QA run's level files say: the SQuAD ``version``, and whether records carry the
    v2.0 fields."""

    version: str
    v2: bool


class _Temp:
    """A file written under a temporary name beside its target, moved into place on close."""

    def __init__(self, target: Path) -> None:
        self.target, self.temp = target, temp_beside(target)

    def _close_handle(self) -> None: ...

    def close(self) -> None:
        self._close_handle()
        commit_temp(self.temp, self.target)

    def abort(self) -> None:
        self._close_handle()
        self.temp.unlink(missing_ok=True)


class SquadJsonFile(_Temp):
    """A level as SQuAD JSON, streamed: articles cut by a shard boundary are joined again, so the
    bytes equal those of ``json.dumps(to_squad_dict(...))`` of the whole dataset."""

    def __init__(self, target: Path, out: SquadOut) -> None:
        super().__init__(target)
        self.out, self._first = out, True
        self._pending: Article | None = None
        self._fh: Any = self.temp.open("w", encoding="utf-8")
        self._fh.write('{"data": [')

    def add(self, articles: list[Article]) -> None:
        for article in articles:
            if self._pending is not None and self._pending.title == article.title:
                self._pending.paragraphs.extend(article.paragraphs)
                continue
            self._flush()
            self._pending = Article(article.title, list(article.paragraphs))

    def _flush(self) -> None:
        if self._pending is None:
            return
        text = json.dumps(article_dict(self._pending, self.out.v2), ensure_ascii=False)
        self._fh.write(text if self._first else ", " + text)
        self._first, self._pending = False, None

    def close(self) -> None:
        self._flush()
        self._fh.write(f'], "version": {json.dumps(self.out.version)}}}\n')
        super().close()

    def _close_handle(self) -> None:
        self._fh.close()


class SquadParquetFile(_Temp):
    """A level as Parquet rows (the Hugging Face ``squad`` layout), one row group per shard."""

    def __init__(self, target: Path, out: SquadOut) -> None:
        import pyarrow.parquet as pq

        super().__init__(target)
        self.out = out
        self._writer = pq.ParquetWriter(self.temp, rows_schema())

    def add(self, articles: list[Article]) -> None:
        import pyarrow as pa

        if articles:
            rows = to_rows(SquadDataset(self.out.version, articles))
            self._writer.write_table(pa.Table.from_pylist(rows, schema=rows_schema()))

    def _close_handle(self) -> None:
        self._writer.close()


def reread_squad(path: Path, entry: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """A QA level read back (the loader checks every answer at its offset), its questions
    counted against the level's statistics."""
    stats = entry.get("stats", {})
    expected = stats.get("questions", 0) - stats.get("dropped", 0)
    ds = load(path)
    if ds.num_questions != expected:
        raise IdsExtractError(f"{path}: {ds.num_questions} questions, manifest says {expected}")
    answers = sum(len(qa.answers) for _, _, qa in ds.iter_qas())
    return f"{ds.num_questions} questions, {answers} answers at their offsets"


class SquadLevel:
    """A QA level: every shard's dataset to the files, its statistics merged over the shards."""

    def __init__(self, files: Files, name: str, level: str, out: SquadOut) -> None:
        self.files, self.name, self.out = files, name, out
        self.stats: LevelStats | None = None

    def add(self, result: Any) -> None:  # a LevelResult (pipeline.extractor)
        self.files.add(result.dataset.articles)
        if self.stats is None:
            self.stats = LevelStats(result.stats.name, result.stats.level)
        self.stats.merge(result.stats)

    def close(self) -> dict[str, Any]:
        level = self.stats or LevelStats(self.name, "")
        return {"name": self.name, "level": level.level, "squad_version": self.out.version,
                "files": self.files.close(), "stats": level.finish()}

    def abort(self) -> None:
        self.files.abort()


class RankingTally:
    """Top-k sentence recall of every scorer (and of the fused ranking) over the whole run."""

    def __init__(self) -> None:
        self.ranking = RankingStats(0, {})

    def add(self, units: SquadUnits, scored: Any, orders: Sequence[np.ndarray]) -> None:
        self.ranking.merge(ranking_of(units, scored.per_scorer, orders))

    def finish(self) -> dict[str, Any]:
        return {"ranking": self.ranking.to_dict()}


def ranking_of(units: SquadUnits, per_scorer: Mapping[str, Sequence[np.ndarray]],
               orders: Sequence[np.ndarray]) -> RankingStats:
    """One selection's recall: every scorer's scores and the fused ranking against the units
    that hold an answer start."""
    return RankingStats.measure(answer_units(units), {**per_scorer, "fused": orders})


def _recall(manifest: Mapping[str, Any]) -> list[Table]:
    recall = manifest.get("ranking", {}).get("top_k_recall_pct", {})
    if not recall:
        return []
    return [Table(f"top-k sentence recall % ({manifest['ranking']['answerable']} answerable)",
                  ("scorer", "top1", "top2", "top3"),
                  [(n, f"{r['top1']:.2f}", f"{r['top2']:.2f}", f"{r['top3']:.2f}")
                   for n, r in recall.items()])]


QA_PRODUCT: Product[Any] = Product(
    QA_FORMAT,
    {"squad": FileFormat("squad", ".json", SquadJsonFile, reread_squad),
     "parquet": FileFormat("parquet", ".parquet", SquadParquetFile,
                           reread_squad)},
    SquadLevel,
    Statistics(lambda m: f"ids-extract: {m['input']['path']}", (
        ("questions", lambda s: str(s["questions"])),
        ("retention %", lambda s: f"{s['retention_pct']:.2f}"),
        ("lost", lambda s: str(s["lost_after_policy"])),
        ("dropped", lambda s: str(s["dropped"])),
        ("compression", lambda s: f"{s['compression']['mean']:.3f}"),
        ("p50", lambda s: f"{s['compression']['p50']:.3f}"),
        ("p90", lambda s: f"{s['compression']['p90']:.3f}"),
        ("kept tokens", lambda s: f"{s['kept_tokens']['mean']:.1f}"),
        ("sentences kept/all",
         lambda s: f"{s['kept_sentences_mean']:.2f}/{s['sentences_mean']:.2f}")), _recall),
    RankingTally, ("ranking",))


# ------------------------------------------------------------------------------ classification


class TextFile:
    """A level's texts written in the input's own format (every other column as read), at once
    when the level is whole: the writer of each format writes atomically."""

    def __init__(self, target: Path, dataset: TextDataset) -> None:
        self.target, self.dataset, self.texts = target, dataset, list[str]()

    def add(self, texts: Sequence[str]) -> None:
        self.texts.extend(texts)

    def close(self) -> None:
        write_like(self.dataset, self.texts, self.target)

    def abort(self) -> None:
        self.texts = []


def reread_texts(path: Path, entry: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """A classification level read back with the columns it was written with."""
    columns = Columns(**manifest.get("config", {}).get("columns", {}))
    data = load_texts(path, columns=columns, labels="optional")
    expected = entry.get("stats", {}).get("texts", manifest.get("input", {}).get("texts"))
    if len(data) != expected:
        raise IdsExtractError(f"{path}: {len(data)} texts, manifest says {expected}")
    return f"{len(data)} texts, ids unique"


class TextLevel:
    """A classification level: its texts to the file, its statistics as the level made them
    (a level is selected over the whole input at once, so its percentiles are the input's)."""

    def __init__(self, files: Files, name: str, level: str, dataset: TextDataset) -> None:
        self.files, self.entry = files, {"name": name, "level": level}
        self.stats: dict[str, Any] = {}

    def add(self, result: Any) -> None:  # a TextLevelResult (pipeline.classify)
        self.files.add(result.texts)
        self.entry = {"name": result.name, "level": str(result.level)}
        self.stats = result.stats

    def close(self) -> dict[str, Any]:
        return {**self.entry, "files": self.files.close(), "stats": self.stats}

    def abort(self) -> None:
        self.files.abort()


TEXTS_PRODUCT: Product[Any] = Product(
    TEXTS_FORMAT,
    {f: FileFormat(f, TEXT_SUFFIX[f], TextFile, reread_texts)
     for f in TEXT_FORMATS},
    TextLevel,
    Statistics(lambda m: f"ids-extract: {m['input']['path']} ({m['input']['texts']} texts)", (
        ("unchanged %", lambda s: f"{s['unchanged_pct']:.1f}"),
        ("over budget", lambda s: str(s["over_budget"])),
        ("tokens", lambda s: f"{s['tokens']['mean']:.1f}"),
        ("kept tokens", lambda s: f"{s['kept_tokens']['mean']:.1f}"),
        ("p90 kept", lambda s: f"{s['kept_tokens']['p90']:.0f}"),
        ("compression", lambda s: f"{s['compression']['mean']:.3f}"),
        ("p50", lambda s: f"{s['compression']['p50']:.3f}"),
        ("units kept/all", lambda s: f"{s['kept_units_mean']:.2f}/{s['units_mean']:.2f}"))))
