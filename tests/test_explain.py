"""``explain``: the HTML page and its chart, from the Python API and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from ids_extract.analysis.explain import explain, write_explanation
from ids_extract.cli import app
from ids_extract.scorers.ig import IGScorer

from .conftest import CONTEXT

runner = CliRunner()


def test_explanation_page_and_chart(tiny_qa_dir: Path, tmp_path: Path) -> None:
    scorer = IGScorer(model=str(tiny_qa_dir), device="cpu", n_steps=4)
    exp = explain(scorer, "Who led the Norse raiders?", CONTEXT)
    assert len(exp.sentences) == len(exp.sentence_scores) == len(exp.start_mass) == 5
    assert "".join(exp.sentences) == CONTEXT
    assert exp.answer and exp.answer in CONTEXT
    assert 0 < exp.start_mass.sum() <= 1 + 1e-6
    assert len(exp.windows[0].tokens) == len(exp.windows[0].scores)
    html_path, png_path = write_explanation(exp, tmp_path / "x" / "page.html")
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "Who led the Norse raiders?" in page and "rollo" in page.lower()
    assert page.count('class="s"') == 5  # one tinted span per sentence
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(html_path.parent.glob(".*tmp"))  # written atomically, no leftovers
    assert np.isfinite(exp.sentence_scores).all()


def test_cli_explain(tiny_qa_dir: Path, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx.txt"
    ctx.write_text(CONTEXT, encoding="utf-8")
    out = tmp_path / "e.html"
    res = runner.invoke(app, ["explain", "-m", str(tiny_qa_dir), "-q", "When was 1066?",
                              "--context-file", str(ctx), "--out", str(out), "--ig-steps", "4",
                              "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert out.exists() and out.with_suffix(".png").exists()
    res = runner.invoke(app, ["explain", "-m", str(tiny_qa_dir), "-q", "x", "--out", str(out)])
    assert res.exit_code == 2  # no context
    res = runner.invoke(app, ["explain", "-m", str(tmp_path), "-q", "x", "--context", "y."])
    assert res.exit_code == 2  # not a QA model
    one = ["explain", "-m", str(tiny_qa_dir), "-q", "When?", "--context-file", str(ctx), "--out",
           str(out), "--ig-steps", "1", "--device", "cpu"]
    res = runner.invoke(app, one)  # the message names an option explain has
    assert res.exit_code == 2 and "--ig-mode gxi" in res.output
    assert runner.invoke(app, [*one, "--ig-mode", "gxi"]).exit_code == 0
