"""Distractors: the declarative rules, the swaps (entities, numbers, a key noun, a fake answer
of the right type, from the question's own article first), the answer-sentence kind, insertion
at a sentence boundary with answers moved, and the mixes of training data with hard negatives."""

from __future__ import annotations

import re

import pytest

from ids_extract.squad.declarative import Words, declarative, restate, tokenize
from ids_extract.squad.distractors import DistractorMaker, looks_broken, question_type
from ids_extract.squad.model import QA, Answer, Article, Paragraph, SquadDataset
from ids_extract.squad.stress import chosen, insert, mixed, stress_set
from ids_extract.squad.units import squad_units

from .conftest import people_dataset

WORDS = Words(nouns=frozenset({"treaty", "raiders", "capital", "army"}),
              verbs=frozenset({"invade", "sign", "lead", "change", "kill", "refer", "stop"}))


@pytest.fixture(scope="module")
def people() -> SquadDataset:
    return people_dataset()


LEAGUE = [
    ("Football_League", [
        ("The Denver Broncos beat the Carolina Panthers in 2016. Peyton Manning was the "
         "quarterback for the Denver Broncos. Cam Newton was the quarterback for the Carolina "
         "Panthers. The game was played in Santa Clara.",
         [("Who is the quarterback for the Carolina Panthers?", "Cam Newton"),
          ("In what year did the Denver Broncos beat the Carolina Panthers?", "2016"),
          ("Where was the game played?", "Santa Clara")]),
        ("The Seattle Seahawks won the title in 2014. Russell Wilson was the quarterback for "
         "the Seattle Seahawks. The final was played in Glendale in front of 70,000 fans.",
         [("How many fans watched the final in Glendale?", "70,000"),
          ("Who was the quarterback for the Seattle Seahawks?", "Russell Wilson")])]),
    ("Rhine", [
        ("The Rhine flows through Basel and Cologne. In 1815 the Congress of Vienna fixed its "
         "course. Johann Tulla straightened the Rhine in 1817. Friedrich Engels was born in "
         "Barmen.",
         [("Who straightened the Rhine?", "Johann Tulla"),
          ("When did the Congress of Vienna fix the course of the Rhine?", "1815")])])]


def league_dataset() -> SquadDataset:
    """Two articles: one with several teams, players, years and places to swap among."""
    articles = []
    for title, paragraphs in LEAGUE:
        made = []
        for p, (context, qas) in enumerate(paragraphs):
            made.append(Paragraph(context, [
                QA(f"{title}-{p}-{q}", question, [Answer(answer, context.index(answer))])
                for q, (question, answer) in enumerate(qas)]))
        articles.append(Article(title, made))
    return SquadDataset("1.1", articles, source="league.json")


@pytest.fixture(scope="module")
def league() -> SquadDataset:
    return league_dataset()


@pytest.mark.parametrize(("question", "expected"), [
    ("When did William invade England?", "William invaded England in 1905."),
    ("Who led the Norse raiders?", "Harald led the Norse raiders."),
    ("When was the treaty signed?", "The treaty was signed in 1905."),
    ("What is the capital of France?", "Harald is the capital of France."),
    ("The Normans were led by whom?", "The Normans were led by Harald."),
    ("In what year did the army invade Wales?", "The army invaded Wales in 1905."),
    ("Why did the army invade Wales?", "The army invaded Wales because of famine."),
    ("How old was Newton during the final?", "Newton was 26 during the final."),
    ("How many raiders were killed in Wales?", "26 raiders were killed in Wales."),
    ("In 1517 who was Luther's bishop?", "In 1517, Harald was Luther's bishop."),
    ("When was the treaty that changed the army signed?",
     "The treaty that changed the army was signed in 1905."),
    ("When was the army that invaded Wales?", "The army that invaded Wales was in 1905."),
    ("What did the army invade in 1066?", "The army invaded Harald in 1066."),
    ("What did the army lead Wales against?", "The army led Wales against Harald."),
    ("What quantities do not have direction?", "Harald do not have direction."),
    ("When did the army stop the raiders?", "The army stopped the raiders in 1905."),
    ("Which article was published in 1937?", "\"Harald\" was published in 1937."),
    ("What was the army referred to as after the war?",
     "The army was referred to as Harald after the war."),
])
def test_questions_become_declarative_sentences(question: str, expected: str) -> None:
    first = " ".join(question.split()[:2]).lower()
    answer = {"when": "1905", "in what": "1905", "why": "famine", "how": "26",
              "which article": "\"harald\""}.get(
        first, {"when": "1905", "why": "famine", "how": "26"}.get(first.split()[0], "Harald"))
    assert declarative(question, answer, WORDS) == expected


def test_the_rules_say_when_they_are_unsure() -> None:
    assert restate("Name the river.", "Rhine", WORDS) is None       # no wh-word
    assert restate("Scientists disagree with how the forest changed by 1900?", "X",
                   WORDS) is None                                  # a clause, not a slot
    assert looks_broken("The the army invaded Wales.", "Who invaded Wales?")
    assert looks_broken("What army invaded Wales.", "What army invaded Wales?")
    assert looks_broken("The army has was invaded.", "Who invaded the army?")
    assert not looks_broken("The army invaded Wales in 1905.", "When did the army invade Wales?")


def test_question_types_follow_the_wh_phrase() -> None:
    assert question_type("How many people live there?") == "quantity"
    assert question_type("In what year did it end?") == "time"
    assert question_type("Who wrote it?") == "person"
    assert question_type("Name the river.") == "other"


def own_text(data: SquadDataset, title: str) -> str:
    return " ".join(p.context for a in data.articles if a.title == title for p in a.paragraphs)


def test_swaps_and_fake_answer_come_from_the_same_article(league: SquadDataset) -> None:
    maker = DistractorMaker(league, seed=0)
    article = league.articles[0]
    paragraph = article.paragraphs[0]
    own = own_text(league, article.title)
    for seed in range(5):
        maker.seed = seed
        made = maker.make(paragraph.qas[0], paragraph.context, article.title)
        assert made is not None and made.kind == "question" and made.form == "rules"
        assert dict(made.swaps)["Carolina Panthers"] in own          # a team of the article
        assert made.fake_answer in ("Peyton Manning", "Russell Wilson")  # a person, not gold
        assert "Cam Newton" not in made.text and "Carolina Panthers" not in made.text
        assert made.text == (f"{made.fake_answer} is the quarterback for the "
                             f"{dict(made.swaps)['Carolina Panthers']}.")


def test_the_fake_answer_has_the_question_type(league: SquadDataset) -> None:
    maker = DistractorMaker(league, seed=0)
    by_id = {qa.id: (a, p, qa) for a, p, qa in league.iter_qas()}
    kinds = {"Football_League-0-1": r"^(19|20)\d\d$", "Football_League-0-2": r"^Glendale$",
             "Football_League-1-0": r"^\d[\d,]*$", "Rhine-0-1": r"^1[89]\d\d$"}
    for qid, pattern in kinds.items():
        article, paragraph, qa = by_id[qid]
        made = maker.make(qa, paragraph.context, article.title)
        assert made is not None, qid
        assert re.match(pattern, made.fake_answer), (qid, made)
        assert qa.answers[0].text not in made.text


def test_answer_sentence_kind_swaps_the_answer_and_one_entity(league: SquadDataset) -> None:
    maker = DistractorMaker(league, seed=0, kind="answer-sentence")
    article = league.articles[0]
    paragraph = article.paragraphs[0]
    made = maker.make(paragraph.qas[0], paragraph.context, article.title)
    assert made is not None and made.kind == "answer-sentence"
    (answer, fake), (entity, new) = made.swaps
    assert (answer, entity) == ("Cam Newton", "Carolina Panthers")  # the one the question names
    assert new in own_text(league, article.title) and fake == made.fake_answer
    assert made.text == f"{fake} was the quarterback for the {new}."
    with pytest.raises(ValueError, match="distractor kind"):
        DistractorMaker(league, kind="sideways")


def test_mixed_kind_is_drawn_per_question(league: SquadDataset, people: SquadDataset) -> None:
    mixed_maker = DistractorMaker(people, seed=0, kind="mixed")
    kinds = {qa.id: mixed_maker.kind_of(qa.id) for _, _, qa in people.iter_qas()}
    assert set(kinds.values()) == {"question", "answer-sentence"}
    made = {qa.id: mixed_maker.make(qa, p.context, a.title) for a, p, qa in people.iter_qas()}
    assert all(d.kind == kinds[q] for q, d in made.items() if d is not None)
    assert DistractorMaker(people, seed=0, kind="mixed").kind_of("x") == mixed_maker.kind_of("x")


@pytest.mark.parametrize("kind", ["question", "answer-sentence"])
def test_distractors_read_like_sentences(kind: str, league: SquadDataset,
                                         people: SquadDataset) -> None:
    for data in (league, people):
        maker = DistractorMaker(data, seed=0, kind=kind)
        made = 0
        for article, paragraph, qa in data.iter_qas():
            d = maker.make(qa, paragraph.context, article.title)
            if d is None:
                continue
            made += 1
            words = [w.lower() for w in re.findall(r"\w+", d.text)]
            assert not d.text[:1].islower() and d.text.endswith("."), d
            assert all(a != b for a, b in zip(words, words[1:], strict=False)), d
            assert words[0] not in ("who", "what", "when", "where", "which", "how", "why")
            assert "?" not in d.text and "  " not in d.text
            assert not any(a.text.lower() in d.text.lower() for a in qa.answers), d
        assert made >= 0.8 * data.num_questions


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


@pytest.mark.parametrize("kind", ["question", "answer-sentence", "mixed"])
def test_stress_set_puts_each_distractor_in_its_own_unit(people: SquadDataset, kind: str) -> None:
    stress = stress_set(people, seed=0, kind=kind)
    assert stress.dataset.num_questions == people.num_questions
    assert stress.coverage > 0.8
    made = {d.distractor.kind for d in stress.inserted.values()}
    assert made == ({"question", "answer-sentence"} if kind == "mixed" else {kind})
    units = squad_units(stress.dataset, "eval")
    starts = {units.qas[q].id: units.spans[p] for q, p in enumerate(units.owner)}
    for _, p, qa in stress.dataset.iter_qas():
        for a in qa.answers:
            assert p.context[a.answer_start:a.end] == a.text
        where = stress.inserted.get(qa.id)
        if where is not None:
            assert p.context[where.start:where.end] == where.distractor.text
            assert any(s == where.start for s, _ in starts[qa.id])   # at a sentence boundary
    again = stress_set(people, seed=0, kind=kind)
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
