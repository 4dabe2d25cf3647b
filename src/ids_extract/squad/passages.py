"""The multi-passage set: what a RAG pipeline hands a compressor. Each question reads its own
paragraph among ``others`` other paragraphs of the same article, shuffled, joined by blank lines;
answers are moved by offset arithmetic.

Why the same article: retrieved passages are on the question's topic, so the other paragraphs
share its names and words (a harder and more honest test than random paragraphs). The order is
drawn per question from ``seed`` and the question id, so the set is the same in every run; an
article with fewer paragraphs gives what it has.
"""

from __future__ import annotations

import random
from collections.abc import Collection

from .model import QA, Answer, Article, Paragraph, SquadDataset

SEPARATOR = "\n\n"


def multi_passage(dataset: SquadDataset, *, others: int = 4, seed: int = 0,
                  ids: Collection[str] | None = None) -> SquadDataset:
    """One paragraph per question: its own among up to ``others`` other paragraphs of its article,
    in a shuffled order (see the module doc). With ``ids``, only those questions move to such a
    paragraph; the others stay in their own (training data where a share of the questions reads
    several passages, as retrieval hands them over)."""
    articles = []
    for article in dataset.articles:
        paragraphs = []
        for n, paragraph in enumerate(article.paragraphs):
            pool = [p.context for m, p in enumerate(article.paragraphs) if m != n]
            stay = [qa for qa in paragraph.qas if ids is not None and qa.id not in ids]
            if stay:
                paragraphs.append(Paragraph(paragraph.context, stay))
            for qa in paragraph.qas:
                if ids is not None and qa.id not in ids:
                    continue
                rng = random.Random(f"{seed}:{qa.id}")
                passages = [paragraph.context, *rng.sample(pool, min(others, len(pool)))]
                order = list(range(len(passages)))
                rng.shuffle(order)
                paragraphs.append(_joined([passages[i] for i in order], order.index(0), qa))
        articles.append(Article(article.title, paragraphs))
    return SquadDataset(dataset.version, articles, source=f"{dataset.source} (multi-passage)")


def _joined(passages: list[str], own: int, qa: QA) -> Paragraph:
    """The passages as one context; the question's answers moved to where its own passage is."""
    shift = sum(len(p) + len(SEPARATOR) for p in passages[:own])

    def moved(answers: list[Answer]) -> list[Answer]:
        return [Answer(a.text, a.answer_start + shift) for a in answers]

    new = QA(qa.id, qa.question, moved(qa.answers), qa.is_impossible,
             moved(qa.plausible_answers))
    return Paragraph(SEPARATOR.join(passages), [new])
