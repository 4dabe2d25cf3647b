"""The one output-folder engine of the level ladder: any task's driver (:mod:`.driver`) run over
an input into a folder, the files and statistics being its product's (:mod:`.product`).

Two passes over the input's shards, so that no finished work is lost and, streamed, memory stays
flat in the size of the input:

1. **score**: per shard, segment and score, and save the spans and scores to
   ``.cache/shards-<key>/shard-NNNNN.npz`` atomically (:mod:`.shards`); ``<key>`` hashes what
   produced them (the caller's ``cache`` record: scoring config, input sha256, limit, shard
   size, …). This is the expensive part; a killed run (even ``kill -9``) keeps every finished
   shard, and a re-run scores only the rest. ``engine="ray"`` runs it as a Ray Data job over an
   actor pool that holds the models; ``ahead`` segments the next shard in a worker process while
   this one is scored;
2. **write**: every unfinished level selected from the cached scores and fed to its product's
   level sink, shard by shard (a streamed source) or once over the whole input (a source with a
   ``whole``: a task whose level statistics are over every item at once); on any failure every
   unfinished file is dropped.

The folder around it (lock, resume, manifest last and atomically, another input or config
refused unless ``overwrite``) is :func:`.folder.write_folder`'s. A shard's scores depend only on
its own items, so the local and the Ray engine, and an interrupted and an uninterrupted run,
give the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from ..errors import ConfigError, check_limit
from ..files import check_out
from ..progress import Meter, stage, stages, track
from .driver import Driver
from .folder import RunSummary, package_versions, write_folder
from .product import Files, LevelSink, Producing, Product
from .scoring import Scored
from .shards import ShardCache, score_segmented, segmented_ahead, silenced, unpack_shard

ENGINES = ("local", "ray")
D = TypeVar("D")
D_co = TypeVar("D_co", covariant=True)
AnyDriver = Driver[Any, Any, Any, Any]


class Source(Protocol[D_co]):
    """The input of a run, already read or scanned: its shards in order (each a piece of the
    task's data), how many items (questions, texts) it holds in all and per shard (the scoring
    bar counts them), and, for a task selected over the whole input at once, the whole."""

    @property
    def items(self) -> int: ...

    @property
    def n_shards(self) -> int: ...

    @property
    def whole(self) -> D_co | None: ...

    def shards(self) -> Iterator[D_co]: ...

    def count(self, shard: Any) -> int: ...


@dataclass
class Held(Generic[D]):
    """Data held in memory as one shard, selected whole: the source of a small task."""

    data: D
    items: int

    @property
    def n_shards(self) -> int:
        return 1

    @property
    def whole(self) -> D:
        return self.data

    def shards(self) -> Iterator[D]:
        yield self.data

    def count(self, shard: Any) -> int:
        return self.items


def check_run(out: Path, limit: int | None, shard_size: int, items: str, *,
              product: Product[Any] | None = None, formats: Sequence[str] = (),
              engine: str = "local") -> None:
    """Options a run cannot start with, refused before the input is read (``items``: what the
    input counts, plural: ``questions``, ``texts``)."""
    check_out(out)
    check_limit(limit, items)
    for fmt in formats:
        if product is not None and fmt not in product.files:
            raise ConfigError(f"format {fmt!r}: choose from {', '.join(product.files)}")
    if engine not in ENGINES:
        raise ConfigError(f"engine {engine!r}: choose from {', '.join(ENGINES)}")
    if shard_size < 1:
        raise ConfigError(f"shard size must be at least 1 {_one(items)}")


def _one(items: str) -> str:
    return {"questions": "paragraph"}.get(items, items.removesuffix("s"))


@dataclass
class Options:
    """How a run goes, beside its input and config: the level files' ``formats`` and the
    ``context`` their writers get (the product's: SQuAD version, the input dataset, …);
    ``overwrite`` another run's folder; the scoring ``engine`` (with ``ray_address``,
    ``ray_actors``); ``ahead``: segment the next shard in a worker process."""

    formats: Sequence[str]
    context: Any = None
    overwrite: bool = False
    engine: str = "local"
    ahead: bool = False
    ray_address: str | None = None
    ray_actors: int | None = None


def run_to_dir(driver: AnyDriver, source: Source[Any], out: str | Path,
               input: Mapping[str, Any], config: Mapping[str, Any], options: Options, *,
               cache: Mapping[str, Any] | None = None,
               extra: Mapping[str, Any] | None = None,
               started: float | None = None) -> RunSummary:
    """Run ``driver`` over ``source`` into ``out`` (see the module doc). The manifest is the
    product's ``format``, ``input`` (with its ``sha256`` and ``limit``: what a resumed run must
    match), ``config``, the packages, ``extra`` parts, then the levels. ``cache``: what the
    scores depend on, beside the scoring config (its hash names the score cache). ``started``:
    when the run began (its stage times reset then), for a caller that read the input first."""
    out = Path(out)
    product = product_of_task(driver)
    if started is None:
        started = time.perf_counter()
        stages(reset=True)
    manifest = {"format": product.format, "input": dict(input), "config": dict(config),
                "packages": package_versions(), **(extra or {}), "levels": []}
    shards = ShardCache(out, dict(cache) if cache is not None else {
        "scoring": driver.selector.config(), "sha": input["sha256"], "limit": input["limit"]})

    def produce(todo: list[str]) -> dict[str, dict[str, Any]]:
        """Score the shards not cached yet, then write the levels of ``todo``."""
        _score(driver, source, shards, options)
        entries, tallied = _write(driver, source, shards, out, todo, options)
        manifest.update(tallied)
        return entries

    summary = write_folder(out, manifest, driver.level_names, produce,
                           overwrite=options.overwrite, carry=product.carry)
    summary.seconds = {**stages(reset=True), "total": time.perf_counter() - started}
    return summary


def product_of_task(driver: AnyDriver) -> Product[Any]:
    """The product of the driver's task, or a :class:`ConfigError`: a task without one cannot
    write a folder."""
    if not isinstance(driver.task, Producing):
        raise ConfigError(f"task {type(driver.task).__name__} has no product: it cannot write "
                          "an output folder")
    return driver.task.product


# ---------------------------------------------------------------------- pass 1: scores


def _score(driver: AnyDriver, source: Source[Any], cache: ShardCache, options: Options) -> None:
    """Score every shard without a cache file: locally (the next shard segmented ahead, when
    asked) or with Ray. One bar counts items (advanced in items × scorers), cached ones too."""
    pending: dict[int, int] = {}  # shard -> work it adds to the bar once scored (Ray)
    per = len(driver.selector.scorers)
    with Meter("scoring", source.items, driver.quiet, per=per) as bar:

        def missing() -> Iterator[tuple[int, Any]]:
            """Shards without a cache file; a cached one counts as done on the bar at once."""
            for k, shard in enumerate(source.shards()):
                if cache.has(k):
                    bar.advance(source.count(shard) * per)
                else:
                    pending[k] = source.count(shard) * per
                    yield k, shard

        if options.engine == "ray":
            from .ray_engine import score_shards

            for k, packed in score_shards(driver, missing(), options.ray_address,
                                          options.ray_actors):
                cache.save(k, packed)
                bar.advance(pending.pop(k, 0))
            return
        with silenced(driver):
            if options.ahead:
                for k, units in segmented_ahead(driver, missing()):
                    cache.save(k, score_segmented(driver, units, bar))
                return
            for k, shard in missing():
                with stage("segment"):
                    units = driver.units(shard)
                cache.save(k, score_segmented(driver, units, bar))


# ---------------------------------------------------------------------- pass 2: levels


def _parts(driver: AnyDriver, source: Source[Any],
           cache: ShardCache) -> Iterator[tuple[Any, Any, Scored]]:
    """What each selection runs on: ``(data, units, scores)`` per shard, from the cache (the
    spans as saved, so no segmenter runs); or once, the whole input's."""
    whole = source.whole
    if whole is None:
        for k, shard in track(enumerate(source.shards()), "writing levels", source.n_shards,
                              driver.quiet):
            units, scored = unpack_shard(driver, shard, cache.path(k))
            yield shard, units, scored
        return
    spans, parts = [], []
    for k in range(source.n_shards):
        shard_spans, scored = cache.read(k)
        spans += shard_spans
        parts.append(scored)
    with silenced(driver):
        units = driver.units(whole, spans)
    yield whole, units, Scored({n: [a for p in parts for a in p.per_scorer[n]]
                                for n in parts[0].per_scorer},
                               [a for p in parts for a in p.fused])


def _write(driver: AnyDriver, source: Source[Any], cache: ShardCache, out: Path,
           todo: Sequence[str], options: Options
           ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Select every level of ``todo`` and feed it to its sink; the levels' manifest entries and
    what the product tallied. On any failure every unfinished file is dropped."""
    product = product_of_task(driver)
    formats = [product.file_format(f) for f in options.formats]
    levels = dict(zip(driver.level_names, driver.levels, strict=True))
    sinks: dict[str, LevelSink[Any]] = {
        n: product.level(Files(out, n, formats, options.context), n, str(levels[n]),
                         options.context) for n in todo}
    tally = product.tally() if product.tally is not None else None
    try:
        for data, units, scored in _parts(driver, source, cache):
            with silenced(driver):
                selection = driver.select(data, units, scored, only=todo)
                if tally is not None:
                    with stage("rank"):
                        tally.add(units, scored, selection.orders)
            for n, output in zip([n for n in driver.level_names if n in todo],
                                 selection.outputs, strict=True):
                with stage("write"):
                    sinks[n].add(output)
        entries = {}
        for n in todo:
            with stage("write"):
                entries[n] = sinks[n].close()
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    return entries, tally.finish() if tally is not None else {}
