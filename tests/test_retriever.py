"""Training the dual encoder on a tiny BERT: groups and labels, held-out split, the loss going
down, the saved pair loading in the dpr scorer, resume after an interruption, and the CLI."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ids_extract import load
from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.models.dpr.pair import CTX_DIR, META_FILE, QUESTION_DIR, dpr_pair_from_bert
from ids_extract.models.dpr.train import (
    Collator,
    TrainConfig,
    build_groups,
    dual_encoder,
    heldout_top1,
    split_heldout,
    train_retriever,
)
from ids_extract.scorers import ScoringBatch
from ids_extract.scorers.dpr import DPRScorer

from .conftest import squad_dict


@pytest.fixture
def bigger_squad(tmp_path: Path) -> Path:
    """The two test articles repeated under four titles (three to train, one held out)."""
    data = squad_dict()
    articles = []
    for n in range(4):
        for art in data["data"]:
            copy = json.loads(json.dumps(art))
            copy["title"] = f"{art['title']}-{n}"
            for p in copy["paragraphs"]:
                for q in p["qas"]:
                    q["id"] = f"{q['id']}-{n}"
            articles.append(copy)
    path = tmp_path / "bigger.json"
    path.write_text(json.dumps({"version": "1.1", "data": articles}))
    return path


def tiny_config(path: Path, backbone: Path, **kw: object) -> TrainConfig:
    base = TrainConfig(train_file=str(path), backbone=str(backbone), epochs=2,
                       contexts_per_step=2, learning_rate=1e-3, heldout_questions=6,
                       eval_steps=2, save_steps=2, precision="fp32")
    return replace(base, **kw)  # type: ignore[arg-type]


def test_groups_label_the_unit_holding_the_answer_start(squad_file: Path) -> None:
    groups, titles = build_groups(load(squad_file))
    assert titles == ["Normans", "Paris"]
    assert [len(g.questions) for g in groups] == [3, 3]
    answers = [q["answers"][0]["text"] for a in squad_dict()["data"] for p in a["paragraphs"]
               for q in p["qas"]]
    labelled = [g.sentences[label] for g in groups for label in g.labels]
    assert all(a in s for a, s in zip(answers, labelled, strict=True))
    assert "".join(groups[0].sentences) == squad_dict()["data"][0]["paragraphs"][0]["context"]


def test_heldout_takes_whole_articles_from_the_end(bigger_squad: Path) -> None:
    groups, titles = build_groups(load(bigger_squad))
    train, held = split_heldout(groups, titles, 4)
    assert len(held) == 2 and len(train) == 6           # two 3-question articles
    assert split_heldout(groups, titles, 0) == (groups, [])
    with pytest.raises(ConfigError):
        split_heldout(groups, titles, 1000)


def test_collator_points_labels_into_the_steps_sentences(squad_file: Path,
                                                         tiny_sbert_dir: Path) -> None:
    groups, _ = build_groups(load(squad_file))
    _, _, tok = dpr_pair_from_bert(str(tiny_sbert_dir))
    batch = Collator(tok, tok, 16, 32)(groups)
    n0 = len(groups[0].sentences)
    assert batch["q_input_ids"].shape[0] == 6
    assert batch["p_input_ids"].shape[0] == n0 + len(groups[1].sentences)
    assert batch["labels"].tolist() == groups[0].labels + [n0 + i for i in groups[1].labels]
    assert batch["q_input_ids"].shape[1] <= 16 and batch["p_input_ids"].shape[1] <= 32


def test_a_few_steps_lower_the_loss_and_raise_recall(squad_file: Path, tiny_sbert_dir: Path) -> None:
    import torch

    torch.manual_seed(0)
    groups, _ = build_groups(load(squad_file))
    q, c, tok = dpr_pair_from_bert(str(tiny_sbert_dir))
    model = dual_encoder(q, c, "mean")
    collator = Collator(tok, tok, 32, 64)
    batch = collator(groups)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    model.train()
    losses = []
    for _ in range(15):
        loss = model(**batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    model.eval()
    with torch.no_grad():
        final = float(model(**batch)["loss"])
    assert final < 0.5 * losses[0]
    assert heldout_top1(model, collator, groups, "cpu", "fp32") == 100.0


def test_train_save_load_round_trip(bigger_squad: Path, tiny_sbert_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "pair"
    summary = train_retriever(tiny_config(bigger_squad, tiny_sbert_dir), out, device="cpu",
                              quiet=True)
    assert (summary.train_questions, summary.heldout_questions) == (18, 6)
    assert summary.steps == 6                                 # 6 contexts / 2 per step x 2 epochs
    assert [h["step"] for h in summary.heldout_top1] == [2.0, 4.0, 6.0]
    assert all(0.0 <= h["top1"] <= 100.0 for h in summary.heldout_top1)
    assert not (out / "checkpoints").exists()
    meta = json.loads((out / META_FILE).read_text())
    assert meta["pooling"] == "mean" and meta["summary"]["steps"] == 6
    for sub in (QUESTION_DIR, CTX_DIR):
        assert json.loads((out / sub / "config.json").read_text())["model_type"] == "dpr"
    # the trained encoders differ from the backbone, and from each other
    scorer = DPRScorer(model=str(out), device="cpu", precision="fp32")
    fresh_q, fresh_c, _ = dpr_pair_from_bert(str(tiny_sbert_dir))
    trained_q = scorer._models()[0].state_dict()
    key = "question_encoder.bert_model.encoder.layer.0.attention.self.query.weight"
    assert not np.allclose(trained_q[key].numpy(), fresh_q.state_dict()[key].numpy())
    sentences = ["Paris is the capital of France. ", "The Seine flows through Paris."]
    scores = scorer.score(ScoringBatch([sentences], ["What river flows through Paris?"], [0]))
    assert scores[0].shape == (2,) and np.isfinite(scores[0]).all()
    # a second run with the same config reuses the pair; another config is refused
    again = train_retriever(tiny_config(bigger_squad, tiny_sbert_dir), out, device="cpu", quiet=True)
    assert again.reused and again.steps == 6
    with pytest.raises(ConfigError, match="other settings.*epochs: 2 -> 1"):
        train_retriever(tiny_config(bigger_squad, tiny_sbert_dir, epochs=1), out, device="cpu",
                        quiet=True)


def test_passage_context_is_trained_recorded_and_used_by_the_scorer(
        bigger_squad: Path, tiny_sbert_dir: Path, tmp_path: Path) -> None:
    groups, _ = build_groups(load(bigger_squad))
    _, _, tok = dpr_pair_from_bert(str(tiny_sbert_dir))
    plain = Collator(tok, tok, 16, 64)(groups[:2])
    paired = Collator(tok, tok, 16, 64, context=1)(groups[:2])
    assert paired["labels"].tolist() == plain["labels"].tolist()
    # the first sentence of a context has an empty second segment; the others carry the one before
    assert paired["p_input_ids"].shape[1] > plain["p_input_ids"].shape[1]
    assert "p_token_type_ids" not in plain and paired["p_token_type_ids"].max() == 1
    out = tmp_path / "ctx-pair"
    train_retriever(tiny_config(bigger_squad, tiny_sbert_dir, passage_context=1, epochs=1), out,
                    device="cpu", quiet=True)
    meta = json.loads((out / META_FILE).read_text())
    assert meta["passage_context"] == 1 and meta["run_config"]["passage_context"] == 1
    assert DPRScorer(model=str(out), device="cpu", precision="fp32").passage_context == 1


def test_resume_after_interruption(bigger_squad: Path, tiny_sbert_dir: Path, tmp_path: Path) -> None:
    """An interrupted run (checkpoints, no finished pair) resumes from its last checkpoint and
    ends with the same weights as an uninterrupted run."""
    config = tiny_config(bigger_squad, tiny_sbert_dir)
    full = tmp_path / "full"
    train_retriever(config, full, device="cpu", quiet=True, keep_checkpoints=True)
    broken = tmp_path / "broken"
    shutil.copytree(full, broken)
    # simulate a crash after step 4: only checkpoint-4 exists, no pair was written
    shutil.rmtree(broken / "checkpoints" / "checkpoint-6")
    for name in (QUESTION_DIR, CTX_DIR, META_FILE):
        target = broken / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    summary = train_retriever(config, broken, device="cpu", quiet=True)
    assert summary.resumed_from is not None and summary.resumed_from.endswith("checkpoint-4")
    assert summary.steps == 6
    a = DPRScorer(model=str(full), device="cpu", precision="fp32")
    b = DPRScorer(model=str(broken), device="cpu", precision="fp32")
    texts = ["The Seine flows through Paris.", "Rollo led them."]
    np.testing.assert_allclose(a.encode_passages(texts), b.encode_passages(texts), atol=1e-5)


def test_cli_train_retriever(bigger_squad: Path, tiny_sbert_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli-pair"
    args = ["train-retriever", str(bigger_squad), "--out", str(out), "--init",
            str(tiny_sbert_dir), "--epochs", "1", "--contexts-per-step", "3", "--heldout", "3",
            "--precision", "fp32", "--device", "cpu", "--quiet"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert (out / QUESTION_DIR / "model.safetensors").is_file()
    bad = runner.invoke(app, [*args[:-1], "--pooling", "max", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "pooling" in bad.output
    assert not (tmp_path / "bad").exists()
