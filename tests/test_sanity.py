"""Parameter-randomisation sanity check: randomising changes the model and the IG ranking; the
table, plot and verdict are written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from typer.testing import CliRunner

from ids_extract.analysis.sanity import blocks, reinitialise, run_sanity, spearman_per_question
from ids_extract.cli import app
from ids_extract.scorers.ig import IGScorer

from .test_ig import BATCH

runner = CliRunner()


def test_blocks_run_from_head_to_embeddings(tiny_qa_dir: Path) -> None:
    scorer = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=2)
    names = [n for n, _ in blocks(scorer.qa.model)]
    assert names == ["head:qa_outputs", "layer 1", "layer 0", "embeddings"]


def test_reinitialise_changes_the_model_outputs(tiny_qa_dir: Path) -> None:
    import copy

    scorer = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=2)
    model = copy.deepcopy(scorer.qa.model)
    ids = torch.tensor([[2, 10, 11, 3, 12, 13, 14, 3]])
    with torch.no_grad():
        before = model(input_ids=ids).start_logits
        reinitialise(dict(blocks(model))["layer 1"], 0.02, seed=0)
        after = model(input_ids=ids).start_logits
    assert not torch.allclose(before, after)
    with torch.no_grad():  # the cached original is untouched
        assert torch.allclose(scorer.qa.model(input_ids=ids).start_logits, before)


def test_spearman_per_question() -> None:
    rho = spearman_per_question([np.array([1.0, 2, 3]), np.array([1.0]), np.array([1.0, 2])],
                                [np.array([3.0, 2, 1]), np.array([2.0]), np.array([1.0, 1])])
    assert rho[0] == -1.0 and np.isnan(rho[1]) and np.isnan(rho[2])


def test_run_sanity_measures_every_step(tiny_qa_dir: Path) -> None:
    scorer = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=2, target="sum")
    before = [p.detach().clone() for p in scorer.qa.model.parameters()]
    result = run_sanity(scorer, BATCH)
    assert [s.schedule for s in result.steps] == ["cascading"] * 4 + ["independent"] * 4
    assert all(-1 <= s.mean_spearman <= 1 for s in result.steps)
    assert result.steps[-5].mean_spearman < 0.999  # fully random differs from the original
    assert result.verdict().split(":")[0] in ("PASS", "FAIL")
    after = list(scorer.qa.model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_cli_sanity_check(tiny_qa_dir: Path, squad_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "sanity"
    res = runner.invoke(app, ["sanity-check", "-m", str(tiny_qa_dir), "--data", str(squad_file),
                              "--out", str(out), "--sample", "2", "--ig-steps", "2", "--ig-target",
                              "sum", "--schedules", "cascading", "--device", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    saved = json.loads((out / "sanity.json").read_text(encoding="utf-8"))
    assert len(saved["steps"]) == 4 and saved["verdict"]
    assert (out / "sanity.png").read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(app, ["sanity-check", "-m", str(tiny_qa_dir), "--data", str(squad_file),
                              "--schedules", "sideways"])
    assert res.exit_code == 2
