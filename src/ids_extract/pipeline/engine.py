"""The extraction engine: streams the input in shards, scores them, writes the level ladder.

Three passes, so that memory stays flat in the size of the input and no finished work is lost:

1. **scan**: validate the whole input (streamed); bad input fails here and nothing is written;
2. **score**: per shard of ``shard_size`` paragraphs, segment and score, and save the spans and
   scores to ``.cache/shards-<key>/shard-NNNNN.npz`` (atomically). This is the expensive part; a
   killed run (even ``kill -9``) keeps every finished shard, and a re-run scores only the rest.
   With ``engine="ray"`` this pass runs as a Ray Data job over an actor pool that holds the models;
3. **write**: stream the shards again, select every unfinished level and append it to that level's
   files (moved into place when complete), then write ``manifest.json``.

A shard's result depends only on its own paragraphs, so the local and the Ray engine, and an
interrupted and an uninterrupted run, give the same bytes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .. import defaults
from ..errors import ConfigError, check_limit
from ..files import check_out, fingerprint
from ..models.runtime import speed_flags
from ..progress import Meter, stage, stages, track
from ..select.stats import LevelStats, RankingStats
from ..squad import stream
from ..squad.model import SquadDataset
from ..squad.validate import BadAnswerPolicy
from ..squad.write import output_version
from .extractor import Extractor
from .folder import RunSummary, package_versions, write_folder
from .output import FORMATS, LevelWriter
from .shards import ShardCache, score_segmented, segmented_ahead, silenced, unpack_shard

DEFAULT_SHARD_SIZE = defaults.SHARD_SIZE
ENGINES = ("local", "ray")


def extract_to_dir(
    extractor: Extractor,
    source: str,
    out_dir: str | Path,
    *,
    formats: tuple[str, ...] = ("squad",),
    on_bad_answer: BadAnswerPolicy = "error",
    limit: int | None = None,
    overwrite: bool = False,
    hf_split: str = "validation",
    engine: str = "local",
    shard_size: int = DEFAULT_SHARD_SIZE,
    ray_address: str | None = None,
    ray_actors: int | None = None,
) -> RunSummary:
    """Run the ladder on ``source`` and write it to ``out_dir`` (see the module doc)."""
    out = Path(out_dir)
    _check_options(formats, engine, shard_size, out, limit)
    started = time.perf_counter()
    stages(reset=True)
    with stage("read + validate (scan)"):
        info = stream.scan(str(source), on_bad_answer=on_bad_answer, hf_split=hf_split,
                           limit=limit, visit=lambda article: extractor.check_questions(
                               [(qa.id, qa.question) for p in article.paragraphs for qa in p.qas]))
    digest = fingerprint(str(source))
    manifest = _fresh_manifest(extractor, info, digest, formats, limit, shard_size)
    run = _Run(extractor, str(source), info, digest, out, shard_size, on_bad_answer, hf_split,
               limit)

    def produce(todo: list[str]) -> dict[str, dict[str, Any]]:
        """Score the shards not cached yet, then write the levels of ``todo``."""
        if engine == "ray":
            run.score_with_ray(ray_address, ray_actors)
        else:
            run.score_locally()
        ranking, entries = run.write_levels(todo, formats)
        manifest["ranking"] = ranking.to_dict()
        return entries

    names = [f"D{n}-{lv.name}" for n, lv in enumerate(extractor.levels, 1)]
    summary = write_folder(out, manifest, names, produce, overwrite=overwrite, carry=("ranking",))
    summary.seconds = {**stages(reset=True), "total": time.perf_counter() - started}
    return summary


def _close(writer: LevelWriter) -> dict[str, Any]:
    with stage("write"):
        return writer.close()


def _check_options(formats: tuple[str, ...], engine: str, shard_size: int, out: Path,
                   limit: int | None) -> None:
    """Options a run cannot start with, refused before the input is read."""
    check_out(out)
    check_limit(limit, "questions")
    for fmt in formats:
        if fmt not in FORMATS:
            raise ConfigError(f"format {fmt!r}: choose from {', '.join(FORMATS)}")
    if engine not in ENGINES:
        raise ConfigError(f"engine {engine!r}: choose from {', '.join(ENGINES)}")
    if shard_size < 1:
        raise ConfigError("shard size must be at least 1 paragraph")


def _fresh_manifest(extractor: Extractor, info: stream.InputInfo, fingerprint: str,
                    formats: tuple[str, ...], limit: int | None,
                    shard_size: int) -> dict[str, Any]:
    return {
        "format": "ids-extract/1",
        "input": {"path": info.source, "sha256": fingerprint, "version": info.version,
                  "articles": info.articles, "paragraphs": info.paragraphs,
                  "questions": info.questions, "limit": limit,
                  "answers_repaired_or_skipped": info.repairs},
        "config": {**extractor.config(), "formats": list(formats), "shard_size": shard_size},
        "packages": package_versions(),
        # what the encoders ran on: the speed (and which precision "auto" chose) depends on it
        "cpu_flags": speed_flags(),
        "ranking": {},
        "levels": [],
    }


class _Run:
    """One extraction run over the shards of one input."""

    def __init__(self, extractor: Extractor, source: str, info: stream.InputInfo,
                 fingerprint: str, out: Path, shard_size: int,
                 on_bad_answer: BadAnswerPolicy, hf_split: str, limit: int | None) -> None:
        self.extractor, self.source, self.info, self.out = extractor, source, info, out
        self.shard_size, self.on_bad_answer, self.hf_split, self.limit = (
            shard_size, on_bad_answer, hf_split, limit)
        self.n_shards = math.ceil(info.paragraphs / shard_size)
        self.cache = ShardCache(out, {"scoring": extractor.scoring_config(), "sha": fingerprint,
                                      "limit": limit, "shard_size": shard_size})
        self.pending: dict[int, int] = {}  # shard -> work it adds to the bar once scored

    def shards(self) -> Iterator[SquadDataset]:
        articles = stream.iter_articles(self.source, on_bad_answer=self.on_bad_answer,
                                        hf_split=self.hf_split, limit=self.limit)
        return stream.iter_shards(articles, self.info.version, self.shard_size)

    def _missing(self, bar: Meter) -> Iterator[tuple[int, SquadDataset]]:
        """Shards without a cache file; a cached one counts as done on ``bar`` at once."""
        per_question = len(self.extractor.scorers)
        for k, shard in enumerate(self.shards()):
            if self.cache.has(k):
                bar.advance(shard.num_questions * per_question)
            else:
                self.pending[k] = shard.num_questions * per_question
                yield k, shard

    # ------------------------------------------------------------------ pass 2: scores

    def _meter(self) -> Meter:
        """One bar for the scoring pass that counts questions (advanced in questions ×
        scorers), cached shards included."""
        ex = self.extractor
        return Meter("scoring", self.info.questions, ex.quiet, per=len(ex.scorers))

    def score_locally(self) -> None:
        """Shard by shard, the next one segmented while this one is scored."""
        driver = self.extractor.driver
        with self._meter() as bar, silenced(driver):
            for k, units in segmented_ahead(driver, self._missing(bar)):
                self.cache.save(k, score_segmented(driver, units, bar))

    def score_with_ray(self, address: str | None, actors: int | None) -> None:
        from .ray_engine import score_shards

        with self._meter() as bar:
            for k, packed in score_shards(self.extractor.driver, self._missing(bar), address,
                                          actors):
                self.cache.save(k, packed)
                bar.advance(self.pending.pop(k, 0))

    # ------------------------------------------------------------------ pass 3: levels

    def write_levels(self, todo: Sequence[str],
                     formats: tuple[str, ...]) -> tuple[RankingStats, dict[str, dict[str, Any]]]:
        """Pass 3: select every level of ``todo`` shard by shard from the cached scores and
        stream it to its files; on any failure the unfinished files are dropped."""
        ex = self.extractor
        v2 = self.info.is_v2 or ex.lost == "unanswerable"
        version = output_version(self.info.version, v2)
        writers = {n: LevelWriter(self.out, n, formats, version, v2) for n in todo}
        ranking = RankingStats(0, {})
        stats: dict[str, LevelStats] = {}
        try:
            for k, shard in track(enumerate(self.shards()), "writing levels", self.n_shards,
                                  ex.quiet):
                units, scored = unpack_shard(ex.driver, shard, self.cache.path(k))
                with silenced(ex.driver):
                    result = ex.select_all(shard, units, scored, only=todo)
                ranking.merge(result.ranking)
                for lr in result.levels:
                    with stage("write"):
                        writers[lr.stats.name].add(lr.dataset.articles)
                    stats.setdefault(lr.stats.name, LevelStats(lr.stats.name, lr.stats.level))
                    stats[lr.stats.name].merge(lr.stats)
            entries = {}
            for n in todo:
                level = stats.get(n) or LevelStats(n, "")
                entries[n] = {"name": n, "level": level.level, "squad_version": version,
                              "files": _close(writers[n]), "stats": level.finish()}
        except BaseException:
            for w in writers.values():
                w.abort()
            raise
        return ranking, entries
