"""Holding out whole articles of a training file (for fitting and reporting what was trained on
the rest): no held-out paragraph shares an article with a training one, so a held-out figure is
not inflated by near-duplicate contexts."""

from __future__ import annotations

from dataclasses import replace

from ..errors import ConfigError
from .model import SquadDataset


def hold_out_articles(dataset: SquadDataset, n_questions: int) -> tuple[SquadDataset, SquadDataset]:
    """(rest, held out): whole articles from the end of the file until at least
    ``n_questions`` questions are held out (the same rule as ``train-retriever``'s ``heldout``)."""
    if n_questions <= 0:
        return dataset, replace(dataset, articles=[])
    cut, count = len(dataset.articles), 0
    while cut > 0 and count < n_questions:
        cut -= 1
        count += sum(len(p.qas) for p in dataset.articles[cut].paragraphs)
    if cut == 0:
        raise ConfigError(f"{dataset.source}: holding out {n_questions} questions leaves no "
                          f"article to train on ({dataset.num_questions} questions in "
                          f"{len(dataset.articles)} articles)")
    return (replace(dataset, articles=dataset.articles[:cut]),
            replace(dataset, articles=dataset.articles[cut:]))
