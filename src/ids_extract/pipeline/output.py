"""A QA level's files: one SQuAD dataset per level (JSON, Parquet or both), streamed shard by shard.

Every file is written atomically (a temporary file moved into place on success), so an interrupted
run leaves only whole files behind. The pipeline that feeds the writer is :mod:`.engine`; the
folder around the files (manifest, lock, resume) is :mod:`.folder`'s, and the checks read back from
a folder are :mod:`.validate`'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files import commit_temp, sha256_file, temp_beside
from ..squad.model import Article, SquadDataset
from ..squad.write import article_dict, rows_schema, to_rows

FORMATS = ("squad", "parquet")
SUFFIX = {"squad": ".json", "parquet": ".parquet"}


class LevelWriter:
    """Streams one level's dataset to its files shard by shard, in every requested format.

    Articles cut by a shard boundary are joined again; the SQuAD JSON bytes equal those of
    ``json.dumps(to_squad_dict(...))`` of the whole dataset. Files appear only on ``close``."""

    def __init__(self, out: Path, name: str, formats: tuple[str, ...], version: str,
                 v2: bool) -> None:
        self.out, self.name, self.formats, self.version, self.v2 = out, name, formats, version, v2
        self.targets = {fmt: out / f"{name}{SUFFIX[fmt]}" for fmt in formats}
        self.temps = {fmt: temp_beside(t) for fmt, t in self.targets.items()}
        self._pending: Article | None = None
        self._first = True
        self._json: Any = None
        self._parquet: Any = None
        if "squad" in self.temps:
            self._json = self.temps["squad"].open("w", encoding="utf-8")
            self._json.write('{"data": [')
        if "parquet" in self.temps:
            import pyarrow.parquet as pq

            self._parquet = pq.ParquetWriter(self.temps["parquet"], rows_schema())

    def add(self, articles: list[Article]) -> None:
        """Append one shard's articles; an article continued from the last shard is joined to
        it, so the file is the same whatever the shard size."""
        if self._parquet is not None and articles:
            import pyarrow as pa

            rows = to_rows(SquadDataset(self.version, articles))
            self._parquet.write_table(pa.Table.from_pylist(rows, schema=rows_schema()))
        if self._json is None:
            return
        for article in articles:
            if self._pending is not None and self._pending.title == article.title:
                self._pending.paragraphs.extend(article.paragraphs)
                continue
            self._flush()
            self._pending = Article(article.title, list(article.paragraphs))

    def _flush(self) -> None:
        if self._pending is None:
            return
        text = json.dumps(article_dict(self._pending, self.v2), ensure_ascii=False)
        self._json.write(text if self._first else ", " + text)
        self._first = False
        self._pending = None

    def close(self) -> dict[str, Any]:
        """Finish the files and move them into place; returns their manifest entry."""
        if self._json is not None:
            self._flush()
            self._json.write(f'], "version": {json.dumps(self.version)}}}\n')
        self._close_handles()
        for fmt, tmp in self.temps.items():
            commit_temp(tmp, self.targets[fmt])
        return {fmt: {"path": t.name, "sha256": sha256_file(t)} for fmt, t in self.targets.items()}

    def abort(self) -> None:
        """Drop the unfinished files."""
        self._close_handles()
        for tmp in self.temps.values():
            tmp.unlink(missing_ok=True)

    def _close_handles(self) -> None:
        if self._json is not None:
            self._json.close()
        if self._parquet is not None:
            self._parquet.close()
