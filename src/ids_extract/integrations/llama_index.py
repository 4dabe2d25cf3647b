"""LlamaIndex: :class:`IdsPostprocessor`, a node postprocessor that keeps, across all the
retrieved nodes together, the sentences that matter for the query within one token budget.

    from ids_extract.integrations.llama_index import IdsPostprocessor

    engine = index.as_query_engine(node_postprocessors=[IdsPostprocessor(budget="tokens:512")])

Each returned node is a copy of an input node with its text cut down to its kept sentences, in
the input order (its metadata and retrieval score kept; added, as the LangChain adapter does:
``ids_extract_score``, the best fused score of its kept sentences, and ``ids_extract_spans``,
their ``[start, end)`` in the node's text, both hidden from the LLM and the embedding); nodes with
nothing kept are left out. ``start_char_idx``/``end_char_idx`` are moved to the kept span when it
is one piece of the node's text, and cleared when sentences between kept ones were left out (the
text is then no longer one span of the source). With a
BERT-style budget tokenizer the returned texts joined by blank lines, after the query and the
special tokens, fit the budget exactly as :func:`ids_extract.compress` counts it.
"""

from __future__ import annotations

from typing import Any

try:
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle
except ImportError as err:  # pragma: no cover - depends on the installed extras
    raise ImportError("ids_extract.integrations.llama_index needs llama-index-core: "
                      "pip install 'ids-extract[llama-index]'") from err

from ..errors import ConfigError
from . import SCORE, SPANS, CompressSettings


class IdsPostprocessor(CompressSettings, BaseNodePostprocessor):
    """Sentence-level compression of retrieved nodes within one token budget (the fields are
    :class:`~ids_extract.integrations.CompressSettings`')."""

    @classmethod
    def class_name(cls) -> str:
        return "IdsPostprocessor"

    def _postprocess_nodes(self, nodes: list[NodeWithScore],
                           query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        """The nodes cut to the sentences that matter for the query (see the module doc)."""
        if query_bundle is None:
            raise ConfigError("IdsPostprocessor needs the query (query_bundle or query_str)")
        texts = [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in nodes]
        out = []
        for k in self.kept(query_bundle.query_str, texts):
            node = nodes[k.passage].node.model_copy(deep=True)
            node.set_content(k.text)
            node.metadata.update(self.metadata(k))
            for hidden in (node.excluded_llm_metadata_keys, node.excluded_embed_metadata_keys):
                hidden.extend(key for key in (SCORE, SPANS) if key not in hidden)
            _move_span(node, k.contiguous(texts[k.passage]))
            out.append(NodeWithScore(node=node, score=nodes[k.passage].score))
        return out


def _move_span(node: Any, span: tuple[int, int] | None) -> None:
    """The node's place in its source document, for the text it now holds."""
    start = getattr(node, "start_char_idx", None)
    if span is None or start is None:
        node.start_char_idx = node.end_char_idx = None
        return
    node.start_char_idx, node.end_char_idx = start + span[0], start + span[1]
