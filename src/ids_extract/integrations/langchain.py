"""LangChain: :class:`IdsCompressor`, a ``BaseDocumentCompressor`` that keeps, across all the
retrieved documents together, the sentences that matter for the query within one token budget.

    from langchain_classic.retrievers import ContextualCompressionRetriever
    from ids_extract.integrations.langchain import IdsCompressor

    retriever = ContextualCompressionRetriever(
        base_compressor=IdsCompressor(budget="tokens:512"), base_retriever=base)

Each returned document is an input document cut down to its kept sentences, in the input order
(its ``id`` and metadata kept; added: ``ids_extract_score``, the best fused score of its kept
sentences, and ``ids_extract_spans``, their ``[start, end)`` in the input text); documents with
nothing kept are left out. ``ContextualCompressionRetriever`` lives in ``langchain-classic``,
which the ``[langchain]`` extra brings. With a BERT-style budget tokenizer the returned texts
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

from . import CompressSettings


class IdsCompressor(CompressSettings, BaseDocumentCompressor):
    """Sentence-level compression of retrieved documents within one token budget (the fields
    are :class:`~ids_extract.integrations.CompressSettings`')."""

    def compress_documents(self, documents: Sequence[Document], query: str,
                           callbacks: Callbacks | None = None) -> Sequence[Document]:
        """The documents cut to the sentences that matter for ``query`` (see the module doc)."""
        kept = self.kept(query, [d.page_content for d in documents])
        return [Document(page_content=k.text, id=documents[k.passage].id,
                         metadata={**documents[k.passage].metadata, **self.metadata(k)})
                for k in kept]
