"""LangChain: :class:`IdsCompressor`, a ``BaseDocumentCompressor`` that keeps, across all the
retrieved documents together, the sentences that matter for the query within one token budget.

    from langchain_classic.retrievers import ContextualCompressionRetriever
    from ids_extract.integrations.langchain import IdsCompressor

    retriever = ContextualCompressionRetriever(
        base_compressor=IdsCompressor(budget="tokens:512"), base_retriever=base)

Each returned document is an input document cut down to its kept sentences (its metadata kept,
``ids_extract_score`` added: the best fused score of its kept sentences), in the input order;
documents with nothing kept are left out. With a BERT-style budget tokenizer the returned texts
joined by blank lines, after the query and the special tokens, fit the budget exactly as
:func:`ids_extract.compress` counts it.
"""

from __future__ import annotations

from collections.abc import Sequence

try:
    from langchain_core.callbacks import Callbacks
    from langchain_core.documents import BaseDocumentCompressor, Document
except ImportError as err:  # pragma: no cover - depends on the installed extras
    raise ImportError("ids_extract.integrations.langchain needs langchain-core: "
                      "pip install 'ids-extract[langchain]'") from err

from ..apps.compress import compress_passages
from . import CompressSettings


class IdsCompressor(CompressSettings, BaseDocumentCompressor):
    """Sentence-level compression of retrieved documents within one token budget (the fields
    are :class:`~ids_extract.integrations.CompressSettings`')."""

    def compress_documents(self, documents: Sequence[Document], query: str,
                           callbacks: Callbacks | None = None) -> Sequence[Document]:
        """The documents cut to the sentences that matter for ``query`` (see the module doc)."""
        kept = compress_passages(query, [d.page_content for d in documents], self.budget,
                                 scorers=self.scorers, segmenter=self.segmenter,
                                 **self.scorer_options)
        return [Document(page_content=k.text, metadata={**documents[k.passage].metadata,
                                                        "ids_extract_score": k.score})
                for k in kept]
