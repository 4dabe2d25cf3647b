"""A new scorer is one file (tests/toy_scorer.py) plus a registry line: ``extract``,
``extract-texts`` and ``compress`` use it, with its own option, without a change to the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ids_extract.cli import app
from ids_extract.scorers import REGISTRY, TEXT_REGISTRY, register

from .conftest import CONTEXT

runner = CliRunner()


@pytest.fixture
def toy() -> Iterator[None]:
    register("toy", "tests.toy_scorer:ToyScorer", tasks=("qa", "text"))  # the registry line
    yield
    REGISTRY.pop("toy"), TEXT_REGISTRY.pop("toy")


def test_toy_scorer_from_every_command(toy: None, squad_file: Path, cls_file: Path,
                                       tmp_path: Path) -> None:
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(tmp_path / "qa"),
                              "--scorers", "toy", "--scorer-option", "toy.scale=2",
                              "--levels", "top-k:1", "--device", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "qa" / "manifest.json").read_text(encoding="utf-8"))
    # --scorer-option set scale; --device reached it through its declaration (reads)
    assert manifest["config"]["scorers"] == [{"name": "toy", "scale": 2, "device": "cpu"}]
    first = json.loads((tmp_path / "qa" / "D1-top-k1.json").read_text(encoding="utf-8"))
    assert first["data"][0]["paragraphs"][0]["context"].startswith("The Norman dynasty")

    res = runner.invoke(app, ["extract-texts", str(cls_file), "--out", str(tmp_path / "cls"),
                              "--scorers", "toy", "--levels", "top-k:1", "--quiet"])
    assert res.exit_code == 0, res.output
    rows = (tmp_path / "cls" / "D1-top-k1.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(rows[0])["text"] == "The Norman dynasty had a major political impact on Europe."

    requests = tmp_path / "q.jsonl"
    requests.write_text(json.dumps({"id": "a", "question": "Who?", "context": CONTEXT}) + "\n",
                        encoding="utf-8")
    res = runner.invoke(app, ["compress", str(requests), "--scorers", "toy", "--budget",
                              "tokens:32", "--scorer-option", "toy.scale=3"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["text"].endswith("impact on Europe.")


def test_a_toy_option_it_does_not_take_is_refused(toy: None, squad_file: Path,
                                                  tmp_path: Path) -> None:
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(tmp_path / "qa"),
                              "--scorers", "toy", "--scorer-option", "toy.colour=1"])
    assert res.exit_code == 2 and "scorer 'toy'" in res.output and "colour" in res.output
    assert not (tmp_path / "qa").exists()
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(tmp_path / "qa"),
                              "--scorers", "toy", "--scorer-option", "bm25.k1=1"])
    assert res.exit_code == 2 and "'bm25' is not among the scorers" in res.output


def test_scorers_lists_every_declared_option(toy: None) -> None:
    from ids_extract.scorers import describe, options_from

    res = runner.invoke(app, ["scorers"])
    assert res.exit_code == 0, res.output
    for name in ("bm25", "sbert", "static", "dpr", "reader", "ig", "cross", "toy"):
        assert name in res.output
    assert "--sbert-model" in res.output and "how much later units are preferred" in res.output
    rows = {r["option"]: r for r in describe("toy")}
    assert rows["scale"]["default"] == 1.0 and rows["device"]["flag"] == "--device"
    values = {"device": "cpu", "sbert_model": "m", "batch_size": None, "cross_model": "c"}
    assert options_from(["toy", "sbert", "cross", "bm25"], values) == {
        "toy": {"device": "cpu"}, "sbert": {"model": "m", "device": "cpu"},
        "cross": {"model": "c", "device": "cpu"}, "bm25": {}}
    res = runner.invoke(app, ["scorers", "--task", "text"])
    assert res.exit_code == 0 and "--classifier-model" in res.output
    assert runner.invoke(app, ["scorers", "--task", "nope"]).exit_code == 2


def test_old_names_still_work_with_a_warning(squad_file: Path) -> None:
    """``ScoringBatch.questions`` became ``queries`` (it holds ``""`` for classification) and
    ``Extractor.segment`` became ``to_units`` (``segment`` is the sentence splitter's module):
    scorers and callers written against the old names keep working for a release, warned."""
    from ids_extract import Extractor
    from ids_extract.select.units import ScoringBatch
    from ids_extract.squad.read import load

    batch = ScoringBatch([["a.", "b."]], ["why?"], [0])
    with pytest.warns(DeprecationWarning, match="queries"):
        assert list(batch.questions) == ["why?"]
    ex, data = Extractor(["bm25"], "top-k:1", quiet=True), load(squad_file)
    with pytest.warns(DeprecationWarning, match="to_units"):
        old = ex.segment(data)
    assert old.spans == ex.to_units(data).spans
