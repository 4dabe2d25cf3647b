"""What a distractor may swap in, learnt from SQuAD data and kept per article, so that a
distractor draws from its question's own article first (it stays on topic) and from the other
articles only when its own has nothing of the kind.

No NER or POS model loads offline (spaCy models and NLTK data need a download), so the kinds are
heuristics on word tokens, and say so:

- **named entities**: runs of capitalised words (``University of Notre Dame``: ``of``/``the``/
  ``de`` inside a run), not a capitalised stopword or a word the data also writes in lower case
  (``Following``, ``Oxygen``). Their kind is voted over every occurrence in the data by the word
  before: ``the`` (organisations, teams, titles: ``the Carolina Panthers``), a preposition of
  place (``in``, ``at``, ``from``, …: places), anything else (people and other names); and their
  length (one word, or more);
- **numbers**: years (1000–2099), other numerals, number words, ordinals and months;
- **nouns**: lower-case words the data uses after a determiner (``the``, ``a``, ``its``, …) in at
  least a quarter of their occurrences, singular or plural (``-s``); the ones swapped are those
  followed by punctuation or a stopword in half their occurrences at least (heads of a noun
  phrase, not adjectives);
- **similar**: among the candidates of a kind, the ones whose neighbouring words (the word before
  and after each occurrence in the data) overlap most with the original's are preferred
  (distributional similarity: a team for a team, ``study`` for ``survey``);
- **verbs** (for the sentence rules): the stems of the data's words in ``-ed``;
- **answers**: the gold answers of the data's questions (up to six words, no auxiliary: not a
  clause; not a verb phrase: not ``to …``, not ending in a verb or an ``-ly`` adverb), by
  question type
  (:func:`question_type`) and by the noun of the wh-phrase (``what team``: ``team``).
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .declarative import AUX, DETERMINERS, PREPOSITIONS, WH, Words, tokenize, word_list
from .model import SquadDataset

STOPWORDS = frozenset(
    word_list(
        "a an the and or but if of at by for with about against between into through during before "
        "after above below to from up down in out on off over under again further then once here "
        "there all any both each few more most other some such no nor not only own same so than too "
        "very can will just should now i me my we our you your he him his she her it its they them "
        "their what which who whom whose this that these those am is are was were be been being have "
        "has had having do does did doing would could might must shall may also as when where why how "
        "many much")) | frozenset(WH) | frozenset(AUX) | frozenset(PREPOSITIONS)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve", "twenty", "hundred", "thousand", "million", "billion")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth")
YEAR = re.compile(r"^(1\d{3}|20\d{2})$")
NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?$")
NOT_LEXICON = frozenset(word_list(
    "most same other only following many few several such own entire whole next new"))
PLACE_PREPS = frozenset(word_list("in at from near across throughout into to outside inside"))
#: question types for fake answers: the first wh-phrase that matches wins
QTYPES = (("how many", "quantity"), ("how much", "quantity"), ("how long", "duration"),
          ("how far", "measure"), ("how high", "measure"), ("how tall", "measure"),
          ("how large", "measure"), ("how big", "measure"), ("how old", "measure"),
          ("what year", "time"), ("which year", "time"), ("what century", "time"),
          ("what decade", "time"), ("when", "time"), ("where", "place"), ("whom", "person"),
          ("whose", "person"), ("who", "person"), ("why", "reason"), ("how", "manner"),
          ("which", "thing"), ("what", "thing"))
MAX_ANSWER_WORDS = 6
#: kinds of typed candidates from the text that can stand as a fake answer, per question type
TYPED = {"time": ("year",), "quantity": ("numeral", "number-word"),
         "place": ("entity:place1", "entity:place2"), "person": ("entity:name2", "entity:name1")}


def question_type(question: str) -> str:
    """``person``, ``time``, ``place``, ``quantity``, … from the question's wh-phrase."""
    low = " " + " ".join(tokenize(question.lower())) + " "
    return next((kind for phrase, kind in QTYPES if f" {phrase} " in low), "other")


def wh_head(question: str) -> str | None:
    """The noun of the wh-phrase (``what team``, ``how many people``: ``team``, ``people``), the
    finer type of the answer a question asks for."""
    low = [t.lower() for t in tokenize(question)]
    for i, tok in enumerate(low[:-1]):
        if tok in ("what", "which") or tok == "how" and low[i + 1] in ("many", "much"):
            j = i + 2 if tok == "how" else i + 1
            if j < len(low) and low[j].isalpha() and low[j] not in STOPWORDS:
                return low[j]
            return None
    return None


def number_kind(tok: str) -> str | None:
    """``year``, ``numeral``, ``number-word``, ``ordinal`` or ``month``; None for other words."""
    if YEAR.match(tok):
        return "year"
    if NUMBER.match(tok):
        return "numeral"
    low = tok.lower()
    if low in NUMBER_WORDS:
        return "number-word"
    if low in ORDINALS:
        return "ordinal"
    return "month" if tok in MONTHS else "weekday" if tok in WEEKDAYS else None


def runs_at(tokens: Sequence[str], common: frozenset[str]) -> Iterable[tuple[int, int]]:
    """Runs of capitalised words (see the module doc) as ``(first, end)`` token indices. A word
    the data also writes in lower case starts no run at the start of a sentence (``Following the
    war``) and is no name alone (``Oxygen``), but belongs to a longer one (``American
    Broadcasting``)."""
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
            yield first, j
        i = j


def _capital(tok: str) -> bool:
    """A capitalised word that is not a stopword, determiner, month, weekday or ``I``."""
    return (tok[:1].isupper() and tok not in MONTHS and tok not in WEEKDAYS and tok != "I"
            and tok.lower() not in STOPWORDS and tok.lower() not in DETERMINERS)


def plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith(("ss", "us", "is"))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentences as character spans: a cut after ``.``/``!``/``?`` (and a closing quote or
    bracket) followed by a space and a capital, digit or quote, unless the word before is one
    letter or a title (``U.S. Army``, ``Dr. Smith``). A cheap splitter (pysbd is slower than
    making every distractor), good enough to find the sentence around an answer."""
    spans, start = [], 0
    for m in re.finditer(r"[.!?][\"”')\]]*\s+(?=[A-Z0-9\"“(])", text):
        before = text[max(start, m.start() - 4):m.start()].split()
        if before and (len(before[-1].strip("(\"“")) <= 1 or before[-1].lower().strip("(\"“") in (
                "dr", "mr", "mrs", "st", "no", "vs", "jr", "sr", "gen", "col", "rev", "c", "ca")):
            continue
        spans.append((start, m.start() + len(m.group().rstrip())))
        start = m.end()
    if start < len(text.rstrip()):
        spans.append((start, len(text.rstrip())))
    return spans


def content_words(text: str) -> frozenset[str]:
    """The lower-case words of ``text`` that are not stopwords: what a question and a sentence
    share when they speak of the same thing."""
    return frozenset(t.lower() for t in tokenize(text) if t.isalnum() and t.lower() not in STOPWORDS)


@dataclass
class ArticlePool:
    """One article's candidates by kind (``entity:the2``, ``year``, ``noun:plural``,
    ``answer:time``, ``answer:time:year``, …; unique, in text order), its sentences (with their
    content words), and the words of its title (its topic: a swap that changes them leaves it)."""

    title: str
    items: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sentences: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    topic: frozenset[str] = frozenset()

    def add(self, kind: str, item: str) -> None:
        if item not in self.items[kind]:
            self.items[kind].append(item)


class Lexicon:
    """The vocabulary of ``source`` (see the module doc): the sentence rules' :class:`Words`, the
    entity kinds, one :class:`ArticlePool` per article, and :meth:`draw` (own article first)."""

    def __init__(self, source: SquadDataset) -> None:
        self.counts: Counter[str] = Counter()
        det: Counter[str] = Counter()
        ends: Counter[str] = Counter()
        texts = [(a.title, tokenize(p.context), p) for a in source.articles for p in a.paragraphs]
        for _, tokens, _ in texts:
            for prev, tok, after in zip(["."] + tokens, tokens, tokens[1:] + ["."], strict=False):
                self.counts[tok] += 1
                det[tok.lower()] += prev.lower() in DETERMINERS
                ends[tok] += not after[:1].isalnum() or after.lower() in STOPWORDS
        lower = Counter({w: n for w, n in self.counts.items() if w[:1].islower()})
        nouns = frozenset(w for w, n in det.items() if n >= 2 and n >= 0.25 * lower[w]
                          and w.isalpha() and len(w) > 2 and w not in STOPWORDS
                          and w not in NOT_LEXICON and w not in NUMBER_WORDS
                          and w not in ORDINALS and w.capitalize() not in MONTHS)
        verbs = frozenset(stem for w in lower if w.endswith("ed") and w.isalpha()
                          for stem in (w[:-2], w[:-1], w[:-3] + "y", w[:-3])
                          if len(stem) > 2 and stem not in STOPWORDS)
        self.words = Words(nouns, verbs)
        #: nouns that mostly end their phrase (``the number of``), not adjectives (``the
        #: important role``): the ones a swap takes out and puts in
        self.heads = frozenset(w for w in nouns if ends[w] >= 0.5 * lower[w])
        self.common = frozenset(w for w, n in lower.items() if n >= 2)
        self.votes: dict[str, Counter[str]] = defaultdict(Counter)
        self.contexts: dict[str, set[str]] = defaultdict(set)
        for _, tokens, _ in texts:
            for first, end in runs_at(tokens, self.common):
                name = " ".join(tokens[first:end])
                self.votes[name][_vote(tokens, first)] += 1
                self._context(name, tokens, first, end)
            for i, tok in enumerate(tokens):
                if tok in self.heads:
                    self._context(tok, tokens, i, i + 1)
        self.pools: dict[str, ArticlePool] = {}
        self._local: dict[str, ArticlePool] = {}
        for title, tokens, paragraph in texts:
            pool = self.pools.setdefault(title, ArticlePool(title, topic=_topic(title)))
            self._fill(pool, paragraph.context, tokens)
            for qa in paragraph.qas:
                for a in qa.answers[:1]:
                    self._add_answer(pool, qa.question, a.text)
        self.everywhere: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for title, pool in self.pools.items():
            for kind, items in pool.items.items():
                self.everywhere[kind] += [(item, title) for item in items]

    def entity_kind(self, tokens: Sequence[str], first: int, end: int) -> str:
        """``caps`` for one upper-case word (``NFL``, ``CBS``), else ``the``/``place``/``name``
        (voted over the data and, twice, by the word before it here) and ``1`` or ``2`` (one
        word, or more)."""
        if end - first == 1 and tokens[first].isupper():
            return "caps"
        votes = self.votes.get(" ".join(tokens[first:end]), Counter()) + Counter(
            {_vote(tokens, first): 2})
        kind = max(("name", "the", "place"), key=lambda k: votes[k])
        return f"{kind}{min(end - first, 2)}"

    def article(self, title: str, context: str) -> ArticlePool:
        """The pool of ``title``; for an article ``source`` does not have, one made from this
        paragraph (kept aside: the draws from other articles stay the same)."""
        if title in self.pools:
            return self.pools[title]
        if context not in self._local:
            self._local[context] = pool = ArticlePool(title, topic=_topic(title))
            self._fill(pool, context, tokenize(context))
        return self._local[context]

    def draw(self, kind: str, pool: ArticlePool, rng: random.Random,
             ok: Callable[[str], bool], elsewhere: bool = True, like: str = "") -> str | None:
        """An item of ``kind`` that passes ``ok``: from ``pool``'s article when it has one (a few
        random probes, then a scan; with ``like``, one of the three that share the most
        neighbouring words with it), else (``elsewhere``) from another article (30 probes)."""
        own = pool.items.get(kind, [])
        near = self.contexts.get(like) if like else None
        if near:
            ranked = sorted((-len(near & self.contexts.get(item, set())), n, item)
                            for n, item in enumerate(own))
            best = [item for item in itertools.islice((i for _, _, i in ranked if ok(i)), 3)]
            if best:
                return best[rng.randrange(len(best))]
        for _ in range(min(len(own), 8)):
            item = own[rng.randrange(len(own))]
            if ok(item):
                return item
        fits = [item for item in own if ok(item)] if own else []
        if fits:
            return fits[rng.randrange(len(fits))]
        other = self.everywhere.get(kind, []) if elsewhere else []
        for _ in range(30 if other else 0):
            item, where = other[rng.randrange(len(other))]
            if where != pool.title and ok(item):
                return item
        return None

    def _context(self, name: str, tokens: Sequence[str], first: int, end: int) -> None:
        """The words around one occurrence (``<the``, ``>of``): what tells a team from a person
        and a noun from another without a tagger (distributional similarity)."""
        before = tokens[first - 1].lower() if first else "."
        after = tokens[end].lower() if end < len(tokens) else "."
        self.contexts[name].update((f"<{before}", f">{after}"))

    def _fill(self, pool: ArticlePool, context: str, tokens: Sequence[str]) -> None:
        for first, end in runs_at(tokens, self.common):
            if end - first > 1 or len(tokens[first]) > 1:
                pool.add(f"entity:{self.entity_kind(tokens, first, end)}",
                         " ".join(tokens[first:end]))
        for tok in tokens:
            kind = number_kind(tok)
            if kind in ("year", "numeral"):
                pool.add(kind, tok)
            elif kind == "number-word":
                pool.add(kind, tok.lower())
            elif tok.isalpha() and tok.islower() and tok in self.heads:
                pool.add("noun:plural" if plural(tok) else "noun:singular", tok)
        for start, end in sentence_spans(context):
            text = context[start:end]
            pool.sentences.append((text, content_words(text)))

    def _add_answer(self, pool: ArticlePool, question: str, answer: str) -> None:
        text = answer.strip().rstrip(".,;:")
        words = text.lower().split()
        if 0 < len(words) <= MAX_ANSWER_WORDS and not any(w in AUX or w in WH for w in words):
            last = words[-1]
            if words[0] == "to" or last.endswith("ly") or (
                    self.words.is_verb(last) and last not in self.words.nouns):
                return  # not a noun phrase (``lost``, ``to transmit``): no fake answer

            qtype, head = question_type(question), wh_head(question)
            pool.add(f"answer:{qtype}", text)
            if head:
                pool.add(f"answer:{qtype}:{head}", text)


def _vote(tokens: Sequence[str], first: int) -> str:
    prev = tokens[first - 1].lower() if first else ""
    return "the" if prev == "the" else "place" if prev in PLACE_PREPS else "name"


def _topic(title: str) -> frozenset[str]:
    return frozenset(w.lower() for w in re.split(r"[_\W]+", title) if w)
