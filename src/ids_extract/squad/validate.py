"""Validation of SQuAD data as it is read: ids unique across the file, every answer equal to the
context text at its ``answer_start``; on request, a bad answer is repaired (moved to the nearest
occurrence of its text) or skipped, and each repair is reported with its place.

Checked article after article, so a stream can be validated without holding the whole file.
"""

from __future__ import annotations

from typing import Literal

from ..errors import DataError
from .model import Answer, Article, SquadDataset

BadAnswerPolicy = Literal["error", "repair", "skip"]
BAD_ANSWER_POLICIES: tuple[str, ...] = ("error", "repair", "skip")


class Validator:
    """Checks article after article (so a stream can be checked without loading it whole): ids
    unique across the file, every answer at its offset; repairs or skips on request."""

    def __init__(self, path: str, policy: BadAnswerPolicy) -> None:
        self.path, self.policy = path, policy
        self.seen: dict[str, str] = {}
        self.repairs: list[str] = []

    def check(self, article: Article, a_i: int) -> Article:
        """Validate one article (``a_i`` is its index, for the messages) in place: duplicate
        ids fail, bad answers fail or are repaired/skipped by the policy."""
        for p_i, paragraph in enumerate(article.paragraphs):
            kept = []
            for qa in paragraph.qas:
                where = f"article {a_i} ({article.title!r}) paragraph {p_i} question id {qa.id}"
                if qa.id in self.seen:
                    raise DataError(self.path, where,
                                    f"duplicate question id (first at {self.seen[qa.id]})")
                self.seen[qa.id] = where
                qa.answers = self._answers(qa.answers, paragraph.context, where)
                qa.plausible_answers = self._answers(qa.plausible_answers, paragraph.context, where)
                if qa.answers or qa.is_impossible:
                    kept.append(qa)
                else:
                    self.repairs.append(f"{where}: question skipped: no usable answer left")
            paragraph.qas = kept
        return article

    def _answers(self, answers: list[Answer], context: str, where: str) -> list[Answer]:
        return _checked_answers(answers, context, where, self.path, self.policy, self.repairs)


def validated(dataset: SquadDataset, path: str, policy: BadAnswerPolicy) -> SquadDataset:
    """Check ids are unique and every answer sits at its offset; repair or skip on request."""
    validator = Validator(path, policy)
    for a_i, article in enumerate(dataset.articles):
        validator.check(article, a_i)
    dataset.repairs = validator.repairs
    dataset.source = path
    return dataset


def _checked_answers(
    answers: list[Answer],
    context: str,
    where: str,
    path: str,
    policy: BadAnswerPolicy,
    report: list[str],
) -> list[Answer]:
    kept = []
    for answer in answers:
        if context[answer.answer_start : answer.end] == answer.text and answer.answer_start >= 0:
            kept.append(answer)
            continue
        found = context[answer.answer_start : answer.end] if answer.answer_start >= 0 else ""
        problem = (
            f"answer {answer.text!r} does not match the context at answer_start "
            f"{answer.answer_start} (found {found!r})"
        )
        if policy == "error":
            raise DataError(
                path, where, problem + "; use `on_bad_answer` repair or skip to go on"
            )
        fixed = _nearest_occurrence(context, answer) if policy == "repair" else None
        if fixed is not None:
            report.append(f"{where}: repaired {answer.text!r} {answer.answer_start} -> {fixed}")
            kept.append(Answer(answer.text, fixed))
        else:
            report.append(f"{where}: skipped: {problem}")
    return kept


def _nearest_occurrence(context: str, answer: Answer) -> int | None:
    """Offset of the occurrence of the answer text closest to the stated ``answer_start``."""
    best: int | None = None
    start = context.find(answer.text)
    while start != -1:
        if best is None or abs(start - answer.answer_start) < abs(best - answer.answer_start):
            best = start
        start = context.find(answer.text, start + 1)
    return best
