"""Helpers shared by the bench scripts: timing a command, and writing results with their command."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEV = SHARED / "data" / "squad" / "dev-v1.1.json"
TRAIN = SHARED / "data" / "squad" / "train-v1.1-subset44.json"
REFERENCE = SHARED / "bench" / "reference_pipeline.py"
RESULTS = ROOT / "bench" / "results"


def timed(cmd: list[str], **kwargs: Any) -> tuple[float, str, int]:
    """Wall seconds, stdout and peak RSS (KiB, of children) of a command; raises on failure."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, done.stdout, peak


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": sys.version.split()[0], "processor": platform.processor()}


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    payload = {"command": " ".join(["python", str(shown), *sys.argv[1:]]), "machine": machine(),
               **payload}
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return path
