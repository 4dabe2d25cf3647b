"""Equal compute: the cost probe, a budget turned into steps, learning curves recorded during
training (and trimmed on resume), the stopping rule (tiny BERTs built from configs)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from ids_extract.apps.ladder import load_config
from ids_extract.apps.ladder.compute import ComputeBudget, probe
from ids_extract.apps.ladder.report import answers, pareto
from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.models.qa.curve import Curve, LearningCurve, Point, StopRule
from ids_extract.models.qa.features import ReaderConfig
from ids_extract.squad.read import load

runner = CliRunner()


def _costs(tmp_path: Path, seconds: float) -> Path:
    path = tmp_path / "costs.json"
    rows = [{"init_layers": 2, "max_seq_length": 40, "batch_size": 4, "seconds_per_step": seconds}]
    path.write_text(json.dumps({"rows": rows}))
    return path


def test_probe_times_real_steps(tiny_encoder_dir: Path, squad_file: Path) -> None:
    row = probe(load(squad_file), str(tiny_encoder_dir), 1, 40, steps=5, warmup=2, batch_size=2,
                precision="fp32")
    assert row["init_layers"] == 1 and row["max_seq_length"] == 40 and row["steps_timed"] == 3
    assert 0 < row["seconds_per_step"] < 30 and row["peak_rss_mib"] > 50


def test_budget_gives_steps_from_measured_cost(tmp_path: Path) -> None:
    budget = ComputeBudget(1.0, str(_costs(tmp_path, 0.5)))
    assert budget.steps(2, 40, 4) == 120  # 60 s / 0.5 s
    with pytest.raises(ConfigError, match="no measured cost for L4"):
        budget.steps(4, 40, 4)
    with pytest.raises(ConfigError, match="no costs file"):
        ComputeBudget(1.0, str(tmp_path / "none.json")).steps(2, 40, 4)


def _config(tmp_path: Path, squad_file: Path, encoder: Path, **cell: object) -> Path:
    config = {
        "train": str(squad_file), "dev": str(squad_file), "scorers": ["bm25"],
        "training": {"batch_size": 4, "precision": "fp32", "device": "cpu", "learning_rate": 1e-3},
        "budget": {"minutes": 0.05, "costs": str(_costs(tmp_path, 0.5))},  # 3 s: 6 steps
        "curve": {"sample": 4, "points": 3},
        "cells": [{"name": "Tiny", "model": str(encoder), "init_layers": 2,
                   "max_seq_length": 40, "methods": ["ids"], **cell}],
    }
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps(config))
    return path


def test_budget_cell_records_its_curve(tiny_encoder_dir: Path, squad_file: Path,
                                       tmp_path: Path) -> None:
    path = _config(tmp_path, squad_file, tiny_encoder_dir)
    [cell] = load_config(path).cells
    assert cell.training.max_steps == 6 and cell.curve_every == 2 and cell.training.save_steps == 2
    res = runner.invoke(app, ["ladder", str(path), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0, res.output
    row = json.loads((tmp_path / "o" / "cells" / "Tiny-40-ids" / "metrics.json").read_text())
    assert row["steps"] == 6 and [p["step"] for p in row["curve"]] == [2, 4, 6]
    minutes = [p["train_minutes"] for p in row["curve"]]
    assert minutes == sorted(minutes) and row["train_minutes"] == minutes[-1] > 0
    assert row["stopped_by"] is None and row["cpu_flags"] is not None
    assert row["epochs"] > 0 and all(0 <= p["f1"] <= 100 for p in row["curve"])


def test_stop_rule_ends_a_run_to_convergence(tiny_encoder_dir: Path, squad_file: Path,
                                             tmp_path: Path) -> None:
    stop = {"delta": 1000.0, "max_epochs": 50, "every_minutes": 0.0167}  # a point every 2 steps
    path = _config(tmp_path, squad_file, tiny_encoder_dir, stop=stop)
    [cell] = load_config(path).cells
    assert cell.training.max_steps == -1 and cell.training.epochs == 50 and cell.curve_every == 2
    res = runner.invoke(app, ["ladder", str(path), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0, res.output
    row = json.loads((tmp_path / "o" / "cells" / "Tiny-40-ids" / "metrics.json").read_text())
    assert [p["step"] for p in row["curve"]] == [2, 4] and row["steps"] == 4
    assert "1000.0 F1 apart" in row["stopped_by"]


def test_a_stop_rule_needs_a_budget(tiny_encoder_dir: Path, squad_file: Path,
                                    tmp_path: Path) -> None:
    path = _config(tmp_path, squad_file, tiny_encoder_dir, stop={"delta": 0.5})
    raw = json.loads(path.read_text())
    del raw["budget"]
    path.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="stop rule needs a budget"):
        load_config(path)


def test_resume_keeps_points_up_to_the_checkpoint(tmp_path: Path) -> None:
    Curve([Point(s, s / 10, s / 2, 10.0 + s, 5.0, 0.1) for s in (2, 4, 6)]).write(tmp_path)
    callback = LearningCurve(tmp_path, SimpleNamespace(), ReaderConfig(max_seq_length=40), 2)
    callback.on_train_begin(None, SimpleNamespace(global_step=4), None)
    assert [p.step for p in callback.curve.points] == [2, 4] and callback._offset == 2.0


def test_stop_rule_and_pareto() -> None:
    points = [Point(1, 0.1, 1.0, 40.0, 30.0, 0.1), Point(2, 0.2, 2.0, 40.4, 30.0, 0.1)]
    assert StopRule(0.5).met(points) and not StopRule(0.3).met(points)
    assert not StopRule(0.5).met(points[:1])
    rows = [{"ms_per_question": 1, "f1": 50}, {"ms_per_question": 2, "f1": 45},
            {"ms_per_question": 3, "f1": 60}]
    assert [r["f1"] for r in pareto(rows)] == [50, 60]


def test_answers_are_computed_from_rows() -> None:
    cells = [{"name": "L6", "max_seq_length": 64, "method": m, "f1": f}
             for m, f in (("ids", 55.0), ("window", 50.0), ("truncate", 40.0))]
    cells.append({"name": "L6", "max_seq_length": 384, "method": "window", "f1": 70.0})
    measured = [{"cell": "L6@64 ids", "batch": 1, "extraction": "defaults", "ms_per_question": 5},
                {"cell": "L6@384 window", "batch": 1, "extraction": "none", "ms_per_question": 20}]
    found = answers(cells, [], measured)
    assert found["a_ids_against_baselines"]["L6@64"] == {"ids_minus_window": 5.0,
                                                         "ids_minus_truncate": 15.0}
    assert found["a_ids_wins_everywhere"] is True
    assert found["c_closest_small_cell"]["f1_gap"] == 15.0
    assert found["c_closest_small_cell"]["cost_share"] == {"batch1": 0.25}
