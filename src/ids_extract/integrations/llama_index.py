"""LlamaIndex: :class:`IdsPostprocessor`, a node postprocessor that keeps, across all the
retrieved nodes together, the sentences that matter for the query within one token budget.

    from ids_extract.integrations.llama_index import IdsPostprocessor

    engine = index.as_query_engine(node_postprocessors=[IdsPostprocessor(budget="tokens:512")])

Each returned node is a copy of an input node with its text cut down to its kept sentences (its
metadata and score kept), in the input order; nodes with nothing kept are left out. With a
BERT-style budget tokenizer the returned texts joined by blank lines, after the query and the
special tokens, fit the budget exactly as :func:`ids_extract.compress` counts it.
"""

from __future__ import annotations

try:
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle
except ImportError as err:  # pragma: no cover - depends on the installed extras
    raise ImportError("ids_extract.integrations.llama_index needs llama-index-core: "
                      "pip install 'ids-extract[llama-index]'") from err

from ..apps.compress import compress_passages
from ..errors import ConfigError
from . import CompressSettings


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
        kept = compress_passages(
            query_bundle.query_str,
            [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in nodes], self.budget,
            scorers=self.scorers, segmenter=self.segmenter, **self.scorer_options)
        out = []
        for k in kept:
            node = nodes[k.passage].node.model_copy(deep=True)
            node.set_content(k.text)
            out.append(NodeWithScore(node=node, score=nodes[k.passage].score))
        return out
