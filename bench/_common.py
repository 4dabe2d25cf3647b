"""Helpers shared by the bench scripts: timing a command, and writing results with their command."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEV = SHARED / "data" / "squad" / "dev-v1.1.json"
TRAIN = SHARED / "data" / "squad" / "train-v1.1-subset44.json"
REFERENCE = SHARED / "bench" / "reference_pipeline.py"
RESULTS = ROOT / "bench" / "results"
CLI = str(Path(sys.executable).with_name("ids-extract"))


def timed(cmd: list[str], **kwargs: Any) -> tuple[float, str, int]:
    """Wall seconds, stdout and peak RSS (MiB) of that one command; raises on failure.

    Bytecode caching is left on (as on a user's machine), so a warm-up run of each program makes
    later runs skip compiling the libraries' sources: the reference and ids-extract alike."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, **kwargs)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return seconds, stdout, usage.ru_maxrss // 1024


def machine() -> dict[str, Any]:
    """Where a figure was measured: cores, platform, and the CPU flags that decide speed (native
    bf16, VNNI int8, AVX-512 or AVX2 only)."""
    from ids_extract.models.runtime import cpu_flags

    flags = sorted(cpu_flags() & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16",
                                  "amx_bf16", "amx_int8"})
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": sys.version.split()[0], "processor": platform.processor(),
            "cpu_flags": flags}


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    payload = {"command": " ".join(["python", str(shown), *sys.argv[1:]]), "machine": machine(),
               **payload}
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return path


def extract(name: str, source: Path, work: Path, *args: str) -> dict[str, Any]:
    """One cold run of ``ids-extract extract`` into ``work/name`` (no cache), timed as a whole
    process: seconds, questions/s, peak RSS and the manifest's top-1/2/3 sentence recall."""
    import shutil

    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    seconds, _, rss = timed([CLI, "extract", str(source), "--out", str(out), "--quiet", *args])
    manifest = json.loads((out / "manifest.json").read_text())
    questions = manifest["input"]["questions"]
    recall = manifest["ranking"]["top_k_recall_pct"]
    row = {"seconds": round(seconds, 2), "questions": questions,
           "questions_per_s": round(questions / seconds, 2), "peak_rss_mib": rss,
           "top1": {k: v["top1"] for k, v in recall.items()}, "recall": recall}
    print(f"{name:<28}{seconds:>8.1f} s{row['questions_per_s']:>9.1f} q/s{rss:>7} MiB  "
          f"top1 {row['top1']}", flush=True)
    return row
