"""The cross-encoder relevance model: (question, sentence with its neighbours) -> one logit."""
