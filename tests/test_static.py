"""The static (model2vec) scorer: distilled from a transformer once and cached by content, loaded
from a folder, scores that are cosines of mean token vectors, and train-static that fine-tunes the
vectors on question ↔ answer sentence pairs and saves a folder the scorer loads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.models.static import folder as static_folder_module
from ids_extract.models.static.folder import is_static_folder, load_static, static_folder
from ids_extract.models.static.train import META_FILE, StaticTrainConfig, _embed, examples
from ids_extract.scorers import build_scorer
from ids_extract.select.units import ScoringBatch
from ids_extract.squad.read import load

from .conftest import CONTEXT

runner = CliRunner()
SENTENCES = ["The Normans were people who gave their name to Normandy. ",
             "They were descended from Norse raiders led by Rollo. ",
             "In 1066, William the Conqueror invaded England."]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IDS_EXTRACT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_installed_transformers_imports_beside_model2vec() -> None:
    """model2vec[distill] once pulled a `kernels` that broke `import transformers`: the installed
    environment must import both (a fresh interpreter, as a user's)."""
    code = ("import transformers, model2vec.distill; from transformers import AutoModel; "
            "print(transformers.__version__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip().split(".")[0]) >= 5


def test_distilled_once_and_cached_by_content(tiny_sbert_dir: Path, home: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    first = static_folder(str(tiny_sbert_dir))
    assert is_static_folder(first) and first.is_relative_to(home / "static")
    with monkeypatch.context() as patched:
        patched.setattr(static_folder_module, "distil_to",
                        lambda *a, **k: pytest.fail("distilled again"))
        assert static_folder(str(tiny_sbert_dir)) == first  # the cache is used
    moved = tmp_path / "same-name"
    shutil.copytree(tiny_sbert_dir, moved)
    assert static_folder_module.distilled_folder(str(moved)) == first  # same content, same key
    weights = next(moved.rglob("model.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    assert static_folder_module.distilled_folder(str(moved)) != first  # new weights, new key


def test_scores_are_cosines_of_mean_token_vectors(tiny_sbert_dir: Path, home: Path) -> None:
    scorer = build_scorer("static", model=str(tiny_sbert_dir))
    question = SENTENCES[1].strip()
    scores = scorer.score(ScoringBatch([SENTENCES], [question], [0]))[0]
    assert scores.shape == (3,) and int(np.argmax(scores)) == 1
    assert scores[1] == pytest.approx(1.0, abs=1e-5)  # the same words: the same vector
    model = load_static(scorer.folder)
    q, s = model.encode([question]), model.encode(SENTENCES)
    q, s = q / np.linalg.norm(q, axis=1, keepdims=True), s / np.linalg.norm(s, axis=1,
                                                                           keepdims=True)
    assert np.allclose(scores, (s @ q.T)[:, 0], atol=1e-3)
    config = scorer.config()
    assert config["name"] == "static" and len(config["model"]["sha256"]) == 64  # type: ignore


def test_a_folder_that_is_no_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ConfigError, match="neither a model2vec folder"):
        build_scorer("static", model=str(tmp_path))
    with pytest.raises(ConfigError, match="no such model folder"):
        build_scorer("static", model=str(tmp_path / "missing"))


def test_training_examples_have_the_answer_sentence_and_hard_negatives(squad_file: Path) -> None:
    data = examples(load(str(squad_file)), StaticTrainConfig(context_negatives=2))
    rollo = next(e for e in data if e.question == "Who led the Norse raiders?")
    assert "Rollo" in rollo.positive and rollo.positive in CONTEXT
    assert 2 <= len(rollo.negatives) <= 3 and rollo.positive not in rollo.negatives
    assert all(n in CONTEXT for n in rollo.negatives[:2])  # the context's other sentences


def test_the_training_embedding_is_what_the_model_encodes(tiny_sbert_dir: Path,
                                                          home: Path) -> None:
    import torch

    model = load_static(str(static_folder(str(tiny_sbert_dir))))
    table = torch.nn.EmbeddingBag.from_pretrained(
        torch.tensor(np.asarray(model.embedding, dtype=np.float32)), mode="mean")
    ours = _embed(table, model, SENTENCES).numpy()
    assert np.allclose(ours, model.encode(SENTENCES, max_length=None).astype(np.float32),
                       atol=2e-3)


def test_train_static_writes_a_folder_the_scorer_loads(tiny_sbert_dir: Path, squad_file: Path,
                                                       home: Path, tmp_path: Path) -> None:
    out = tmp_path / "static"
    res = runner.invoke(app, ["train-static", str(squad_file), "--out", str(out), "--init",
                              str(tiny_sbert_dir), "--batch-size", "3", "--epochs", "4",
                              "--learning-rate", "0.05", "--quiet"])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / META_FILE).read_text())
    assert meta["summary"]["steps"] == 8 and meta["summary"]["s_per_step"] > 0
    losses = meta["summary"]["epoch_loss"]
    assert len(losses) == 4 and losses[-1] < losses[0]  # it learned something
    base = load_static(str(static_folder(str(tiny_sbert_dir))))
    trained = load_static(str(out))
    assert not np.allclose(np.asarray(base.embedding, np.float32),
                           np.asarray(trained.embedding, np.float32))
    scorer = build_scorer("static", model=str(out))
    assert scorer.folder == str(out) and scorer.score(ScoringBatch([SENTENCES], ["Rollo?"],
                                                                   [0]))[0].shape == (3,)
    again = runner.invoke(app, ["train-static", str(squad_file), "--out", str(out), "--init",
                                str(tiny_sbert_dir), "--quiet"])
    assert again.exit_code == 2 and "not empty" in again.output
