"""The stage runner: finished stages are skipped, a stage whose output is gone runs again, a
changed setting is refused unless overwrite (and re-runs what depends on it), and every record
holds time and peak memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ids_extract.apps.stages import PeakMemory, Stage, read_state, run_stages
from ids_extract.errors import ConfigError


def pipeline(folder: Path, calls: list[str], setting: int = 1) -> list[Stage]:
    def make(name: str) -> Any:
        def run() -> dict[str, Any]:
            calls.append(name)
            (folder / name).write_text(name)
            return {"ran": name}
        return run

    return [Stage("a", {"x": 1}, make("a"), outputs=["a"]),
            Stage("b", {"x": setting}, make("b"), ["a"], ["b"]),
            Stage("c", {}, make("c"), ["b"], ["c"])]


def test_finished_stages_are_skipped_and_missing_outputs_rerun(tmp_path: Path) -> None:
    calls: list[str] = []
    records = run_stages(tmp_path, pipeline(tmp_path, calls), quiet=True)
    assert calls == ["a", "b", "c"] and records["b"].result == {"ran": "b"}
    assert all(r.peak_rss_mib > 0 and r.wall_s >= 0 for r in records.values())
    run_stages(tmp_path, pipeline(tmp_path, calls), quiet=True)
    assert calls == ["a", "b", "c"]
    (tmp_path / "b").unlink()
    run_stages(tmp_path, pipeline(tmp_path, calls), quiet=True)
    assert calls == ["a", "b", "c", "b"]         # only the stage whose output went missing


def test_a_changed_setting_is_refused_unless_overwrite(tmp_path: Path) -> None:
    calls: list[str] = []
    run_stages(tmp_path, pipeline(tmp_path, calls), quiet=True)
    with pytest.raises(ConfigError, match="stages b, c run with other settings"):
        run_stages(tmp_path, pipeline(tmp_path, calls, setting=2), quiet=True)
    run_stages(tmp_path, pipeline(tmp_path, calls, setting=2), overwrite=True, quiet=True)
    assert calls == ["a", "b", "c", "b", "c"]    # b changed, and c depends on it
    assert list(read_state(tmp_path)) == ["a", "b", "c"]


def test_peak_memory_sees_an_allocation_inside_the_block() -> None:
    import time

    with PeakMemory(every_s=0.01) as before:
        pass
    with PeakMemory(every_s=0.01) as memory:
        block = bytearray(200 * 2**20)           # 200 MiB, every page touched
        time.sleep(0.05)
        del block
    with PeakMemory(every_s=0.01) as after:      # freed again (a large block is unmapped)
        pass
    assert memory.peak >= before.peak + 150
    assert after.peak <= memory.peak - 150
