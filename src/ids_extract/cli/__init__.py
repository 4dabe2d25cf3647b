"""The ``ids-extract`` command line: one module per group of commands, all on one Typer app."""

from __future__ import annotations

from . import (
    explain,  # noqa: F401  (explain, sanity-check, fit-fusion)
    extract,  # noqa: F401  (registers its commands)
    extractor,  # noqa: F401  (train-extractor)
    reader,  # noqa: F401  (train-reader, evaluate, ladder, answer)
    retriever,  # noqa: F401  (sentences, train-retriever)
)
from .app import app

__all__ = ["app"]
