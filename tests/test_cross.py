"""The cross-encoder family: input format, training groups, the listwise loss, training a tiny
model with save/load and resume rules, the ``cross`` scorer, and refusals of folders whose head
would be random."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ids_extract import load
from ids_extract.errors import ConfigError
from ids_extract.models.cross.folder import (
    InputFormat,
    candidate_text,
    format_of,
    load_cross,
    read_meta,
)
from ids_extract.models.cross.train import TrainConfig, build_groups, listwise_loss, train_cross
from ids_extract.scorers import ScoringBatch, build_scorer
from ids_extract.squad.units import squad_units

SENTENCES = ["Paris is the capital of France. ", "It has 2 million people. ",
             "The Seine flows through Paris. ", "X marks the spot."]


def test_candidate_text_puts_the_sentence_first_then_its_neighbours() -> None:
    fmt = InputFormat(before=1, after=1)
    assert candidate_text(SENTENCES, 1, fmt, "[SEP]") == (
        "It has 2 million people. [SEP] Paris is the capital of France. [SEP] The Seine flows "
        "through Paris.")
    assert candidate_text(SENTENCES, 0, fmt, "[SEP]").startswith("Paris is the capital of "
                                                                "France. [SEP]  [SEP] It has")
    assert candidate_text(SENTENCES, 3, InputFormat(0, 0), "[SEP]") == "X marks the spot."
    with pytest.raises(ConfigError):
        InputFormat(before=-1).check()


def test_groups_point_at_the_answer_unit(squad_file: Path) -> None:
    units = squad_units(load(squad_file), "train")
    groups = build_groups(units, max_candidates=8)
    assert len(groups) == 6
    for g, qa in zip(groups, units.qas, strict=True):
        answer = g.sentences[g.candidates[g.label]]
        assert qa.answers[0].text in answer
    few = build_groups(units, max_candidates=2, seed=1)
    for g, qa in zip(few, units.qas, strict=True):
        assert len(g.candidates) == 2 and qa.answers[0].text in g.sentences[g.candidates[g.label]]


def test_listwise_loss_is_the_cross_entropy_within_each_question() -> None:
    import torch

    logits = torch.tensor([2.0, 0.0, -1.0, 0.5, 1.5])      # question 1: 3 pairs, question 2: 2
    loss = listwise_loss(logits, torch.tensor([3, 2]), torch.tensor([0, 1]))
    first = -torch.log_softmax(logits[:3], 0)[0]
    second = -torch.log_softmax(logits[3:], 0)[1]
    assert torch.isclose(loss, (first + second) / 2)


@pytest.fixture(scope="module")
def trained_cross(tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import json

    from tests.conftest import squad_dict  # the tiny file, written here for the module

    path = tmp_path_factory.mktemp("cross-data") / "tiny.json"
    path.write_text(json.dumps(squad_dict()), encoding="utf-8")
    groups = build_groups(squad_units(load(path), "train"), 8)
    out = tmp_path_factory.mktemp("cross") / "model"
    train_cross(groups, out, backbone=str(tiny_encoder_dir), fmt=InputFormat(1, 1, 64),
                config=TrainConfig(max_steps=3, questions_per_step=2, device="cpu",
                                   precision="fp32"), quiet=True)
    return out


def test_trained_cross_encoder_is_saved_and_reloaded(trained_cross: Path) -> None:
    meta = read_meta(trained_cross)
    assert meta["summary"]["steps"] == 3 and meta["format"]["max_length"] == 64
    assert format_of(trained_cross) == InputFormat(1, 1, 64)
    assert not (trained_cross / "checkpoints").exists()
    loaded = load_cross(str(trained_cross), "cpu")
    assert loaded.model.config.num_labels == 1


def test_same_run_is_reused_and_another_is_refused(trained_cross: Path, tiny_encoder_dir: Path,
                                                   squad_file: Path) -> None:
    groups = build_groups(squad_units(load(squad_file), "train"), 8)
    config = TrainConfig(max_steps=3, questions_per_step=2, device="cpu", precision="fp32")
    again = train_cross(groups, trained_cross, backbone=str(tiny_encoder_dir),
                        fmt=InputFormat(1, 1, 64), config=config, quiet=True)
    assert again.reused
    with pytest.raises(ConfigError, match="other settings"):
        train_cross(groups, trained_cross, backbone=str(tiny_encoder_dir),
                    fmt=InputFormat(0, 0, 64), config=config, quiet=True)


def test_cross_scorer_scores_every_sentence_of_each_context(trained_cross: Path) -> None:
    scorer = build_scorer("cross", model=str(trained_cross), device="cpu", precision="fp32",
                          batch_size=3)
    batch = ScoringBatch([SENTENCES, SENTENCES[:2]], ["What flows through Paris?",
                                                      "How many people?", "Capital?"], [0, 1, 0])
    scores = scorer.score(batch)
    assert [len(s) for s in scores] == [4, 2, 4]
    assert not np.allclose(scores[0], scores[2])            # the question matters
    single = scorer.score(ScoringBatch([SENTENCES], ["What flows through Paris?"], [0]))[0]
    np.testing.assert_allclose(single, scores[0], rtol=1e-5, atol=1e-5)   # batching changes nothing
    assert scorer.config()["model"]["sha256"] != "hub"


def test_a_folder_without_a_one_logit_head_is_refused(tiny_encoder_dir: Path,
                                                      tiny_qa_dir: Path) -> None:
    with pytest.raises(ConfigError, match="one-logit"):
        load_cross(str(tiny_encoder_dir), "cpu")
    with pytest.raises(ConfigError, match="one-logit"):
        load_cross(str(tiny_qa_dir), "cpu")
    with pytest.raises(ConfigError, match="needs a cross-encoder"):
        load_cross(None, "cpu")


def test_a_public_one_logit_model_reads_sentences_alone(tiny_tokenizer_dir: Path,
                                                        tmp_path: Path) -> None:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, num_labels=1)
    public = tmp_path / "public"
    BertForSequenceClassification(config).save_pretrained(public)
    tokenizer.save_pretrained(public)
    assert format_of(public) == InputFormat(0, 0, 256)
    scores = build_scorer("cross", model=str(public), device="cpu").score(
        ScoringBatch([SENTENCES], ["Capital?"], [0]))
    assert len(scores[0]) == 4


def test_the_cross_scorer_in_onnx_runtime_and_a_shipped_int8_folder(
        trained_cross: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fp32 ONNX gives the torch logits; int8 stays close; a folder holding only the int8
    graph (what a shipped extractor holds) loads without torch weights, under a content hash
    of its own, and refuses to run in torch."""
    from ids_extract.models.cross.folder import load_cross
    from ids_extract.models.onnx import write_int8

    monkeypatch.setenv("IDS_EXTRACT_HOME", str(tmp_path / "home"))
    batch = ScoringBatch([SENTENCES], ["Where is the Eiffel Tower?", "Who designed it?"], [0, 0])
    torch_scores = build_scorer("cross", model=str(trained_cross), backend="torch",
                                precision="fp32").score(batch)
    onnx = build_scorer("cross", model=str(trained_cross), backend="onnx", precision="fp32")
    assert onnx.config()["backend"] == "onnx"
    for got, want in zip(onnx.score(batch), torch_scores, strict=True):
        assert np.allclose(got, want, atol=1e-4)
    torch_cross = load_cross(str(trained_cross), "cpu")
    shipped = tmp_path / "shipped"
    write_int8(torch_cross.model, torch_cross.tokenizer, shipped, "logits")
    for name in ("ids_extract_cross.json",):
        (shipped / name).write_bytes((trained_cross / name).read_bytes())
    assert not list(shipped.glob("*.safetensors"))
    int8 = build_scorer("cross", model=str(shipped))
    assert (int8.config()["backend"], int8.config()["precision"]) == ("onnx", "int8")
    assert int8.config()["model"] != onnx.config()["model"]
    for got, want in zip(int8.score(batch), torch_scores, strict=True):
        assert np.allclose(got, want, atol=0.15)
        assert np.argmax(got) == np.argmax(want) or np.ptp(want) < 0.05
    with pytest.raises(ConfigError, match="int8 ONNX"):
        build_scorer("cross", model=str(shipped), backend="torch")
