"""The SQuAD format: reading (with validation that names the place of every problem), streaming,
writing, units for the selection core, and the official EM/F1 evaluation."""

from .model import QA, Answer, Article, Paragraph, SquadDataset
from .read import load
from .write import write_parquet, write_squad

__all__ = ["QA", "Answer", "Article", "Paragraph", "SquadDataset", "load", "write_parquet",
           "write_squad"]
