"""Applications built on the pipeline: extract-then-read answering and the size-matched ladder."""
