"""Distractor sentences that read like text and stay on topic: a sentence that looks like the
question's evidence but answers a different question (Jia & Liang 2017's AddSent, rebuilt from
heuristics, since no parser, tagger or NER model loads offline).

Two kinds, both built from the question's own article (:mod:`.lexicon`: same article first,
other articles only when it has nothing of the kind):

- ``question`` (the default): the question's named entities and numbers (one or two of them;
  its key noun when it has none) swapped for others of the same kind, a fake answer of the
  question's type put in, and the question restated as a declarative sentence by rule
  (:mod:`.declarative`: ``Who is the quarterback for the Carolina Panthers?`` → ``Peyton Manning
  is the quarterback for the Denver Broncos.``). Where the rules are unsure or the result
  :func:`looks_broken`, the article sentence that shares the most words with the
  question is perturbed instead: the gold answer in it replaced by the fake one, and one or two
  of the question's entities, numbers or its key noun in it swapped (``form="sentence"``);
- ``answer-sentence``: the sentence that holds the answer, with the answer span replaced by the
  fake answer and one key entity (one the question names, when it has one) swapped.

``mixed`` draws one of the two per question. The fake answer is a gold answer of another question
of the article with the same wh-phrase noun (``what team``) or type (who, when, where, how many,
…), else a candidate of that type from its text (a year for *when*, a number for *how many*, a
place-like or person-like name), else the same from another article, else (for *when* and *how
many*) a number near the gold one; never one of the question's own answers. A distractor that
would still contain a gold answer is redrawn (3 tries) or dropped. Everything is drawn from a
seeded generator per question (``seed`` and the question id), so a stress set is the same in
every run and whatever the order of the questions.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .declarative import (
    AUX,
    BE_DO,
    DETERMINERS,
    PREPOSITIONS,
    WH,
    capitalised,
    restate,
    token_spans,
    tokenize,
    wh_phrase,
)
from .lexicon import (
    MONTHS,
    ORDINALS,
    STOPWORDS,
    TYPED,
    WEEKDAYS,
    YEAR,
    ArticlePool,
    Lexicon,
    content_words,
    number_kind,
    plural,
    question_type,
    runs_at,
    sentence_spans,
    wh_head,
)
from .model import QA, SquadDataset

__all__ = ["KINDS", "Distractor", "DistractorMaker", "question_type"]
KINDS = ("question", "answer-sentence", "mixed")
Span = tuple[int, int]
MAX_SENTENCE_WORDS = 45
FIXED = {"ordinal": ORDINALS, "month": MONTHS, "weekday": WEEKDAYS}


@dataclass(frozen=True)
class Distractor:
    """One question's distractor sentence, its fake answer, the swaps made (``(original,
    replacement)``), its ``kind`` (``question`` or ``answer-sentence``) and ``form`` (``rules``:
    the question restated; ``sentence``: an article sentence perturbed)."""

    qid: str
    text: str
    fake_answer: str
    swaps: tuple[tuple[str, str], ...]
    kind: str = "question"
    form: str = "rules"


@dataclass(frozen=True)
class Slot:
    """Something a swap can replace: ``text[start:end]``, of a :class:`~.lexicon.ArticlePool`
    kind (``entity:the2``, ``year``, ``noun:plural``, …)."""

    start: int
    end: int
    text: str
    kind: str


class DistractorMaker:
    """The vocabulary of ``source`` (any SQuAD data: the training file for hard negatives, dev
    for the stress set) and :meth:`make` per question, of ``kind`` (see the module doc)."""

    def __init__(self, source: SquadDataset, seed: int = 0, kind: str = "question") -> None:
        if kind not in KINDS:
            raise ValueError(f"distractor kind {kind!r}: give one of {', '.join(KINDS)}")
        self.seed, self.kind = seed, kind
        self.lexicon = Lexicon(source)
        self.words = self.lexicon.words

    def kind_of(self, qid: str) -> str:
        """The kind of question ``qid``'s distractor (drawn per question under ``mixed``)."""
        if self.kind != "mixed":
            return self.kind
        draw = random.Random(f"{self.seed}:{qid}:kind").random()
        return "question" if draw < 0.5 else "answer-sentence"

    def make(self, qa: QA, context: str, title: str) -> Distractor | None:
        """The distractor of one question, or None when nothing in it can be swapped, or every
        try (three) would leave a gold answer in the sentence."""
        rng = random.Random(f"{self.seed}:{qa.id}")
        gold = [a.text.strip().lower() for a in qa.answers if a.text.strip()]
        pool = self.lexicon.article(title, context)
        build = self._restated if self.kind_of(qa.id) == "question" else self._answer_sentence
        for _ in range(3):
            made = build(qa, context, pool, gold, rng)
            if made is not None and not any(_contains(made.text.lower(), g) for g in gold):
                return made
        return None

    def _restated(self, qa: QA, context: str, pool: ArticlePool, gold: list[str],
                  rng: random.Random) -> Distractor | None:
        """The question with its entities swapped, restated with a fake answer; the perturbed
        article sentence where the rules fail."""
        question = qa.question
        fake = self._fake(question, gold, pool, rng, question)
        if fake is None:
            return None
        spans = token_spans(question)
        kept = wh_phrase([question[s:e] for s, e in spans], self.words)
        keep = [(spans[kept.start][0], spans[kept.stop - 1][1])] if kept else []
        swapped, swaps = self._swap(question, pool, gold, rng, keep, fake)
        if swaps:
            text = restate(swapped, fake, self.words)
            if text is not None and not looks_broken(text, question):
                return Distractor(qa.id, text, fake, swaps)
        return self._perturbed(qa, pool, gold, fake, rng)

    def _perturbed(self, qa: QA, pool: ArticlePool, gold: list[str], fake: str,
                   rng: random.Random) -> Distractor | None:
        """The article sentence sharing the most words with the question (two at least), its
        gold answer replaced by ``fake`` and one or two of the question's entities, numbers or
        its key noun swapped (others of the sentence where it held the answer and none of the
        question's can be swapped): the question's kind made from the article's own grammar."""
        asked = content_words(qa.question)
        best, shared = "", 1
        for text, words in pool.sentences:
            if len(words & asked) > shared and len(text.split()) <= MAX_SENTENCE_WORDS:
                best, shared = text, len(words & asked)
        if not best:
            return None
        if _contains(best.lower(), fake.lower()):
            fake = self._fake(qa.question, gold, pool, rng, f"{qa.question} {best}") or ""
        text, taken = _replace_all(best, gold, fake) if fake else (best, [])
        swapped, swaps = self._swap(text, pool, gold, rng, taken, fake, prefer=asked,
                                    shared_only=not taken)
        if not swaps:
            return None
        return Distractor(qa.id, _as_sentence(swapped), fake if taken else "", swaps,
                          "question", "sentence")

    def _answer_sentence(self, qa: QA, context: str, pool: ArticlePool, gold: list[str],
                         rng: random.Random) -> Distractor | None:
        """The sentence holding the first answer, its answer span replaced by a fake answer and
        one key entity swapped (one the question names, when it has one)."""
        if not qa.answers:
            return None
        answer = qa.answers[0]
        start, end = next(((s, e) for s, e in sentence_spans(context)
                           if s <= answer.answer_start < e), (0, len(context)))
        end = max(end, answer.end)
        sentence = context[start:end]
        fake = self._fake(qa.question, gold, pool, rng, sentence)
        if fake is None:
            return None
        at = answer.answer_start - start
        text = sentence[:at] + fake + sentence[at + len(answer.text):]
        text, taken = _replace_all(text, gold, fake)
        taken.append((at, at + len(fake)))
        swapped, swaps = self._swap(text, pool, gold, rng, taken, fake,
                                    prefer=content_words(qa.question), limit=1, shared_only=False)
        if not swaps:
            return None
        return Distractor(qa.id, _as_sentence(swapped), fake, ((answer.text, fake), *swaps),
                          "answer-sentence", "sentence")

    def _swap(self, text: str, pool: ArticlePool, gold: Sequence[str], rng: random.Random,
              keep: Sequence[Span], fake: str, prefer: frozenset[str] | None = None,
              limit: int = 2, shared_only: bool = True) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Up to ``limit`` entities or numbers of ``text`` outside ``keep`` swapped for others of
        their kind; with ``prefer``, those whose words the question has come first (and, with
        ``shared_only``, are the only ones). In this order: the question's entities and numbers
        off the article's topic (not in its title), its key noun, its entities on the topic,
        then (unless ``shared_only``) the others."""
        slots = self._slots(text, keep)
        key = self._key_noun(text, keep, prefer)
        for tier in _tiers(slots, key, pool, prefer, shared_only):
            done: list[tuple[Slot, str]] = []
            for slot in sorted(rng.sample(tier, min(limit, len(tier))), key=lambda s: s.start):
                taken = " ".join([fake] + [new for _, new in done])
                new = self._replacement(slot, text, pool, gold, taken, rng)
                if new is not None:
                    done.append((slot, new))
            if done:
                return _apply(text, done), tuple((slot.text, new) for slot, new in done)
        return text, ()

    def _slots(self, text: str, keep: Sequence[Span]) -> list[Slot]:
        """The entity runs and numbers of ``text`` (see :mod:`.lexicon`) outside ``keep``; a
        number right after a name is part of it (``Super Bowl 50``) and no slot."""
        spans = token_spans(text)
        tokens = [text[s:e] for s, e in spans]
        out: list[Slot] = []
        inside: set[int] = set()
        for first, end in runs_at(tokens, self.lexicon.common):
            kind = self.lexicon.entity_kind(tokens, first, end)
            out.append(Slot(spans[first][0], spans[end - 1][1],
                            text[spans[first][0]:spans[end - 1][1]], f"entity:{kind}"))
            inside.update(range(first, end + 1))
        for i, (s, e) in enumerate(spans):
            number = number_kind(tokens[i]) if i not in inside else None
            if number is not None:
                out.append(Slot(s, e, tokens[i], number))
        return [s for s in out if not _overlaps(s, keep)]

    def _key_noun(self, text: str, keep: Sequence[Span],
                  prefer: frozenset[str] | None) -> list[Slot]:
        """The rarest noun of the lexicon in ``text`` outside ``keep`` (the question's, with
        ``prefer``; not one the data also uses as a verb unless a determiner comes before it),
        else the rarest other content word: the most specific word tying it to the evidence."""
        spans = token_spans(text)
        lexical: list[Slot] = []
        other: list[Slot] = []
        for i, (s, e) in enumerate(spans):
            word = text[s:e]
            if not (word.isalpha() and word.islower()) or prefer is not None and word not in prefer:
                continue
            slot = Slot(s, e, word, "noun:plural" if plural(word) else "noun:singular")
            after_det = i > 0 and text[spans[i - 1][0]:spans[i - 1][1]].lower() in DETERMINERS
            if _overlaps(slot, keep) or self.words.is_verb(word) and not after_det:
                continue
            if word in self.lexicon.heads:
                lexical.append(slot)
            elif len(word) > 3 and word not in STOPWORDS and not word.endswith("ly"):
                other.append(slot)
        found = lexical or other
        return [min(found, key=lambda s: (self.lexicon.counts[s.text], s.start))] if found else []

    def _replacement(self, slot: Slot, text: str, pool: ArticlePool, gold: Sequence[str],
                     fake: str, rng: random.Random) -> str | None:
        """Another item of ``slot``'s kind, own article first, that is not in ``text``, not in
        ``fake`` (the fake answer and the swaps made) and neither holds nor is held by a gold
        answer or the original."""
        seen = f"{text.lower()} {fake.lower()}"
        old = slot.text.lower()

        def ok(item: str) -> bool:
            low = item.lower()
            return (not _contains(seen, low) and low not in old and old not in low
                    and not any(_near(low, g) for g in gold))
        if slot.kind in FIXED:
            options = [w for w in FIXED[slot.kind] if ok(w)]
            new = rng.choice(options) if options else None
        else:
            new = self.lexicon.draw(slot.kind, pool, rng, ok, like=slot.text)
        if new is not None and slot.text[:1].isupper() and not new[:1].isupper():
            new = new[:1].upper() + new[1:]
        return new

    def _fake(self, question: str, gold: Sequence[str], pool: ArticlePool, rng: random.Random,
              seen: str) -> str | None:
        """A fake answer of the question's type (see the module doc), not in ``seen``."""
        qtype, head = question_type(question), wh_head(question)
        kinds = ([f"answer:{qtype}:{head}"] if head else []) + [f"answer:{qtype}",
                                                                *TYPED.get(qtype, ())]
        low = seen.lower()

        def ok(item: str) -> bool:
            return not _contains(low, item.lower()) and not any(_near(item.lower(), g)
                                                                for g in gold)
        for elsewhere in (False, True):
            for kind in kinds:
                fake = self.lexicon.draw(kind, pool, rng, ok, elsewhere)
                if fake is not None:
                    return fake
        made = _other_number(gold, rng) if qtype in ("time", "quantity") else None
        return made if made is not None and ok(made) else None


def looks_broken(text: str, question: str) -> bool:
    """Signs that the sentence rules went wrong on ``question``: a word said twice in a row, a
    wh-word left, an auxiliary then a form of *be*/*do*, fewer than four words, or a
    preposition, determiner or auxiliary last."""
    said = [t.lower() for t in tokenize(text) if t[:1].isalnum()]
    asked = [t.lower() for t in tokenize(question)]
    pairs = list(zip(said, said[1:], strict=False))
    return (len(said) < 4 or any(a == b and a.isalpha() for a, b in pairs)
            or sum(t in WH for t in said) >= max(sum(t in WH for t in asked), 1)
            or any(a in AUX and b in BE_DO for a, b in pairs)
            or said[-1] in PREPOSITIONS + DETERMINERS + AUX)


def _other_number(gold: Sequence[str], rng: random.Random) -> str | None:
    """A number near the gold answer's first number, when no data has one of the question's
    type: a year moved by 2 to 40 years, another number scaled (and written alike, with its
    thousands commas)."""
    found = next((m for g in gold if (m := re.search(r"\d[\d,]*(?:\.\d+)?", g))), None)
    if found is None:
        return None
    number = found.group()
    if YEAR.match(number):
        return str(int(number) + rng.choice((-1, 1)) * rng.randint(2, 40))
    value = float(number.replace(",", "")) * rng.choice((0.25, 0.5, 1.5, 2.0, 3.0))
    text = f"{value:,.0f}" if "," in number else f"{value:.0f}" if "." not in number else f"{value:.1f}"
    return text if text != number else None


def _tiers(slots: Sequence[Slot], key: list[Slot], pool: ArticlePool,
           prefer: frozenset[str] | None, shared_only: bool) -> list[list[Slot]]:
    """Slots in the order they are tried (see :meth:`DistractorMaker._swap`), empty ones left
    out."""
    def on_topic(slot: Slot) -> bool:
        return bool({w.lower() for w in slot.text.split()} & pool.topic)

    def shared(slot: Slot) -> bool:
        return prefer is None or bool({w.lower() for w in slot.text.split()} & prefer)
    tiers = [[s for s in slots if shared(s) and not on_topic(s)], key,
             [s for s in slots if shared(s) and on_topic(s)]]
    if not shared_only:
        tiers += [[s for s in slots if not shared(s) and not on_topic(s)],
                  [s for s in slots if not shared(s) and on_topic(s)]]
    return [tier for tier in tiers if tier]


def _apply(text: str, swaps: Sequence[tuple[Slot, str]]) -> str:
    """``text`` with each slot replaced (``a`` before a vowel made ``an``, and back)."""
    for slot, new in sorted(swaps, key=lambda pair: -pair[0].start):
        head = text[:slot.start]
        article = re.search(r"\b([Aa]n?) $", head)
        if article:
            want = "an" if new[:1].lower() in "aeiou" else "a"
            word = want if article.group(1).islower() else want.capitalize()
            head = head[:article.start(1)] + word + " "
        text = head + new + text[slot.end:]
    return text


def _replace_all(text: str, gold: Sequence[str], fake: str) -> tuple[str, list[Span]]:
    """``text`` with every occurrence of a gold answer (whole words, any case) replaced by
    ``fake``, and where ``fake`` now stands."""
    hits: list[Span] = []
    for g in sorted(gold, key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(g)}(?!\w)", text, re.IGNORECASE):
            if not _overlaps(Slot(m.start(), m.end(), "", ""), hits):
                hits.append(m.span())
    out, taken, shift = text, [], 0
    for s, e in sorted(hits):
        out = out[:s + shift] + fake + out[e + shift:]
        taken.append((s + shift, s + shift + len(fake)))
        shift += len(fake) - (e - s)
    return out, taken


def _as_sentence(text: str) -> str:
    """One line, a capital first, a full stop (or the sentence's own ``!``/``?``) last."""
    text = capitalised(" ".join(text.split()))
    return text if re.search(r"[.!?][\"”')\]]*$", text) else text.rstrip(",;:") + "."


def _overlaps(slot: Slot, spans: Sequence[Span]) -> bool:
    return any(slot.start < e and s < slot.end for s, e in spans)


def _near(item: str, gold: str) -> bool:
    """``item`` is ``gold``, holds it or is held by it (whole words)."""
    return item == gold or _contains(item, gold) or _contains(gold, item)


def _contains(text: str, part: str) -> bool:
    """``part`` occurs in ``text`` as whole words."""
    return part in text and re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text) is not None

