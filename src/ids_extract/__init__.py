"""ids-extract: shrink long inputs to the sentences that matter, so small models can learn and
answer from them.

    >>> from ids_extract import Extractor, load
    >>> result = Extractor(levels="tokens:128").run(load("dev-v1.1.json"))  # doctest: +SKIP

The package is a house of floors, each importing only from those below it (import-linter checks
it): ``files``/``errors``/``progress``; ``tabular`` (reading inputs); the task-agnostic core
``select``; the data formats (``squad``, ``textcls``); model families (``models``); ``scorers``;
the ``pipeline``; ``analysis`` and ``apps``; and the ``cli``.
"""

from __future__ import annotations

from importlib import metadata

from .apps.compress import Compression, compress
from .errors import ConfigError, DataError, IdsExtractError
from .pipeline.engine import extract_to_dir
from .pipeline.extractor import ExtractionResult, Extractor, LevelResult
from .pipeline.trained import TrainedExtractor
from .pipeline.validate import validate_dir
from .scorers import Scorer, ScoringBatch, build_scorer
from .select.levels import Level, parse_level, parse_levels
from .select.segment import split_sentences
from .squad import QA, Answer, Article, Paragraph, SquadDataset, load, write_parquet, write_squad

try:
    __version__ = metadata.version("ids-extract")
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "QA", "Answer", "Article", "Compression", "ConfigError", "DataError", "ExtractionResult", "Extractor",
    "IdsExtractError", "Level", "LevelResult", "Paragraph", "Scorer", "ScoringBatch",
    "SquadDataset", "TrainedExtractor", "build_scorer", "compress", "extract_to_dir", "load",
    "parse_level", "parse_levels",
    "split_sentences", "validate_dir", "write_parquet", "write_squad",
]
