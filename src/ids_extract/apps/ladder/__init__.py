"""The size-matched ladder (METHOD.md §5): model sizes × lengths × methods, trained at the same
step budget on the data that fits each, and scored against the original dev answers."""

from .config import Cell, LadderConfig, load_config
from .run import extract_levels, run_ladder

__all__ = ["Cell", "LadderConfig", "extract_levels", "load_config", "run_ladder"]
