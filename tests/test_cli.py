"""The command line's manners: help shows what it says, errors are one line, results go to
stdout, the version is there (issue 15 items 12, 13, 18)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ids_extract import __version__
from ids_extract.cli import app

runner = CliRunner()


def test_help_keeps_square_brackets() -> None:
    res = runner.invoke(app, ["extract", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for shown in ("tokens:L[@tokenizer]", "[default: ./extract-<input name>]",
                  "'ids-extract[ray]'"):
        assert shown in res.output, shown


def test_version_and_python_dash_m() -> None:
    assert runner.invoke(app, ["--version"]).output.strip() == f"ids-extract {__version__}"
    done = subprocess.run([sys.executable, "-m", "ids_extract", "--version"], check=True,
                          capture_output=True, text=True)
    assert done.stdout.strip() == f"ids-extract {__version__}"


def test_default_out_is_said_and_validate_reports_on_stdout(
        squad_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["extract", str(squad_file), "--scorers", "bm25", "--levels",
                              "top-k:1"])
    assert res.exit_code == 0 and "no --out given: writing to extract-tiny/" in res.stderr
    res = runner.invoke(app, ["validate", "extract-tiny"])
    assert res.exit_code == 0 and "ok D1-top-k1" in res.stdout and not res.stderr


def test_an_unexpected_error_is_one_line_unless_debug(squad_file: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ids_extract.pipeline import engine

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(engine, "fingerprint", boom)
    args = ["extract", str(squad_file), "--out", str(tmp_path / "o"), "--scorers", "bm25"]
    res = runner.invoke(app, args)
    assert res.exit_code == 1 and "RuntimeError: disk on fire (an unexpected error" in res.stderr
    assert "second line" not in res.stderr and "Traceback" not in res.stderr
    res = runner.invoke(app, ["--debug", *args])
    assert isinstance(res.exception, RuntimeError)
