"""Static sentence embeddings (model2vec): one vector per token, a sentence is their mean.

:mod:`.folder` owns the format (a model2vec folder: distilled from a transformer and cached by
content hash, or loaded from a folder); :mod:`.train` fine-tunes the vectors on question ↔ answer
sentence pairs.
"""
