"""Every bench script's ``--smoke`` runs as a user runs it (``python bench/<name>.py --smoke``, a
process of its own), on tiny inputs, and writes its result file in the smoke folder: never in
``bench/results/``, which must be left as it was. The scripts are thin configurations over
:mod:`ids_extract.apps.benchkit`; this is what keeps them running as the library changes."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import DEV

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_"))
#: the result files of each smoke (the names a full run writes)
WRITES = {"classification": ["classification.json", "classification-costs.json"],
          "distractor_examples": ["DISTRACTORS.md"], "ladder": ["ladder.json"],
          "fusion_objectives": ["fusion-objectives.json"],
          "extractor_costs": ["extractor-costs.json"],
          "stage_profile": ["profile-after.json"], "throughput": ["throughput.json"],
          "extractor_profiles": ["extractor-profiles.json"],
          "readers": ["readers-costs.json", "readers.json"]}

pytestmark = pytest.mark.skipif(not DEV.exists(), reason="../shared/data not present")


def results_state() -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in (BENCH / "results").rglob("*") if p.is_file()}


def test_every_bench_script_has_a_smoke_path() -> None:
    assert SCRIPTS, "no bench scripts found"
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        assert "add_smoke(" in text, f"{script.name}: no --smoke"
        assert "sys.path" not in text, f"{script.name}: edits sys.path"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_smoke(script: Path, tmp_path: Path) -> None:
    before = results_state()
    env = {**os.environ, "IDS_BENCH_SMOKE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "IDS_EXTRACT_HOME": str(tmp_path / "home"),
           "TRANSFORMERS_OFFLINE": "1"}
    start, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, str(script), "--smoke"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, f"{script.name} --smoke failed:\n{done.stderr[-4000:]}"
    written = sorted(p.name for p in (tmp_path / "results").glob("*"))
    for name in WRITES.get(script.stem, [f"{script.stem}.json"]):
        assert any(w.startswith(name.removesuffix(".json")) for w in written), \
            f"{script.name} --smoke wrote {written}"
    for path in (tmp_path / "results").glob("*.json"):
        payload = json.loads(path.read_text(encoding="utf-8"))
        assert payload["command"].endswith("--smoke") and payload["machine"]["cpus"]
    assert results_state() == before, f"{script.name} --smoke wrote into bench/results"
    used = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    print(f"{script.stem}: {seconds:.1f} s wall, {used:.1f} s CPU")
