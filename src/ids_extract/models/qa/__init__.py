"""Extractive QA readers: features, decoding, the reader folder (save/load), prediction, training."""
