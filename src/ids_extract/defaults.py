"""Every default of the package, once: what runs when a caller names nothing. Signatures,
dataclasses, the command line's help and the docs read them from here, so that a default
changes in one line.

Why these values: ``bench/results/`` holds the measurements behind each (see the comments)."""

from __future__ import annotations

#: the sentence splitter (pysbd: rule-based, robust to abbreviations; blingfire is faster with
#: the same retention on dev, bench/results/extractor.json, and is an option)
SEGMENTER = "pysbd"
#: the paper's untrained signals: the scorers when scorers are named by none but their options
SCORERS = ("bm25", "sbert")
#: ``fast``: static embeddings instead of MiniLM beside bm25 (bench/results/static.json:
#: several times faster, about a point lower top-1 on dev)
FAST_SCORERS = ("bm25", "static")
#: the task whose scorers are listed when none is named
TASK = "qa"
#: the levels of a QA extraction
LEVELS = "ratio:0.5,tokens:128,tokens:64"
#: the levels and scorers of a text (classification) extraction
TEXT_LEVELS = "tokens:128,tokens:64"
TEXT_SCORERS = ("label",)
#: the budget of ``compress()`` and of a request that names none
BUDGET = "tokens:256"
#: the cascade's k: expensive scorers read the 16 best sentences of the cheap ones
#: (bench/results/compress.json)
CASCADE_K = 16
#: items per shard of an extraction's score cache (QA questions; texts)
SHARD_SIZE = 256
TEXT_SHARD_SIZE = 512
#: the extractor that ships with the package, used when nothing it decides is given, and its
#: profile
EXTRACTOR, PROFILE = "squad-en", "fast"
