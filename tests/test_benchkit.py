"""What the bench scripts share (:mod:`ids_extract.apps.benchkit`): where a bench writes (never
``bench/results`` in a smoke run), a command timed in its own process, a child's JSON answer,
results written with their command and machine, scores cached per scorer by its config, and
top-k recall rows of scorers and fusions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from ids_extract.apps.benchkit import SMOKE_DIR, Bench, child_json, recall, scores_for, timed
from ids_extract.scorers.base import Scorer, ScoringBatch
from ids_extract.squad.read import load
from ids_extract.squad.units import answer_units, squad_units

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "compress.py"


def test_a_smoke_bench_writes_only_in_its_own_folder(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    full = Bench.of(SCRIPT)
    assert full.results == SCRIPT.parent / "results" and full.work.name == "compress"
    monkeypatch.setenv(SMOKE_DIR, str(tmp_path))
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--smoke"])
    smoke = Bench.of(SCRIPT, smoke=True)
    assert smoke.results.is_relative_to(tmp_path) and smoke.work.is_relative_to(tmp_path)
    path = smoke.write_result("x.json", {"figure": 1.5})
    written = json.loads(path.read_text())
    assert written["command"] == "python bench/compress.py --smoke" and written["figure"] == 1.5
    assert written["machine"]["cpus"] and isinstance(written["machine"]["cpu_flags"], list)
    assert smoke.child(["false"], lambda: {"here": True}) == {"here": True}  # no child started
    assert smoke.dev.name == "dev-v1.1.json" and smoke.reference.name == "reference_pipeline.py"


def test_a_command_is_timed_and_a_child_answers_in_json() -> None:
    seconds, out, rss = timed([sys.executable, "-c", "print('hello')"])
    assert out == "hello\n" and seconds > 0 and rss > 0
    with pytest.raises(RuntimeError, match="boom"):
        timed([sys.executable, "-c", "import sys; sys.exit('boom')"])
    code = "import json; print('working'); print(json.dumps({'rows': [1, 2]}))"
    assert child_json([sys.executable, "-c", code]) == {"rows": [1, 2]}


class Counting(Scorer):
    """Scores a unit by its length, counting how often it ran."""

    name = "counting"
    calls = 0

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = sign

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        Counting.calls += 1
        return [self.sign * np.array([len(u) for u in batch.contexts[c]], dtype=float)
                for c in batch.owner]


def test_scores_are_cached_by_the_scorers_config(squad_file: Path, tmp_path: Path) -> None:
    units = squad_units(load(squad_file))
    first, seconds = scores_for(units, Counting(), tmp_path)
    calls = Counting.calls
    again, cached_seconds = scores_for(units, Counting(), tmp_path)
    assert Counting.calls == calls and cached_seconds == seconds  # read back, with its cost
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other, _ = scores_for(units, Counting(sign=-1.0), tmp_path)  # another option: scored again
    assert Counting.calls > calls and np.array_equal(other[0], -first[0])


def test_recall_of_a_scorer_and_of_a_fusion(squad_file: Path) -> None:
    units = squad_units(load(squad_file))
    gold = answer_units(units)
    perfect = [np.array([1.0 if i in g else 0.0 for i in range(len(units.spans[units.owner[q]]))])
               for q, g in enumerate(gold)]
    worst = [-s for s in perfect]
    assert recall(units, {"p": perfect}, ["p"])["top1"] == 100.0
    assert recall(units, {"w": worst}, ["w"])["top1"] < 100.0
    fused = recall(units, {"p": perfect, "w": worst}, ["p", "w"], {"p": 2.0, "w": 1.0})
    assert fused["top1"] == 100.0  # the perfect signal outweighs its mirror
