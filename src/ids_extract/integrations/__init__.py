"""Adapters for RAG frameworks, each an optional extra: ``ids_extract.integrations.langchain``
(``pip install 'ids-extract[langchain]'``) and ``ids_extract.integrations.llama_index``
(``pip install 'ids-extract[llama-index]'``). Both hand the retrieved texts to
:func:`ids_extract.compress` as passages, so one token budget holds for all of them together."""
