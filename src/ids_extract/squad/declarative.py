"""A question turned into a declarative sentence that asserts an answer, by hand-written rules.

No parser or tagger can be loaded offline (spaCy models and NLTK data need a download), so this
works on word tokens with a few word lists and heuristics, in the spirit of the rules of Jia & Liang
(2017, "Adversarial Examples for Evaluating Reading Comprehension Systems", AddSent):

- a question that starts with a wh-phrase followed by ``did/does/do`` puts its subject first and
  inflects the verb (``When did William invade England?`` → ``William invaded England in X.``);
- followed by another auxiliary and a participle, the auxiliary moves after the subject
  (``When was the treaty signed?`` → ``The treaty was signed in X.``);
- otherwise the wh-phrase is the subject: ``Who led them?`` → ``X led them.``;
- a wh-word inside the question (``The Normans were led by whom?``) is replaced where it stands.

The answer goes ``in X`` for time and place, ``because of X`` for why, ``by X`` for how, in the
object position otherwise. An inverted question's subject is found by a heuristic (determiner,
capitals, lexicon nouns, ``of``, possessive): plausible sentences, not always grammatical ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


def word_list(text: str) -> tuple[str, ...]:
    """The words of a space-separated list (how the word lists here are written)."""
    return tuple(text.split())


TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\w+(?:[-.’']\w+)*|[^\w\s]")
WH = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
DO = ("did", "does", "do")
BE_DO = DO + ("is", "are", "was", "were")
RELATIVE = ("that", "which", "who", "whom", "whose")
NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "twenty", "hundred", "thousand", "million", "billion", "about", "over")
AUX = DO + ("is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would",
            "should", "may", "might", "must", "shall")
HOW_WITH = ("many", "much", "long", "old", "far", "large", "big", "tall", "often", "few",
            "high", "wide", "deep", "fast", "early", "late", "small")
PREPOSITIONS = ("in", "on", "at", "by", "for", "from", "to", "during", "of", "with", "after",
                "before", "since", "through", "under", "into", "about", "against", "among",
                "between", "within", "as", "upon", "over", "across", "around", "toward",
                "towards", "near", "like", "per", "via")
DETERMINERS = ("the", "a", "an", "its", "their", "his", "her", "this", "these", "those", "our",
               "my", "your", "that", "each", "every", "some", "any", "no")
TIME_NOUNS = ("year", "years", "century", "decade", "date", "day", "month", "time", "era",
              "period", "season", "age")
PLACE_NOUNS = ("city", "country", "state", "place", "location", "region", "town", "continent",
               "area", "nation", "province", "county")
#: irregular past tenses (a verb after ``did`` is in its base form)
PAST = dict(pair.split(":") for pair in word_list(
    "be:was become:became begin:began bring:brought build:built buy:bought choose:chose come:came "
    "do:did draw:drew drive:drove eat:ate fall:fell feel:felt fight:fought find:found fly:flew "
    "forget:forgot get:got give:gave go:went grow:grew have:had hear:heard hold:held keep:kept "
    "know:knew lead:led leave:left lend:lent lose:lost make:made mean:meant meet:met pay:paid put:put "
    "read:read ride:rode rise:rose run:ran say:said see:saw sell:sold send:sent set:set shoot:shot "
    "sing:sang sit:sat speak:spoke spend:spent stand:stood steal:stole take:took teach:taught "
    "tell:told think:thought throw:threw understand:understood win:won write:wrote wear:wore "
    "split:split cost:cost hit:hit let:let seek:sought strike:struck swim:swam bear:bore beat:beat "
    "bind:bound catch:caught dig:dug freeze:froze hang:hung hide:hid light:lit shake:shook "
    "shine:shone sink:sank spin:spun spread:spread sweep:swept tear:tore wake:woke withdraw:withdrew "
    "undergo:underwent overcome:overcame arise:arose feed:fed flee:fled forgive:forgave slay:slew "
    "shut:shut cut:cut quit:quit"))
PARTICIPLE_IRREGULAR = frozenset(
    word_list(
        "been done gone known seen taken given made born built held led found won lost written spoken "
        "chosen begun become brought bought caught fought thought taught told sold sent spent stood "
        "struck kept left meant met paid put read run said set shot sung sat grown drawn driven "
        "fallen felt flown forgotten gotten got heard hidden hung laid lain lit ridden risen shaken "
        "shone sunk spun spread stolen sworn swept torn thrown understood woken worn withdrawn "
        "undergone overcome arisen fed fled forgiven slain shut cut quit called named located"))



@dataclass(frozen=True)
class Words:
    """What the rules know of the vocabulary, learnt from the data (see
    :class:`~ids_extract.squad.distractors.DistractorMaker`): ``nouns`` (words used after a
    determiner) and ``verbs`` (words the data also uses with a past-tense ending)."""

    nouns: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()

    def is_noun(self, word: str) -> bool:
        return word.lower() in self.nouns

    def is_verb(self, word: str) -> bool:
        """A base, past or third-person form of a verb the data or :data:`PAST` knows."""
        low = word.lower()
        bases = (low, low[:-1] if low.endswith("s") else "", low[:-2] if low.endswith("es") else "",
                 low[:-3] + "y" if low.endswith("ies") else "")
        return word[:1].islower() and (any(b in self.verbs or b in PAST for b in bases if b)
                                       or low in PAST.values() or _participle(word))


def token_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the word, number and punctuation tokens; a possessive ``'s`` is its
    own token (so a name before it is found whole)."""
    out: list[tuple[int, int]] = []
    for m in TOKEN.finditer(text):
        start, end = m.span()
        if end - start > 2 and text[end - 2:end].lower() in ("'s", "’s"):
            out += [(start, end - 2), (end - 2, end)]
        else:
            out.append((start, end))
    return out


def tokenize(text: str) -> list[str]:
    """Word, number and punctuation tokens; a possessive ``'s`` is its own token."""
    return [text[s:e] for s, e in token_spans(text)]


def detokenize(tokens: Sequence[str]) -> str:
    """Tokens joined by spaces, without the spaces English puts nowhere (before ``,`` or ``'s``,
    inside brackets and quotes)."""
    text = ""
    opened = False
    for tok in tokens:
        glue = not text or text.endswith(("(", "[", "$", "“")) or text.endswith('"') and opened
        if tok == '"':
            glue, opened = glue or opened, not opened
        text += tok if glue or tok == "”" else " " + tok
    text = re.sub(r"\s+([.,;:!?%)\]])", r"\1", text)
    text = re.sub(r"([(\[$])\s+", r"\1", text)
    return re.sub(r"\s+(['’]s)\b", r"\1", text)


def declarative(question: str, answer: str, words: Words) -> str:
    """``question`` restated as a sentence that gives ``answer`` (see the module doc); ends with
    a full stop and starts with a capital letter. Where the rules do not apply, the question's
    words and the answer joined by a dash (:func:`restate` says None there)."""
    made = restate(question, answer, words)
    if made is not None:
        return made
    return _sentence([t for t in tokenize(question) if t not in ("?", "¿")] + ["—", answer])


def restate(question: str, answer: str, words: Words) -> str | None:
    """``question`` restated as a sentence that gives ``answer``, or None where the rules are
    unsure (no wh-word, an inverted question whose verb or subject is not found)."""
    tokens = [t for t in tokenize(question) if t not in ("?", "¿")]
    lower = [t.lower() for t in tokens]
    found = _wh_start(lower)
    said = tokenize(answer)
    if found is None:
        inside = next((i for i in range(len(lower) - 1, 0, -1) if lower[i] in WH), None)
        if inside is None:
            return None
        end = _wh_end(tokens, inside, words)
        if end < len(tokens) and lower[end] not in PREPOSITIONS + (",", ";"):
            return None  # "how the Amazon changed …": a clause, not a slot for the answer
        return _sentence(tokens[:inside] + _answer_phrase(tokens[inside:end], said)
                         + tokens[end:])
    cut, start = found
    front, prep = tokens[:cut], tokens[cut:start]
    if front and front[-1] != ",":
        front = front + [","]
    end = _wh_end(tokens, start, words)
    rest = tokens[end:]
    phrase = _answer_phrase(tokens[start:end], said)
    slot = _slot(lower[start:end], prep)
    predicate = lower[start] == "how" and end - start == 2 and lower[start + 1] in HOW_WITH
    if len(rest) > 1 and rest[0].lower() in AUX and rest[1].lower() not in ("not", "n't"):
        inverted = _inverted(rest, words, subject_question=not prep and slot == "object"
                             and not predicate, adverbial=slot != "object")
        if inverted is not None:
            return _sentence(front + _place(*inverted, slot, prep, phrase))
        if rest[0].lower() in DO:
            return None
    if prep:
        return None  # "In what year the war ended": not a question the rules know
    return _sentence(front + phrase + rest)   # the wh-phrase is the subject: the answer takes its place


def wh_phrase(tokens: Sequence[str], words: Words) -> range:
    """Token positions of the leading wh-phrase (with its preposition and what comes before it),
    empty when the question does not start with one: the words a distractor keeps as they are."""
    found = _wh_start([t.lower() for t in tokens])
    return range(0) if found is None else range(found[0], _wh_end(tokens, found[1], words))


def _wh_start(lower: Sequence[str]) -> tuple[int, int] | None:
    """``(cut, wh)`` when the question starts with its wh-word: ``wh`` its index, ``cut`` where
    its preposition starts (``In what year``), after a fronted phrase (``In 1517 who``,
    ``In South Africa, along with X, what``) when there is one."""
    wh = next((i for i, t in enumerate(lower[:12]) if t in WH), None)
    if wh is None:
        return None
    if wh == 0:
        return 0, 0
    if wh == 1 and lower[0] in PREPOSITIONS:
        return 0, 1
    comma = lower[wh - 1] == "," or (wh > 2 and lower[wh - 1] in PREPOSITIONS
                                     and lower[wh - 2] == ",")
    if comma or (lower[0] in PREPOSITIONS and wh <= 4 and lower[wh - 1] not in PREPOSITIONS
                 and not any(t in AUX for t in lower[:wh])):
        return (wh - 1 if lower[wh - 1] in PREPOSITIONS else wh), wh
    return None


def _answer_phrase(phrase: Sequence[str], said: list[str]) -> list[str]:
    """What stands for the wh-phrase: the answer, with the counted noun of ``how many``/``how
    much`` after it when the answer is a bare number (``how many people`` → ``300 people``)."""
    low = [t.lower() for t in phrase]
    bare = all(t[:1].isdigit() or t.lower() in NUMBERS or t in ",." for t in said)
    if len(low) > 2 and low[0] == "how" and low[1] in ("many", "much") and bare:
        return said + list(phrase[2:])
    return said


def _wh_end(tokens: Sequence[str], wh: int, words: Words) -> int:
    """End of the wh-phrase: ``how many people``, ``what type of music``, ``which country``:
    up to four words after the wh-word, stopping at an auxiliary or a verb."""
    lower = [t.lower() for t in tokens]
    end = wh + 1
    if lower[wh] == "how":
        if end >= len(lower) or lower[end] not in HOW_WITH:
            return end
        end += 1
        if lower[end - 1] not in ("many", "much"):
            return end
    elif lower[wh] not in ("what", "which", "whose"):
        return end
    if end < len(lower) and _head_noun(tokens[end]):
        end += 1  # "what date", "how many lines": the word after names the kind, verb or not
    while end < len(lower) and end - wh <= 4 and lower[end] not in AUX and not words.is_verb(
            tokens[end]) and (lower[end] != "of" or end + 1 < len(lower)) and (
            lower[end] not in PREPOSITIONS or lower[end] == "of") and (
            lower[end] not in DETERMINERS or lower[end - 1] == "of"):
        end += 1
    return end


def _head_noun(word: str) -> bool:
    """The word right after ``what``/``which``: a noun unless it is an auxiliary, a
    determiner, a preposition or a verb form (``-ed``, an irregular past, ``-s`` after a
    lower-case stem is ambiguous and stays a noun)."""
    low = word.lower()
    return not (low in AUX or low in DETERMINERS or low in PREPOSITIONS or low.endswith("ed")
                or low in PAST.values())


def _slot(phrase: Sequence[str], prep: Sequence[str]) -> str:
    """Where the answer goes: ``time``, ``place``, ``why``, ``how`` or ``object``."""
    head = phrase[0]
    if head == "when" or any(p in TIME_NOUNS for p in phrase[1:]):
        return "time"
    if head == "where" or any(p in PLACE_NOUNS for p in phrase[1:]) and prep:
        return "place"
    if head == "why":
        return "why"
    if head == "how" and len(phrase) == 1:
        return "how"
    return "object"


Clause = tuple[list[str], int, bool]


def _inverted(rest: Sequence[str], words: Words, subject_question: bool,
              adverbial: bool) -> Clause | None:
    """``aux subject verb …`` → ``subject verb …`` (``did`` folded into the verb's tense), with
    the index of the verb and whether the auxiliary is a bare *be* (``Newton was …``); None
    when the question is not inverted (the wh-phrase was the subject) or its verb is not found.
    A participle is looked for before any relative pronoun or auxiliary (``When was the
    construction that changed …``: none); with none, a bare *be* asked about time, place or
    reason has all the rest as its subject (``The construction that changed … was in X``)."""
    aux, body = rest[0].lower(), list(rest[1:])
    if aux in DO:
        verb = _main_verb(body, words)
        if verb is None:
            return None
        return body[:verb] + [_inflect(body[verb], aux)] + body[verb + 1:], verb, False
    stop = next((i for i, t in enumerate(body) if t.lower() in RELATIVE + AUX), len(body))
    participle = next((i for i in range(1, stop) if _participle(body[i])
                       and body[i - 1].lower() not in DETERMINERS), None)
    if participle is None and stop < len(body) - 1 and _participle(body[-1]):
        participle = len(body) - 1   # "the treaty that changed the army signed"
    if participle is not None:
        return body[:participle] + [aux] + body[participle:], participle + 1, False
    if adverbial and aux in BE_DO[3:]:
        return body + [aux], len(body) + 1, False
    if subject_question and aux in BE_DO:
        return None  # "What is the capital of France?": the wh-phrase is the subject
    cut = _subject_end(body, words)
    if not cut:
        return None
    return body[:cut] + [aux] + body[cut:], cut + (0 if aux in BE_DO else 1), aux in BE_DO


def _main_verb(body: Sequence[str], words: Words) -> int | None:
    """The verb after ``did`` and its subject: the first word the data knows as a verb that no
    determiner comes before, or the next one when a verb in its base form follows it (``did the
    biplane design have``: ``have``)."""
    verb = next((i for i in range(1, len(body)) if words.is_verb(body[i])
                 and body[i - 1].lower() not in DETERMINERS), None)
    if verb is not None and verb + 1 < len(body):
        after = body[verb + 1]
        low = after.lower()
        if after.isalpha() and after.islower() and (low in PAST or low in words.verbs) and (
                low not in AUX + DETERMINERS + PREPOSITIONS + WH + RELATIVE or low in DO + (
                    "have",)):
            return verb + 1
    return verb


def _subject_end(body: Sequence[str], words: Words) -> int:
    """Length of the noun phrase at the start of ``body``: determiners, capitalised words,
    nouns, numbers, possessives, and ``of``/``and`` between them (``the first Norman king's``)."""
    i = 0
    while i < len(body):
        word, low = body[i], body[i].lower()
        after_det = i > 0 and body[i - 1].lower() in DETERMINERS and _head_noun(word)
        noun_like = (low in DETERMINERS or word[:1].isupper() or word[:1].isdigit() or after_det
                     or low in ("'s", "’s") or words.is_noun(word) and not words.is_verb(word))
        joins = low in ("of", "and", "-") and 0 < i < len(body) - 1
        if not (noun_like or joins):
            break
        i += 1
    return i


def _participle(word: str) -> bool:
    low = word.lower()
    return (word[:1].islower() and (low.endswith("ed") or low.endswith("en"))
            and len(low) > 3) or low in PARTICIPLE_IRREGULAR


def _inflect(verb: str, aux: str) -> str:
    """The verb after ``did`` in the past tense, after ``does`` in the third person."""
    low = verb.lower()
    if aux == "do" or not low.isalpha():
        return verb
    if aux == "did":
        if low in PAST:
            return PAST[low]
        if low.endswith("e"):
            return low + "d"
        if re.fullmatch(r"[^aeiou]*[aeiou][^aeiouwxy]", low):
            return low + low[-1] + "ed"   # one syllable, one vowel: stop → stopped
        if low.endswith("y") and low[-2:-1] not in "aeiou":
            return low[:-1] + "ied"
        return low + "ed"
    if low == "have":
        return "has"
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return low + "es"
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return low[:-1] + "ies"
    return low + "s"


def _place(clause: list[str], verb: int, bare_be: bool, slot: str, prep: Sequence[str],
           answer: list[str]) -> list[str]:
    """The answer put in the restated clause: after ``in`` for time and place (or the question's
    own preposition), ``because of`` for why, ``by`` for how; an object after its verb (see
    :func:`_object_at`)."""
    if slot in ("time", "place"):
        return clause + [prep[0].lower() if prep else "in"] + answer
    if slot == "why":
        return clause + ["because", "of"] + answer
    if slot == "how":
        return clause + ["by"] + answer
    if prep:
        return clause + [p.lower() for p in prep] + answer
    at = verb + 1 if bare_be else _object_at(clause, verb)
    return clause[:at] + answer + clause[at:]


def _object_at(clause: Sequence[str], verb: int) -> int:
    """Where the object of ``clause[verb]`` goes: at the end after a stranded preposition
    (``depend on``, ``lead Wales against``), before the last of two or more prepositions (``held at | for``,
    ``referred to as | after``), right after the verb before one (``prevent | from going``),
    after the noun phrase that follows the verb otherwise (``call his device | in 1900``)."""
    if clause[-1].lower() in PREPOSITIONS:
        return len(clause)
    j = verb + 1
    while j < len(clause) and clause[j].lower() in PREPOSITIONS:
        j += 1
    if j == len(clause):
        return j
    if j - verb - 1 >= 2:
        return j - 1
    if j - verb - 1 == 1:
        return verb + 1
    return verb + 1 + _subject_end(clause[verb + 1:], Words())


def _sentence(words: Sequence[str]) -> str:
    text = detokenize(words).strip(" ,;:")
    return capitalised(text).rstrip(".") + "."


def capitalised(text: str) -> str:
    """``text`` with its first letter upper-case (after an opening quote or bracket)."""
    at = next((i for i, c in enumerate(text) if c.isalnum()), 0)
    return text[:at] + text[at:at + 1].upper() + text[at + 1:]
