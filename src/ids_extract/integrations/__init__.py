"""Adapters for RAG frameworks, each an optional extra: ``ids_extract.integrations.langchain``
(``pip install 'ids-extract[langchain]'``) and ``ids_extract.integrations.llama_index``
(``pip install 'ids-extract[llama-index]'``). Both hand the retrieved texts to
:func:`ids_extract.compress` as passages, so one token budget holds for all of them together."""

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import defaults
from ..apps.compress import (
    KeptPassage,
    check_keywords,
    compress_passages,
    scorer_names,
)
from ..errors import ConfigError
from ..models.tokenizer import Tokenizers
from ..pipeline.trained import TrainedExtractor, extractor_key
from ..select.levels import parse_budget
from ..select.segment import check_segmenter

#: metadata keys both adapters add to what they return (kept out of what an LLM or an embedding
#: reads in LlamaIndex)
SCORE, SPANS = "ids_extract_score", "ids_extract_spans"


class CompressSettings(BaseModel):
    """What both adapters pass to :func:`ids_extract.apps.compress.compress_passages`: the
    budget, the scorers, the segmenter and per-scorer options (pydantic fields, as the
    frameworks' own components are pydantic models). With none of scorers, fast, segmenter or
    scorer options given, the extractor that ships with the package (``squad-en``, profile
    ``fast``), as :func:`~ids_extract.compress` does. A bad budget, tokenizer or segmenter is a
    :class:`~ids_extract.errors.ConfigError` when the adapter is made, not at its first query."""

    model_config = ConfigDict(arbitrary_types_allowed=True)  # extractor: a TrainedExtractor

    budget: str = defaults.BUDGET
    scorers: tuple[str, ...] = defaults.SCORERS
    #: bm25 and static embeddings instead of the scorers
    fast: bool = False
    segmenter: str = defaults.SEGMENTER
    scorer_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: a trained extractor instead of ``scorers`` (a ``train-extractor`` folder, a shipped one's
    #: name or a loaded :class:`~ids_extract.TrainedExtractor`: its scorers, fusion, cascade and
    #: segmenter), and one of its profiles (``fast``, ``best``)
    extractor: str | TrainedExtractor | None = None
    profile: str | None = None

    @model_validator(mode="after")
    def _checked(self) -> "CompressSettings":
        from ..pipeline.pretrained import (
            DEFAULT_PROFILE,
            check_beside_extractor,
            default_extractor,
        )

        Tokenizers.load([parse_budget(self.budget)])  # as compress() reads it, now
        check_segmenter(self.segmenter)
        check_keywords(self.scorer_options)
        fields = self.model_fields_set  # a field left at its default is not given
        decided: dict[str, Any] = {
            "scorers": self.scorers if "scorers" in fields else None, "fast": self.fast,
            "scorer_options": self.scorer_options,
            "segmenter": self.segmenter if "segmenter" in fields else None}
        if self.extractor is None and (found := default_extractor(**decided)) is not None:
            self.extractor, self.profile = found, self.profile or DEFAULT_PROFILE
        if self.extractor is not None:  # read now, once: compress() reuses the cached selector
            from ..apps.compress import pretrained_selector
            from ..select.cascade import DEFAULT_K

            check_beside_extractor(self.extractor, **decided)
            pretrained_selector(extractor_key(self.extractor), self.profile, None, DEFAULT_K)
        elif self.profile is not None:
            raise ConfigError("`profile` is one of a trained extractor's: give `extractor` too")
        else:
            scorer_names(self._scorers(), self.fast, self.scorer_options)
        return self

    def _scorers(self) -> tuple[str, ...] | None:
        """The scorers as given (None: left at the default, which ``fast`` replaces)."""
        return self.scorers if "scorers" in self.model_fields_set else (
            None if self.fast else self.scorers)

    def kept(self, query: str, texts: Sequence[str]) -> list[KeptPassage]:
        """The texts cut to what matters for ``query``, within the budget (one per text that
        kept anything, in their order)."""
        if self.extractor is not None:
            return compress_passages(query, list(texts), self.budget, extractor=self.extractor,
                                     profile=self.profile)
        return compress_passages(query, list(texts), self.budget, scorers=self._scorers(),
                                 fast=self.fast, segmenter=self.segmenter, **self.scorer_options)

    @staticmethod
    def metadata(kept: KeptPassage) -> dict[str, Any]:
        """What both adapters add to a returned document's metadata: the best fused score of
        its kept sentences and their spans in the input text."""
        return {SCORE: kept.score, SPANS: [list(s) for s in kept.spans]}
