"""Applications built on the pipeline: compress, extract-then-read answering, the size-matched
ladder, the extractor's training, and what the bench scripts share."""
