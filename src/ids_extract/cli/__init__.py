"""The ``ids-extract`` command line: one module per group of commands, all on one Typer app."""

from __future__ import annotations

from . import (
    classify,  # noqa: F401  (split-texts, extract-texts, evaluate-classifier)
    compress,  # noqa: F401  (compress: one request at a time, JSON Lines)
    explain,  # noqa: F401  (explain, sanity-check, fit-fusion)
    extract,  # noqa: F401  (extract, stats, validate, scorers, sentences)
    reader,  # noqa: F401  (evaluate, ladder, answer)
    train,  # noqa: F401  (train-reader, -classifier, -retriever, -static, -extractor)
)
from .app import app

__all__ = ["app"]
