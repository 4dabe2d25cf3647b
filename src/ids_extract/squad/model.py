"""The SQuAD object model: ``SquadDataset`` → ``Article`` → ``Paragraph`` → ``QA`` → ``Answer``.

It keeps the SQuAD nesting, so a writer can give back the same schema with the same ids and
``version``; readers fill it, validate it once, and nothing downstream re-checks the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from ..errors import check_limit


@dataclass(frozen=True)
class Answer:
    """One gold answer: its text and the character offset where it starts in the context."""

    text: str
    answer_start: int

    @property
    def end(self) -> int:
        return self.answer_start + len(self.text)


@dataclass
class QA:
    """One question about a paragraph (SQuAD ``qas`` entry)."""

    id: str
    question: str
    answers: list[Answer]
    is_impossible: bool = False
    plausible_answers: list[Answer] = field(default_factory=list)


@dataclass
class Paragraph:
    context: str
    qas: list[QA]


@dataclass
class Article:
    title: str
    paragraphs: list[Paragraph]


@dataclass
class SquadDataset:
    """A SQuAD-shaped dataset; ``version`` is kept as read (``"1.1"``, ``"v2.0"``, …)."""

    version: str
    articles: list[Article]
    source: str = "<memory>"
    repairs: list[str] = field(default_factory=list)

    @property
    def is_v2(self) -> bool:
        return any(qa.is_impossible for _, _, qa in self.iter_qas()) or self.version.lstrip(
            "v"
        ).startswith("2")

    def paragraphs(self) -> Iterator[Paragraph]:
        for article in self.articles:
            yield from article.paragraphs

    def iter_qas(self) -> Iterator[tuple[Article, Paragraph, QA]]:
        for article in self.articles:
            for paragraph in article.paragraphs:
                for qa in paragraph.qas:
                    yield article, paragraph, qa

    @property
    def num_questions(self) -> int:
        return sum(len(p.qas) for p in self.paragraphs())

    def limit(self, n_questions: int | None) -> SquadDataset:
        """The first ``n_questions`` questions, with the nesting kept (for quick runs and tests)."""
        check_limit(n_questions, "questions")
        if n_questions is None:
            return self
        articles: list[Article] = []
        left = n_questions
        for article in self.articles:
            cut = first_questions(article, left)
            if cut.paragraphs:
                articles.append(cut)
                left -= sum(len(p.qas) for p in cut.paragraphs)
            if left <= 0:
                break
        return replace(self, articles=articles)

    def only(self, ids: Iterable[str]) -> SquadDataset:
        """The questions whose id is in ``ids``, nesting kept (e.g. a dev sample read through
        another extraction of the same file)."""
        wanted = set(ids)
        articles = [Article(a.title, [Paragraph(p.context, qas) for p in a.paragraphs
                                      if (qas := [qa for qa in p.qas if qa.id in wanted])])
                    for a in self.articles]
        return replace(self, articles=[a for a in articles if a.paragraphs])

    def spread(self, n_questions: int | None) -> SquadDataset:
        """About ``n_questions`` questions spread over the whole file (every k-th), nesting kept:
        a fixed subset in which every article is represented (``limit`` takes the first ones)."""
        total = self.num_questions
        if n_questions is None or n_questions >= total:
            return self
        step = total / n_questions
        wanted = {int(i * step) for i in range(n_questions)}
        articles: list[Article] = []
        index = 0
        for article in self.articles:
            paragraphs = []
            for paragraph in article.paragraphs:
                qas = [qa for n, qa in enumerate(paragraph.qas, index) if n in wanted]
                index += len(paragraph.qas)
                if qas:
                    paragraphs.append(Paragraph(paragraph.context, qas))
            if paragraphs:
                articles.append(Article(article.title, paragraphs))
        return replace(self, articles=articles)


def first_questions(article: Article, n: int) -> Article:
    """The article cut after its first ``n`` questions (a streamed ``limit`` cuts so too)."""
    paragraphs = []
    for paragraph in article.paragraphs:
        if n <= 0:
            break
        paragraphs.append(Paragraph(paragraph.context, paragraph.qas[:n]))
        n -= len(paragraphs[-1].qas)
    return Article(article.title, paragraphs)
