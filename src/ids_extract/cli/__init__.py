"""The ``ids-extract`` command line: one module per group of commands, all on one Typer app."""

from __future__ import annotations

from . import (
    classify,  # noqa: F401  (split-texts, extract-texts, train-classifier, evaluate-classifier)
    compress,  # noqa: F401  (compress: one request at a time, JSON Lines)
    explain,  # noqa: F401  (explain, sanity-check, fit-fusion)
    extract,  # noqa: F401  (registers its commands)
    extractor,  # noqa: F401  (train-extractor)
    reader,  # noqa: F401  (train-reader, evaluate, ladder, answer)
    retriever,  # noqa: F401  (sentences, train-retriever)
    static,  # noqa: F401  (train-static)
)
from .app import app

__all__ = ["app"]
