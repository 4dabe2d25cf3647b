"""The pipeline: scoring (scorers → fused rankings), the QA extractor, and the engine that streams
large inputs in resumable shards to an output folder (locally or on Ray); plus the datasets built
from the same units (the sentence-level dataset, learned-fusion labels)."""
