"""Shared fixtures: small SQuAD files written on the fly, tiny models built from configs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ids_extract.squad.model import QA, Answer, Article, Paragraph, SquadDataset

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad"
DEV = SHARED / "dev-v1.1.json"

CONTEXT = (
    "The Normans were people who in the 10th and 11th centuries gave their name to Normandy. "
    "They were descended from Norse raiders led by Rollo. "
    "Their identity emerged in the first half of the 10th century! "
    "In 1066, William the Conqueror invaded England. "
    "The Norman dynasty had a major political impact on Europe."
)
CONTEXT2 = (
    "Paris is the capital of France. It has 2 million people. "
    "The Seine flows through Paris. X marks the spot."
)


def qa(qid: str, question: str, context: str, answer: str, nth: int = 0) -> dict[str, Any]:
    start = -1
    for _ in range(nth + 1):
        start = context.index(answer, start + 1)
    return {"id": qid, "question": question,
            "answers": [{"text": answer, "answer_start": start}]}


def squad_dict() -> dict[str, Any]:
    return {
        "version": "1.1",
        "data": [
            {"title": "Normans", "paragraphs": [{"context": CONTEXT, "qas": [
                qa("q1", "Who led the Norse raiders?", CONTEXT, "Rollo"),
                qa("q2", "When did William invade England?", CONTEXT, "1066"),
                qa("q3", "What region did the Normans name?", CONTEXT, "Normandy"),
            ]}]},
            {"title": "Paris", "paragraphs": [{"context": CONTEXT2, "qas": [
                qa("q4", "How many people live in Paris?", CONTEXT2, "2 million"),
                qa("q5", "What river flows through Paris?", CONTEXT2, "Seine"),
                qa("q6", "What marks the spot?", CONTEXT2, "X"),
            ]}]},
        ],
    }


@pytest.fixture
def squad_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(squad_dict()), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WordPiece tokenizer trained on the fly on the test texts."""
    from ids_extract.apps.benchkit import tiny_tokenizer

    texts = [CONTEXT, CONTEXT2] + [q["question"] for a in squad_dict()["data"]
                                   for p in a["paragraphs"] for q in p["qas"]]
    return tiny_tokenizer(texts, tmp_path_factory.mktemp("tokenizer"))


def save_tiny_bert(model_class: Any, tokenizer_dir: Path, out: Path) -> Path:
    """A 2-layer, 32-wide BERT of ``model_class`` (random but seeded weights) and the tokenizer."""
    from ids_extract.apps.benchkit import tiny_bert

    return tiny_bert(model_class, tokenizer_dir, out)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tiny_tokenizer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain 2-layer BertModel (no QA head): a reader adds a fresh one."""
    from transformers import BertModel

    return save_tiny_bert(BertModel, tiny_tokenizer_dir, tmp_path_factory.mktemp("tiny-encoder"))


@pytest.fixture(scope="session")
def tiny_sbert_dir(tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT with mean pooling, saved as a sentence-transformers folder."""
    from ids_extract.apps.benchkit import tiny_sbert

    return tiny_sbert(tiny_encoder_dir, tmp_path_factory.mktemp("tiny-sbert"))


@pytest.fixture(scope="session")
def tiny_qa_dir(tiny_tokenizer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BertForQuestionAnswering (random but fixed weights)."""
    from transformers import BertForQuestionAnswering

    return save_tiny_bert(BertForQuestionAnswering, tiny_tokenizer_dir,
                          tmp_path_factory.mktemp("tiny-qa"))


# ---------------------------------------------------------------- text classification

NORMAN = [s + " " for s in re.split(r"(?<=[.!?]) ", CONTEXT)]
PARIS = [s + " " for s in re.split(r"(?<=[.!?]) ", CONTEXT2)]


def cls_rows() -> list[dict[str, Any]]:
    """Eight small labelled texts (two topics, several sentences each, one with ``<br />``
    markup), with an extra column that must survive extraction."""
    rows = []
    for i in range(4):
        norman = "".join(NORMAN[i:] + NORMAN[:i]).strip()
        paris = "".join(PARIS[i:] + PARIS[:i]).strip()
        if i == 1:
            norman = norman.replace(". ", ".<br /><br />", 1)
        rows.append({"id": f"n{i}", "text": norman, "label": "normans", "source": f"s{i}"})
        rows.append({"id": f"p{i}", "text": paris, "label": "paris", "source": f"t{i}"})
    return rows


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture
def cls_file(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "texts.jsonl", cls_rows())


@pytest.fixture(scope="session")
def tiny_classifier_dir(tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT fine-tuned a few steps as a 2-class classifier at 32 tokens (a
    train-classifier folder)."""
    from ids_extract.models.classifier.features import ClassifierConfig
    from ids_extract.models.classifier.train import train_classifier
    from ids_extract.models.training import TrainConfig
    from ids_extract.textcls import load

    out = tmp_path_factory.mktemp("classifier")
    data = load(write_rows(out / "train.jsonl", cls_rows()))
    train_classifier(data, str(tiny_encoder_dir), out / "model", ClassifierConfig(32, "head"),
                     TrainConfig(max_steps=3, batch_size=4, learning_rate=1e-3, precision="fp32",
                                 device="cpu", save_steps=2), quiet=True)
    return out / "model"


PEOPLE = [("Ada Lovelace", "London", "1815", "mathematics", "Oxford"),
          ("Niels Bohr", "Copenhagen", "1885", "physics", "Cambridge"),
          ("Marie Curie", "Warsaw", "1867", "chemistry", "Paris"),
          ("Alan Turing", "Maida Vale", "1912", "logic", "Princeton"),
          ("Emmy Noether", "Erlangen", "1882", "algebra", "Göttingen"),
          ("Carl Gauss", "Brunswick", "1777", "astronomy", "Helmstedt")]


def biography(name: str, city: str, year: str, subject: str, school: str) -> Article:
    """One article: two paragraphs with three questions each, answers found by offset."""
    first = (f"{name} was born in {city} in {year}. The family moved to the capital when "
             f"{name.split()[0]} was young. At school the teachers praised the work of the child. "
             f"In {int(year) + 20} {name} studied {subject} at the University of {school}.")
    second = (f"The university library of {school} holds the papers. Every year the students "
              f"read the letters of {name}. The army of clerks copied them in {int(year) + 60}.")

    def q(qid: str, question: str, context: str, answer: str) -> QA:
        return QA(qid, question, [Answer(answer, context.index(answer))])

    tag = name.split()[1].lower()
    return Article(f"{name.replace(' ', '_')}", [
        Paragraph(first, [q(f"{tag}-1", f"When was {name} born?", first, year),
                          q(f"{tag}-2", f"Where did {name} study {subject}?", first, school),
                          q(f"{tag}-3", f"What did {name} study at the University of {school}?",
                            first, subject)]),
        Paragraph(second, [q(f"{tag}-4", f"Who copied the letters of {name}?", second, "army"),
                           q(f"{tag}-5", f"What holds the papers of {name}?", second,
                             "The university library"),
                           q(f"{tag}-6", "When did the army copy the papers?", second,
                             str(int(year) + 60))])])


def people_dataset() -> SquadDataset:
    """Six short biographies (articles of two paragraphs, six questions each): entities, years
    and nouns for distractors, and whole articles to hold out."""
    return SquadDataset("1.1", [biography(*p) for p in PEOPLE], source="people.json")


@pytest.fixture
def people_file(tmp_path: Path) -> Path:
    from ids_extract.squad.write import write_squad

    path = tmp_path / "people.json"
    write_squad(people_dataset(), path)
    return path

