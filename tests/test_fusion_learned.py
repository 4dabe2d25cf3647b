"""Learned fusion: fitting on sentence labels, saving/loading by path and by name, and its place
in the extractor's config (and so in the score-cache key)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.pipeline.extractor import Extractor
from ids_extract.pipeline.fit_fusion import fit_on_dataset, sentence_labels
from ids_extract.select.learned import LearnedFusion, features, fit
from ids_extract.squad.read import load
from ids_extract.squad.units import squad_units

runner = CliRunner()


def _synthetic(n: int, seed: int = 0) -> tuple[dict[str, list[np.ndarray]], list[np.ndarray]]:
    """``good`` tracks the label, ``noise`` does not."""
    rng = np.random.default_rng(seed)
    good, noise, labels = [], [], []
    for _ in range(n):
        k = int(rng.integers(3, 8))
        y = np.zeros(k, dtype=np.int64)
        y[rng.integers(k)] = 1
        good.append(y * 2.0 + rng.normal(0, 0.7, k))
        noise.append(rng.normal(0, 1, k))
        labels.append(y)
    return {"good": good, "noise": noise}, labels


def test_fit_weights_the_informative_scorer() -> None:
    per_scorer, labels = _synthetic(300)
    model = fit(per_scorer, labels)
    weights = model.weights()
    assert weights["good"] > 0.5 and abs(weights["noise"]) < weights["good"] / 4
    test, test_labels = _synthetic(200, seed=1)
    hits = [int(np.argmax(model.score({k: v[q] for k, v in test.items()}))) == int(np.argmax(y))
            for q, y in enumerate(test_labels)]
    assert np.mean(hits) > 0.8


def test_features_are_scale_free() -> None:
    a = {"x": np.array([1.0, 5.0, 3.0])}
    b = {"x": np.array([100.0, 500.0, 300.0])}
    assert np.allclose(features(a, ["x"]), features(b, ["x"]))
    assert features(a, ["x"])[1, 1] == 1.0  # reciprocal rank of the best sentence


def test_save_load_by_path_and_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    per_scorer, labels = _synthetic(50)
    model = fit(per_scorer, labels)
    path = tmp_path / "f.json"
    model.save(path)
    again = LearnedFusion.load(path)
    assert again.coef == pytest.approx(model.coef) and again.scorers == ["good", "noise"]
    monkeypatch.setenv("IDS_EXTRACT_HOME", str(tmp_path / "home"))
    model.save(tmp_path / "home" / "fusion" / "mine.json")
    assert LearnedFusion.load("mine").coef == pytest.approx(model.coef)
    with pytest.raises(ConfigError):
        LearnedFusion.load("nothing-here")
    path.write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(ConfigError):
        LearnedFusion.load(path)


def test_labels_mark_the_answer_sentence(squad_file: Path) -> None:
    dataset = load(squad_file)
    labels = sentence_labels(squad_units(dataset, "eval"))
    assert len(labels) == dataset.num_questions
    assert all(y.sum() == 1 for y in labels)
    assert int(np.argmax(labels[0])) == 1  # "Rollo" is in the second sentence


def test_extractor_with_learned_fusion(squad_file: Path, tmp_path: Path) -> None:
    dataset = load(squad_file)
    model = fit_on_dataset(dataset, ["bm25"], C=10.0)
    assert model.fitted_on["questions"] == dataset.num_questions
    path = tmp_path / "fusion.json"
    model.save(path)
    learned = Extractor(["bm25"], "top-k:1", fusion="learned", fusion_model=str(path), quiet=True)
    weighted = Extractor(["bm25"], "top-k:1", quiet=True)
    assert learned.config()["fusion"]["method"] == "learned"
    assert learned.config()["fusion"]["coef"] == pytest.approx(model.coef, abs=1e-6)
    assert learned.scoring_config() != weighted.scoring_config()
    seg = learned.to_units(dataset)
    scored = learned.score(seg)
    for q, fused in enumerate(scored.fused):  # the fused scores are the model's, not z-sums
        assert np.allclose(fused, model.score({"bm25": scored.per_scorer["bm25"][q]}))
    result = learned.select_all(dataset, seg, scored)
    assert result.levels[0].dataset.num_questions == dataset.num_questions
    with pytest.raises(ConfigError, match="fitted on"):
        Extractor(["sbert"], "top-k:1", fusion="learned", fusion_model=str(path))
    with pytest.raises(ConfigError):
        Extractor(["bm25"], "top-k:1", fusion="learned")
    with pytest.raises(ConfigError):
        Extractor(["bm25"], "top-k:1", fusion="average")


def test_cli_fit_fusion_and_extract(squad_file: Path, tmp_path: Path) -> None:
    model = tmp_path / "fusion.json"
    res = runner.invoke(app, ["fit-fusion", str(squad_file), "--out", str(model),
                              "--scorers", "bm25", "--quiet"])
    assert res.exit_code == 0, res.output
    assert LearnedFusion.load(model).scorers == ["bm25"]
    out = tmp_path / "out"
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(out), "--scorers", "bm25",
                              "--levels", "top-k:1", "--fusion", "learned", "--fusion-model",
                              str(model), "--quiet"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "learned" in json.dumps(manifest)
    res = runner.invoke(app, ["fit-fusion", "dev-v1.1.json", "--out", str(model)])
    assert res.exit_code == 2
