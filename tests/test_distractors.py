"""Distractors: the declarative rules, the swaps (entities, numbers, a key noun, a fake answer
from another article), insertion at a sentence boundary with answers moved, and the mixes of
training data with hard negatives."""

from __future__ import annotations

import re

import pytest

from ids_extract.squad.declarative import Words, declarative, tokenize
from ids_extract.squad.distractors import DistractorMaker, question_type
from ids_extract.squad.model import QA, Answer, SquadDataset
from ids_extract.squad.stress import chosen, insert, mixed, stress_set
from ids_extract.squad.units import segment

from .conftest import people_dataset

WORDS = Words(nouns=frozenset({"treaty", "raiders", "capital", "army"}),
              verbs=frozenset({"invade", "sign", "lead"}))

@pytest.fixture(scope="module")
def people() -> SquadDataset:
    return people_dataset()


@pytest.mark.parametrize(("question", "expected"), [
    ("When did William invade England?", "William invaded England in 1905."),
    ("Who led the Norse raiders?", "Harald led the Norse raiders."),
    ("When was the treaty signed?", "The treaty was signed in 1905."),
    ("What is the capital of France?", "Harald is the capital of France."),
    ("The Normans were led by whom?", "The Normans were led by Harald."),
    ("In what year did the army invade Wales?", "The army invaded Wales in 1905."),
    ("Why did the army invade Wales?", "The army invaded Wales because of famine."),
])
def test_questions_become_declarative_sentences(question: str, expected: str) -> None:
    answer = {"when": "1905", "in": "1905", "why": "famine"}.get(question.split()[0].lower(),
                                                                  "Harald")
    assert declarative(question, answer, WORDS) == expected


def test_question_types_follow_the_wh_phrase() -> None:
    assert question_type("How many people live there?") == "quantity"
    assert question_type("In what year did it end?") == "time"
    assert question_type("Who wrote it?") == "person"
    assert question_type("Name the river.") == "other"


def test_entities_numbers_and_a_key_noun_are_swapped_from_other_articles(
        people: SquadDataset) -> None:
    maker = DistractorMaker(people, seed=3)
    article = people.articles[0]
    paragraph = article.paragraphs[0]
    made = maker.make(paragraph.qas[2], paragraph.context, article.title)  # what did Ada study …
    assert made is not None
    swapped = dict(made.swaps)
    assert set(swapped) == {"Ada Lovelace", "University of Oxford"}   # whole names, one each
    own = " ".join(p.context for p in article.paragraphs)
    elsewhere = " ".join(p.context for a in people.articles[1:] for p in a.paragraphs)
    for new in swapped.values():
        assert new in elsewhere and new not in own
    assert swapped["University of Oxford"].startswith("University of")  # a 3-word name
    assert "Ada" not in made.text and "Oxford" not in made.text
    assert made.text.endswith(".") and "?" not in made.text
    things = {qa.answers[0].text for a in people.articles[1:] for _, _, qa in
              SquadDataset("1.1", [a]).iter_qas() if question_type(qa.question) == "thing"}
    assert made.fake_answer in things                       # a 'what' answer of another article
    assert made.text.endswith(f"{made.fake_answer}.") and "mathematics" not in made.text
    assert made.text.startswith(swapped["Ada Lovelace"] + " studied at the University of")

    when = maker.make(paragraph.qas[0], paragraph.context, article.title)
    assert when is not None and "1815" not in when.text
    assert re.search(r"\bin (1[0-9]{3})\.$", when.text)            # a year from elsewhere
    assert when.fake_answer != "1815"


def test_same_seed_same_distractor_whatever_the_order(people: SquadDataset) -> None:
    a = DistractorMaker(people, seed=1)
    b = DistractorMaker(people, seed=1)
    items = list(people.iter_qas())
    first = [a.make(qa, p.context, art.title) for art, p, qa in items]
    second = [b.make(qa, p.context, art.title) for art, p, qa in reversed(items)][::-1]
    assert first == second
    assert DistractorMaker(people, seed=2).make(items[0][2], items[0][1].context,
                                                items[0][0].title) != first[0]


def test_insertion_at_a_boundary_moves_the_answers() -> None:
    context = "One sentence here. The answer is Rollo. Last one."
    qa = QA("q", "Who?", [Answer("Rollo", context.index("Rollo"))])
    from ids_extract.squad.distractors import Distractor

    d = Distractor("q", "Harald led the raiders.", "Harald", (("x", "y"),))
    for boundary in (0, context.index("The"), context.index("Last"), len(context)):
        new, moved, where = insert(context, qa, d, boundary)
        assert new[where.start:where.end] == d.text
        a = moved.answers[0]
        assert new[a.answer_start:a.end] == "Rollo"
        assert new.replace(d.text, "", 1).replace("  ", " ").strip() == context


def test_stress_set_puts_each_distractor_in_its_own_unit(people: SquadDataset) -> None:
    stress = stress_set(people, seed=0)
    assert stress.dataset.num_questions == people.num_questions
    assert stress.coverage > 0.8
    units = segment(stress.dataset, "eval")
    starts = {units.qas[q].id: units.spans[p] for q, p in enumerate(units.owner)}
    for _, p, qa in stress.dataset.iter_qas():
        for a in qa.answers:
            assert p.context[a.answer_start:a.end] == a.text
        where = stress.inserted.get(qa.id)
        if where is not None:
            assert p.context[where.start:where.end] == where.distractor.text
            assert any(s == where.start for s, _ in starts[qa.id])   # at a sentence boundary
    again = stress_set(people, seed=0)
    assert again.dataset == stress.dataset


def test_mixed_training_data_moves_the_chosen_questions_only(people: SquadDataset) -> None:
    stress = stress_set(people, seed=0)
    assert chosen(stress, 0.0) == set()
    everyone = chosen(stress, 1.0)
    assert everyone == set(stress.inserted)
    half = chosen(stress, 0.5, seed=4)
    data = mixed(people, stress, half)
    assert data.num_questions == people.num_questions
    contexts = {qa.id: p.context for _, p, qa in data.iter_qas()}
    originals = {qa.id: p.context for _, p, qa in people.iter_qas()}
    changed = {q for q in contexts if contexts[q] != originals[q]}
    assert changed == half and 0 < len(half) < len(everyone)


def test_tokens_keep_possessives_and_numbers_apart() -> None:
    assert tokenize("Beyoncé's 1,000 fans, U.S. tour?") == [
        "Beyoncé", "'s", "1,000", "fans", ",", "U.S", ".", "tour", "?"]
