"""The library speaks parameters, the CLI speaks flags (issue 34, part 4): a library error names
the parameter a Python caller passed (`cascade_k`); the command line shows the same error with
the command's own flag (``--cascade-k``); outside ``cli/`` almost no source line spells a flag."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ids_extract.cli import app
from ids_extract.errors import ConfigError, check_limit, shown
from ids_extract.select.cascade import check_k

SRC = Path(__file__).resolve().parents[1] / "src" / "ids_extract"
FLAG = re.compile(r"--[a-z][a-z0-9-]+")
runner = CliRunner()


def test_library_errors_name_parameters() -> None:
    with pytest.raises(ConfigError) as found:
        check_k(-1)
    assert "`cascade_k` -1" in str(found.value) and "--" not in str(found.value)
    with pytest.raises(ConfigError, match="`limit` 0"):
        check_limit(0)


def test_shown_maps_known_parameters_and_keeps_the_rest() -> None:
    flags = {"cascade_k": "--cascade-k", "out": "--out"}.get
    assert shown("`cascade_k` -1; or another `out`; `other`", flags) == \
        "--cascade-k -1; or another --out; other"


@pytest.mark.parametrize("args, wanted", [
    (["--cascade-k", "-1"], "--cascade-k -1: give 0 (off)"),
    (["--on-bad-answer", "ignore"], "--on-bad-answer 'ignore': choose error, repair or skip"),
    (["--scorers", "bm25", "--fast"], "--fast sets the scorers"),
])
def test_the_cli_shows_its_flags(squad_file: Path, tmp_path: Path, args: list[str],
                                 wanted: str) -> None:
    result = runner.invoke(app, ["extract", str(squad_file), "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    assert wanted in result.output and "`" not in result.output


def test_an_argument_of_another_command_by_its_flags() -> None:
    result = runner.invoke(app, ["answer"])
    assert result.exit_code == 2
    assert "give --question (with --context or --context-file), or --input" in result.output


def _flag_lines(path: Path) -> set[int]:
    """Lines of ``path`` where a string literal (docstrings included) holds ``--name``."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return {line for tok in tokens if tok.type == tokenize.STRING and FLAG.search(tok.string)
            for line in range(tok.start[0], tok.end[0] + 1)
            if FLAG.search(path.read_text(encoding="utf-8").splitlines()[line - 1])}


def test_at_most_ten_source_lines_outside_the_cli_spell_a_flag() -> None:
    found = {f"{p.relative_to(SRC)}:{n}" for p in SRC.rglob("*.py")
             if "cli" not in p.relative_to(SRC).parts for n in _flag_lines(p)}
    assert len(found) <= 10, sorted(found)


def test_trainers_lock_their_own_output_folder(tmp_path: Path) -> None:
    """A trainer called from Python (not only its command) refuses a folder another run holds,
    before any work; the lock is the folder's, so the folder is usable again afterwards."""
    from ids_extract.files import folder_lock
    from ids_extract.models.cross.train import train_cross
    from ids_extract.models.dpr.train import TrainConfig, train_retriever
    from ids_extract.models.static.train import StaticTrainConfig, train_static
    from ids_extract.squad.model import SquadDataset

    out = tmp_path / "model"
    with folder_lock(out):
        for call in (lambda: train_retriever(TrainConfig(train_file="none.json"), out),
                     lambda: train_static(SquadDataset("1.1", []), out, StaticTrainConfig()),
                     lambda: train_cross([], out)):
            with pytest.raises(ConfigError, match="being written by another"):
                call()
    with pytest.raises(ConfigError, match="no training question"):  # free again: it runs
        train_cross([], out)
    assert not out.exists()  # a folder the lock made and nothing was written into is gone
