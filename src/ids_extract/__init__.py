"""ids-extract: shrink question-answering datasets to the sentences that matter.

    >>> from ids_extract import Extractor, load
    >>> result = Extractor(levels="tokens:128").run(load("dev-v1.1.json"))  # doctest: +SKIP
"""

from __future__ import annotations

from .data import QA, Answer, Article, Paragraph, SquadDataset, load, write_parquet, write_squad
from .engine import extract_to_dir
from .errors import ConfigError, DataError, IdsExtractError
from .extractor import ExtractionResult, Extractor, LevelResult
from .levels import Level, parse_level, parse_levels
from .scorers import Scorer, ScoringBatch, build_scorer
from .segment import split_sentences
from .writer import validate_dir

__version__ = "0.1.0"

__all__ = [
    "QA", "Answer", "Article", "ConfigError", "DataError", "ExtractionResult", "Extractor",
    "IdsExtractError", "Level", "LevelResult", "Paragraph", "Scorer", "ScoringBatch",
    "SquadDataset", "build_scorer", "extract_to_dir", "load", "parse_level", "parse_levels",
    "split_sentences", "validate_dir", "write_parquet", "write_squad",
]
