"""The RAG adapters with the real packages (langchain-core, llama-index-core), no network: the
retrieved texts compressed together, exactly within one token budget over the joined documents,
metadata kept, documents with nothing kept left out."""

from __future__ import annotations

import pytest

from ids_extract import compress
from ids_extract.models.hub import load_tokenizer

from .conftest import CONTEXT, CONTEXT2

QUESTION = "What river flows through Paris?"
THIRD = "Bread is baked in ovens. Flour comes from wheat."
TEXTS = [CONTEXT, CONTEXT2, THIRD]


def joined_tokens(texts: list[str]) -> int:
    """What the budget counts for the documents handed to a model joined by blank lines."""
    return len(load_tokenizer(None)(QUESTION, "\n\n".join(texts))["input_ids"])


@pytest.mark.parametrize("limit", [24, 40, 70, 200])
def test_langchain_compressor_keeps_the_budget_over_the_joined_documents(limit: int) -> None:
    from langchain_core.documents import BaseDocumentCompressor, Document

    from ids_extract.integrations.langchain import IdsCompressor

    docs = [Document(page_content=t, metadata={"source": f"doc{i}"}) for i, t in enumerate(TEXTS)]
    compressor = IdsCompressor(budget=f"tokens:{limit}", scorers=("bm25",))
    assert isinstance(compressor, BaseDocumentCompressor)
    out = compressor.compress_documents(docs, QUESTION)
    reference = compress(QUESTION, TEXTS, f"tokens:{limit}", scorers=["bm25"])
    assert joined_tokens([d.page_content for d in out]) == reference.tokens <= limit
    assert [d.metadata["source"] for d in out] == sorted({f"doc{k.passage}"
                                                          for k in reference.kept})
    assert any("Seine" in d.page_content for d in out)
    for d in out:  # each document is its own kept sentences (these end in a space: no gaps)
        mine = int(d.metadata["source"][3:])
        assert d.page_content == "".join(k.text for k in reference.kept
                                         if k.passage == mine).strip()
    if limit >= 200:  # room for everything: every document comes back whole
        assert [d.page_content for d in out] == [t.strip() for t in TEXTS]


def test_langchain_compressor_runs_in_a_pipeline() -> None:
    from langchain_core.documents import Document
    from langchain_core.runnables import RunnableLambda

    from ids_extract.integrations.langchain import IdsCompressor

    compressor = IdsCompressor(budget="tokens:30", scorers=("bm25",))
    chain = RunnableLambda(lambda q: [Document(page_content=t) for t in TEXTS]) | RunnableLambda(
        lambda docs: compressor.compress_documents(docs, QUESTION))
    out = chain.invoke(QUESTION)
    assert joined_tokens([d.page_content for d in out]) <= 30 and "Seine" in out[0].page_content
    assert compressor.compress_documents([], QUESTION) == []


@pytest.mark.parametrize("limit", [24, 40, 70])
def test_llama_index_postprocessor_keeps_the_budget_over_the_joined_nodes(limit: int) -> None:
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from llama_index.core.schema import NodeWithScore, TextNode

    from ids_extract.integrations.llama_index import IdsPostprocessor

    nodes = [NodeWithScore(node=TextNode(text=t, id_=f"n{i}", metadata={"page": i}),
                           score=1.0 - i / 10) for i, t in enumerate(TEXTS)]
    post = IdsPostprocessor(budget=f"tokens:{limit}", scorers=("bm25",))
    assert isinstance(post, BaseNodePostprocessor)
    out = post.postprocess_nodes(nodes, query_str=QUESTION)
    reference = compress(QUESTION, TEXTS, f"tokens:{limit}", scorers=["bm25"])
    assert joined_tokens([n.node.get_content() for n in out]) == reference.tokens <= limit
    assert [n.node.metadata["page"] for n in out] == sorted({k.passage for k in reference.kept})
    assert [n.score for n in out] == [1.0 - n.node.metadata["page"] / 10 for n in out]
    assert nodes[0].node.get_content() == CONTEXT  # the input nodes are left as they were
    assert any("Seine" in n.node.get_content() for n in out)


def test_both_adapters_keep_ids_add_score_and_spans_and_refuse_bad_settings() -> None:
    from langchain_core.documents import Document
    from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode

    from ids_extract.errors import ConfigError
    from ids_extract.integrations.langchain import IdsCompressor
    from ids_extract.integrations.llama_index import IdsPostprocessor

    docs = [Document(page_content=t, id=f"d{i}") for i, t in enumerate(TEXTS)]
    nodes = [NodeWithScore(node=TextNode(text=t, id_=f"n{i}", start_char_idx=100 * i,
                                         end_char_idx=100 * i + len(t)), score=0.5)
             for i, t in enumerate(TEXTS)]
    for limit in (24, 200):
        lc = IdsCompressor(budget=f"tokens:{limit}", scorers=("bm25",)).compress_documents(
            docs, QUESTION)
        li = IdsPostprocessor(budget=f"tokens:{limit}", scorers=("bm25",)).postprocess_nodes(
            nodes, query_str=QUESTION)
        assert [d.page_content for d in lc] == [n.node.get_content() for n in li]
        for d, n in zip(lc, li, strict=True):
            i = int(d.id[1:])
            assert n.node.node_id == f"n{i}"
            assert d.metadata["ids_extract_score"] == n.node.metadata["ids_extract_score"]
            spans = d.metadata["ids_extract_spans"]
            assert spans == n.node.metadata["ids_extract_spans"]
            assert d.page_content == " ".join(TEXTS[i][s:e].strip() for s, e in spans)
            assert "ids_extract" not in n.node.get_content(metadata_mode=MetadataMode.LLM)
            if n.node.start_char_idx is not None:  # one piece of the text: moved onto it
                start = n.node.start_char_idx - 100 * i
                assert TEXTS[i][start:n.node.end_char_idx - 100 * i] == n.node.get_content()
            else:  # sentences between kept ones were left out
                assert n.node.end_char_idx is None and TEXTS[i].find(n.node.get_content()) < 0
    for bad in ("tokens:0", "tokens:64@no-such-tokenizer", "words:5"):
        with pytest.raises(ConfigError):
            IdsCompressor(budget=bad)
        with pytest.raises(ConfigError):
            IdsPostprocessor(budget=bad)


def test_contextual_compression_retriever_from_the_langchain_extra() -> None:
    from langchain_classic.retrievers import ContextualCompressionRetriever
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    from ids_extract.integrations.langchain import IdsCompressor

    class Fixed(BaseRetriever):
        def _get_relevant_documents(self, query: str, *, run_manager: object) -> list[Document]:
            return [Document(page_content=t) for t in TEXTS]

    retriever = ContextualCompressionRetriever(
        base_compressor=IdsCompressor(budget="tokens:40", scorers=("bm25",)),
        base_retriever=Fixed())
    out = retriever.invoke(QUESTION)
    assert joined_tokens([d.page_content for d in out]) <= 40
    assert any("Seine" in d.page_content for d in out)
