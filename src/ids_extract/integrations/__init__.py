"""Adapters for RAG frameworks, each an optional extra: ``ids_extract.integrations.langchain``
(``pip install 'ids-extract[langchain]'``) and ``ids_extract.integrations.llama_index``
(``pip install 'ids-extract[llama-index]'``). Both hand the retrieved texts to
:func:`ids_extract.compress` as passages, so one token budget holds for all of them together."""

from typing import Any

from pydantic import BaseModel, Field


class CompressSettings(BaseModel):
    """What both adapters pass to :func:`ids_extract.apps.compress.compress_passages`: the
    budget, the scorers, the segmenter and per-scorer options (pydantic fields, as the
    frameworks' own components are pydantic models)."""

    budget: str = "tokens:256"
    scorers: tuple[str, ...] = ("bm25", "sbert")
    segmenter: str = "pysbd"
    scorer_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
