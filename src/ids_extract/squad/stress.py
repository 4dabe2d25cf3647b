"""The stress set: every question's context with its distractor (:mod:`.distractors`) inserted
at a random sentence boundary, answers moved by offset arithmetic.

Each question gets a paragraph of its own (its distractor is its own), in the article it came
from. The position is drawn per question from ``seed`` and the question id, so the set is the same
in every run. A question for which no distractor could be made keeps its context unchanged (and is
counted). The same transformation gives the trainers their hard negatives from the training file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .. import defaults
from ..progress import track
from ..select.segment import split_sentences
from .distractors import Distractor, DistractorMaker
from .model import QA, Answer, Article, Paragraph, SquadDataset


@dataclass(frozen=True)
class Inserted:
    """Where a question's distractor stands in its new context (``[start, end)``)."""

    distractor: Distractor
    start: int
    end: int


@dataclass
class StressSet:
    """The stressed dataset and, per question id, its inserted distractor (absent when none)."""

    dataset: SquadDataset
    inserted: dict[str, Inserted] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Share of the questions that got a distractor."""
        return len(self.inserted) / max(self.dataset.num_questions, 1)


def insert(context: str, qa: QA, distractor: Distractor, boundary: int) -> tuple[str, QA, Inserted]:
    """``distractor`` put in ``context`` at character ``boundary`` (a sentence start, or the end),
    followed (or, at the end, preceded) by one space; the answers after it move by its length."""
    text = distractor.text
    if boundary >= len(context):
        pad = "" if not context or context[-1].isspace() else " "
        start = len(context) + len(pad)
        new = context + pad + text
    else:
        start = boundary
        new = context[:boundary] + text + " " + context[boundary:]
    shift = len(new) - len(context)

    def moved(answers: list[Answer]) -> list[Answer]:
        return [Answer(a.text, a.answer_start + shift if a.answer_start >= boundary
                       else a.answer_start) for a in answers]

    new_qa = QA(qa.id, qa.question, moved(qa.answers), qa.is_impossible,
                moved(qa.plausible_answers))
    return new, new_qa, Inserted(distractor, start, start + len(text))


def stress_set(dataset: SquadDataset, *, seed: int = 0, segmenter: str = defaults.SEGMENTER,
               source: SquadDataset | None = None, quiet: bool = True,
               kind: str = "question") -> StressSet:
    """Every question of ``dataset`` with a distractor of ``kind`` (``question``,
    ``answer-sentence`` or ``mixed``, :mod:`.distractors`) made from ``source`` (default: the
    dataset itself) at a random sentence boundary of its context."""
    maker = DistractorMaker(source or dataset, seed, kind)
    out = StressSet(SquadDataset(dataset.version, [], source=f"{dataset.source} (stressed)"))
    items = [(a, p, qa) for a, p, qa in dataset.iter_qas()]
    bounds: dict[str, list[int]] = {}
    for article, paragraph, qa in track(items, "distractors", len(items), quiet):
        if not out.dataset.articles or out.dataset.articles[-1].title != article.title:
            out.dataset.articles.append(Article(article.title, []))
        made = maker.make(qa, paragraph.context, article.title)
        if made is None:
            out.dataset.articles[-1].paragraphs.append(Paragraph(paragraph.context, [qa]))
            continue
        if paragraph.context not in bounds:
            bounds[paragraph.context] = [s for s, _ in split_sentences(paragraph.context,
                                                                       segmenter)]
        choices = bounds[paragraph.context] + [len(paragraph.context)]
        boundary = random.Random(f"{seed}:{qa.id}:position").choice(choices)
        context, new_qa, where = insert(paragraph.context, qa, made, boundary)
        out.dataset.articles[-1].paragraphs.append(Paragraph(context, [new_qa]))
        out.inserted[qa.id] = where
    return out


def chosen(stress: StressSet, rate: float, seed: int = 0) -> set[str]:
    """The ids of about ``rate`` of the questions that have a distractor (drawn per question id,
    so the choice does not depend on the order or number of questions)."""
    return {qid for qid in stress.inserted
            if random.Random(f"{seed}:{qid}:chosen").random() < rate}


def mixed(dataset: SquadDataset, stress: StressSet, ids: set[str]) -> SquadDataset:
    """``dataset`` with the questions in ``ids`` moved from their paragraph to their stressed
    one (placed right after it): training data with hard negatives at a chosen rate."""
    stressed = {qa.id: (p.context, qa) for _, p, qa in stress.dataset.iter_qas() if qa.id in ids}
    articles = []
    for article in dataset.articles:
        paragraphs = []
        for p in article.paragraphs:
            kept = [qa for qa in p.qas if qa.id not in stressed]
            if kept:
                paragraphs.append(Paragraph(p.context, kept))
            paragraphs += [Paragraph(stressed[qa.id][0], [stressed[qa.id][1]])
                           for qa in p.qas if qa.id in stressed]
        articles.append(Article(article.title, paragraphs))
    return SquadDataset(dataset.version, articles, source=dataset.source)
