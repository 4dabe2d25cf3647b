"""The text-classification format (a sibling of :mod:`ids_extract.squad`): reading JSON Lines, JSON,
CSV/TSV, Parquet and ``datasets`` folders with validation that names the place of every problem,
writing back in the same format, units for the selection core, and the metrics."""

from .model import Columns, TextDataset, TextRecord
from .read import load
from .write import write_like

__all__ = ["Columns", "TextDataset", "TextRecord", "load", "write_like"]
