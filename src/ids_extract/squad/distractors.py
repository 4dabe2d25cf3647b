"""Distractor sentences: a question restated as a declarative sentence whose named entities,
numbers and key nouns are swapped for others of the same kind taken from other articles of the
data, with a fake answer of the question's type, so that it looks like the question but answers
a different one (Jia & Liang 2017's AddSent, rebuilt from heuristics).

No NER or POS model is available offline (spaCy models and NLTK data cannot be downloaded), so
the kinds are found by hand-written heuristics, and say so:

- **named entities**: runs of capitalised words (``University of Notre Dame``: ``of``/``the``
  inside a run), not a capitalised stopword or a word the data also writes in lower case
  (``Following``, ``Oxygen``); replaced by a run of the same length (1, 2, 3+ words);
- **numbers**: years (1000–2099), other numerals, number words, months and ordinals, each
  replaced within its kind;
- **key noun**: of the lower-case words that the data uses after a determiner (``the``, ``a``,
  ``its``, …) in at least a quarter of their occurrences (the noun lexicon), the rarest one the
  question shares with its paragraph (the most specific word tying it to the evidence); replaced by
  a lexicon noun of the same number (plural ``-s`` or not). Only one, so that the distractor keeps
  most of the question's wording (what makes it look like the answer); a question with no entity,
  number or lexicon noun gets its rarest word shared with the paragraph swapped instead;
- **verbs** (for the sentence rules): the stems of the data's words in ``-ed`` (``studied``:
  ``study``), so the rules can tell the verb after a subject;
- **fake answer**: the gold answer of another article's question of the same type (who, when,
  where, how many, …), never one of the question's own answers.

The sentence itself comes from :mod:`.declarative`. Everything is drawn from a seeded generator
per question (``seed`` and the question id), so a stress set is the same in every run and does not
depend on the order in which questions are made.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .declarative import (
    AUX,
    DETERMINERS,
    PREPOSITIONS,
    WH,
    Words,
    declarative,
    detokenize,
    tokenize,
    wh_phrase,
    word_list,
)
from .model import QA, SquadDataset

STOPWORDS = frozenset(
    word_list(
        "a an the and or but if of at by for with about against between into through during before "
        "after above below to from up down in out on off over under again further then once here "
        "there all any both each few more most other some such no nor not only own same so than too "
        "very can will just should now i me my we our you your he him his she her it its they them "
        "their what which who whom whose this that these those am is are was were be been being have "
        "has had having do does did doing would could might must shall may also as when where why how "
        "many much")) | frozenset(WH) | frozenset(AUX) | frozenset(PREPOSITIONS)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve", "twenty", "hundred", "thousand", "million", "billion")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth", "last")
YEAR = re.compile(r"^(1\d{3}|20\d{2})$")
NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?$")
NOT_LEXICON = frozenset(word_list(
    "most same other only following many few several such own entire whole next new"))
#: question types for fake answers: the first wh-phrase that matches wins
QTYPES = (("how many", "quantity"), ("how much", "quantity"), ("how long", "duration"),
          ("how far", "measure"), ("how high", "measure"), ("how tall", "measure"),
          ("how large", "measure"), ("how big", "measure"), ("how old", "measure"),
          ("what year", "time"), ("which year", "time"), ("what century", "time"),
          ("what decade", "time"), ("when", "time"), ("where", "place"), ("whom", "person"),
          ("whose", "person"), ("who", "person"), ("why", "reason"), ("how", "manner"),
          ("which", "thing"), ("what", "thing"))
MAX_ANSWER_WORDS = 6


@dataclass(frozen=True)
class Distractor:
    """One question's distractor sentence, its fake answer, and the swaps made
    (``(original, replacement)`` in question order)."""

    qid: str
    text: str
    fake_answer: str
    swaps: tuple[tuple[str, str], ...]


def question_type(question: str) -> str:
    """``person``, ``time``, ``place``, ``quantity``, … from the question's wh-phrase."""
    low = " " + " ".join(tokenize(question.lower())) + " "
    return next((kind for phrase, kind in QTYPES if f" {phrase} " in low), "other")


class DistractorMaker:
    """Pools of entities, numbers, nouns and answers from ``source`` (any SQuAD data: the
    training file for hard negatives, dev for the stress set), and :meth:`make` per question."""

    def __init__(self, source: SquadDataset, seed: int = 0) -> None:
        self.seed = seed
        self.entities: dict[int, list[tuple[str, str]]] = defaultdict(list)
        self.years: list[tuple[str, str]] = []
        self.numbers: list[tuple[str, str]] = []
        self.answers: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.counts: Counter[str] = Counter()
        det: Counter[str] = Counter()
        by_title: dict[str, set[str]] = defaultdict(set)
        texts: list[tuple[list[str], str]] = []
        for article in source.articles:
            for paragraph in article.paragraphs:
                tokens = tokenize(paragraph.context)
                texts.append((tokens, article.title))
                for prev, tok in zip(["."] + tokens, tokens, strict=False):
                    self.counts[tok] += 1
                    det[tok.lower()] += prev.lower() in DETERMINERS
                    by_title[article.title].add(tok.lower())
                for qa in paragraph.qas:
                    for a in qa.answers[:1]:
                        text = a.text.strip().rstrip(".,;:")
                        if 0 < len(text.split()) <= MAX_ANSWER_WORDS:
                            self.answers[question_type(qa.question)].append((text, article.title))
        lower = Counter({w: n for w, n in self.counts.items() if w[:1].islower()})
        nouns = frozenset(w for w, n in det.items() if n >= 2 and n >= 0.25 * lower[w]
                          and w.isalpha() and len(w) > 2 and w not in STOPWORDS
                          and w not in NOT_LEXICON and w not in NUMBER_WORDS
                          and w not in ORDINALS and w.capitalize() not in MONTHS)
        verbs = frozenset(stem for w in lower if w.endswith("ed") and w.isalpha()
                          for stem in (w[:-2], w[:-1], w[:-3] + "y", w[:-3]) if len(stem) > 2)
        self.words = Words(nouns, verbs)
        self.common = frozenset(w for w, n in lower.items() if n >= 2)
        for tokens, title in texts:
            self._collect(tokens, title)
        pool = [(w, t) for t, ws in sorted(by_title.items()) for w in sorted(ws & nouns)]
        self._plural_pool = [(w, t) for w, t in pool if _plural(w)]
        self._singular_pool = [(w, t) for w, t in pool if not _plural(w)]

    def _collect(self, tokens: Sequence[str], title: str) -> None:
        for _, run in _runs_at(tokens, self.common):
            if len(run) > 1 or len(run[0]) > 1:
                self.entities[min(len(run), 3)].append((detokenize(run), title))
        for tok in tokens:
            if YEAR.match(tok):
                self.years.append((tok, title))
            elif NUMBER.match(tok):
                self.numbers.append((tok, title))

    def make(self, qa: QA, context: str, title: str) -> Distractor | None:
        """The distractor of one question, or None when nothing in it can be swapped, or every
        try (three) would leave a gold answer in the sentence."""
        rng = random.Random(f"{self.seed}:{qa.id}")
        gold = [a.text.lower() for a in qa.answers if a.text.strip()]
        context_words = {t.lower() for t in tokenize(context)}
        for _ in range(3):
            swapped, swaps = self._swap(tokenize(qa.question), context_words, title, rng)
            if not swaps:
                return None
            fake = self._fake_answer(qa.question, gold, title, rng)
            if fake is None:
                return None
            text = declarative(detokenize(swapped), fake, self.words)
            if not any(_contains(text.lower(), g) for g in gold):
                return Distractor(qa.id, text, fake, tuple(swaps))
        return None

    def _swap(self, tokens: list[str], context_words: set[str], title: str,
              rng: random.Random) -> tuple[list[str], list[tuple[str, str]]]:
        """Entities and numbers replaced, and the key noun (see the module doc)."""
        keep = set(wh_phrase(tokens, self.words))
        runs = {i: run for i, run in _runs_at(tokens, self.common) if i not in keep}
        out: list[list[str]] = [[t] for t in tokens]   # per question token, what replaces it
        swaps: dict[int, tuple[str, str]] = {}
        skip: set[int] = set()
        for i, run in runs.items():
            new = self._draw(self.entities[min(len(run), 3)], title, rng, avoid=detokenize(run))
            if new is not None:
                swaps[i] = (detokenize(run), new)
                out[i] = tokenize(new)
                skip.update(range(i + 1, i + len(run)))
        for i, tok in enumerate(tokens):
            if i in keep or i in skip or i in runs:
                continue
            new = self._number(tok, rng, title)
            if new is not None:
                swaps[i], out[i] = (tok, new), [new]
        key = self._key_word(tokens, keep | skip | set(runs) | set(swaps), context_words,
                             lexical=True) or (None if swaps else self._key_word(
                                 tokens, keep | skip | set(runs), context_words, lexical=False))
        if key is not None:
            new = self._noun(tokens[key], title, rng)
            if new is not None:
                swaps[key], out[key] = (tokens[key], new), [new]
        words = [w for i, part in enumerate(out) if i not in skip for w in part]
        return words, [swaps[i] for i in sorted(swaps)]

    def _key_word(self, tokens: Sequence[str], taken: set[int], context_words: set[str],
                  lexical: bool) -> int | None:
        """The rarest word the question shares with its paragraph: a lexicon noun (``lexical``;
        not one the data also uses as a verb, unless a determiner comes before it), or any
        content word."""
        best: tuple[int, int] | None = None
        for i, tok in enumerate(tokens):
            low = tok.lower()
            if i in taken or low not in context_words or not tok.isalpha() or tok[:1].isupper():
                continue
            after_det = i > 0 and tokens[i - 1].lower() in DETERMINERS
            if lexical and not (self.words.is_noun(low) and (after_det
                                                             or not self.words.is_verb(tok))):
                continue
            if not lexical and (low in STOPWORDS or len(low) < 4):
                continue
            rank = (self.counts[low] + self.counts[low.capitalize()], i)
            best = rank if best is None or rank < best else best
        return None if best is None else best[1]

    def _number(self, tok: str, rng: random.Random, title: str) -> str | None:
        """A year, numeral, number word, ordinal or month replaced within its kind."""
        low = tok.lower()
        if YEAR.match(tok):
            return self._draw(self.years, title, rng, avoid=tok)
        if NUMBER.match(tok):
            return self._draw(self.numbers, title, rng, avoid=tok)
        for words in (NUMBER_WORDS, ORDINALS):
            if low in words:
                return rng.choice([w for w in words if w != low])
        if tok in MONTHS:
            return rng.choice([m for m in MONTHS if m != tok])
        return None

    def _noun(self, tok: str, title: str, rng: random.Random) -> str | None:
        plural = _plural(tok.lower())
        pool = self._plural_pool if plural else self._singular_pool
        new = self._draw(pool, title, rng, avoid=tok.lower())
        return new.capitalize() if new and tok[:1].isupper() else new

    def _fake_answer(self, question: str, gold: Sequence[str], title: str,
                     rng: random.Random) -> str | None:
        pool = self.answers.get(question_type(question)) or [a for v in self.answers.values()
                                                             for a in v]
        for _ in range(20):
            fake = self._draw(pool, title, rng)
            if fake is None:
                return None
            low = fake.lower()
            if not any(low == g or _contains(low, g) or _contains(g, low) for g in gold):
                return fake
        return None

    @staticmethod
    def _draw(pool: Sequence[tuple[str, str]], title: str, rng: random.Random,
              avoid: str | None = None) -> str | None:
        """A random item of ``pool`` from another article than ``title`` (and not ``avoid``)."""
        for _ in range(30):
            if not pool:
                return None
            item, where = pool[rng.randrange(len(pool))]
            if where != title and item != avoid:
                return item
        return None


def _runs_at(tokens: Sequence[str], common: frozenset[str]) -> Iterable[tuple[int, list[str]]]:
    """Runs of capitalised words (see the module doc): ``(first index, words)``. A word the data
    also writes in lower case starts no run at the start of a sentence (``Following the war``)
    and is no name alone (``Oxygen``), but belongs to a longer one (``American Broadcasting``)."""
    i = 0
    while i < len(tokens):
        if not _capital(tokens[i]):
            i += 1
            continue
        j = i + 1
        while j < len(tokens) and (_capital(tokens[j]) or (
                tokens[j] in ("of", "the", "de") and j + 1 < len(tokens)
                and _capital(tokens[j + 1]))):
            j += 1
        first = i
        if tokens[i].lower() in common and (i == 0 or tokens[i - 1] in ".!?\"“:;"):
            first += 1
        if j - first > 1 or (j - first == 1 and tokens[first].lower() not in common):
            yield first, list(tokens[first:j])
        i = j


def _capital(tok: str) -> bool:
    """A capitalised word that is not a stopword, month or ``I``."""
    return tok[:1].isupper() and tok not in MONTHS and tok != "I" and tok.lower() not in STOPWORDS


def _plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith(("ss", "us", "is"))


def _contains(text: str, part: str) -> bool:
    """``part`` occurs in ``text`` as whole words."""
    return re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text) is not None
