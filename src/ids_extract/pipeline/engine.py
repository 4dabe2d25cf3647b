"""QA extraction into a folder: a SQuAD input streamed in shards through the one output-folder
engine (:func:`.run.run_to_dir`), the level ladder written as SQuAD files (:data:`.output.QA_PRODUCT`).

What is QA's here, before the engine runs: the input is **scanned** first (streamed, so memory
stays flat), every question checked against the token levels, so that bad input fails before
anything is written; the shards are the input's paragraphs, ``shard_size`` at a time, read again
from the file for each pass; the next shard is segmented in a worker process while this one is
scored, or the scores come from a Ray job (``engine="ray"``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import defaults
from ..files import fingerprint
from ..models.runtime import speed_flags
from ..progress import stage, stages
from ..squad import stream
from ..squad.model import SquadDataset
from ..squad.validate import BadAnswerPolicy
from ..squad.write import output_version
from .extractor import Extractor
from .folder import RunSummary
from .output import QA_PRODUCT, SquadOut
from .run import ENGINES, Options, check_run, run_to_dir

DEFAULT_SHARD_SIZE = defaults.SHARD_SIZE
__all__ = ["DEFAULT_SHARD_SIZE", "ENGINES", "SquadSource", "extract_to_dir"]


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
    check_run(out, limit, shard_size, "questions", product=QA_PRODUCT, formats=formats, engine=engine)
    started = time.perf_counter()
    stages(reset=True)
    with stage("read + validate (scan)"):
        info = stream.scan(str(source), on_bad_answer=on_bad_answer, hf_split=hf_split,
                           limit=limit, visit=lambda article: extractor.check_questions(
                               [(qa.id, qa.question) for p in article.paragraphs for qa in p.qas]))
    digest = fingerprint(str(source))
    squad = SquadSource(str(source), info, shard_size, on_bad_answer, hf_split, limit)
    v2 = info.is_v2 or extractor.lost == "unanswerable"
    return run_to_dir(
        extractor.driver, squad, out,
        {"path": info.source, "sha256": digest, "version": info.version,
         "articles": info.articles, "paragraphs": info.paragraphs, "questions": info.questions,
         "limit": limit, "answers_repaired_or_skipped": info.repairs},
        {**extractor.config(), "formats": list(formats), "shard_size": shard_size},
        Options(formats, SquadOut(output_version(info.version, v2), v2), overwrite, engine,
                ahead=True, ray_address=ray_address, ray_actors=ray_actors),
        cache={"scoring": extractor.scoring_config(), "sha": digest, "limit": limit,
               "shard_size": shard_size},
        # what the encoders ran on: the speed (and which precision "auto" chose) depends on it
        extra={"cpu_flags": speed_flags(), "ranking": {}}, started=started)


@dataclass
class SquadSource:
    """A scanned SQuAD input as the engine's source: its paragraphs ``shard_size`` at a time,
    streamed from the file again for each pass (articles cut by a shard boundary are joined
    again by the level writers)."""

    path: str
    info: stream.InputInfo
    shard_size: int
    on_bad_answer: BadAnswerPolicy
    hf_split: str
    limit: int | None
    whole: None = None

    @property
    def items(self) -> int:
        return self.info.questions

    @property
    def n_shards(self) -> int:
        return math.ceil(self.info.paragraphs / self.shard_size)

    def shards(self) -> Iterator[SquadDataset]:
        articles = stream.iter_articles(self.path, on_bad_answer=self.on_bad_answer,
                                        hf_split=self.hf_split, limit=self.limit)
        return stream.iter_shards(articles, self.info.version, self.shard_size)

    def count(self, shard: SquadDataset) -> int:
        return shard.num_questions
