"""Per-stage profile of the default job (``ids-extract extract dev-v1.1.json`` with no options),
from cProfile's inclusive time of fixed entry points, so the same script profiles any version of
the code (``--tree`` runs another checkout's ``src/``).

    python bench/stage_profile.py --result profile-after.json     # --smoke: 20 questions, bm25
    git worktree add /tmp/before 95af769 && python bench/stage_profile.py --tree /tmp/before \\
        --result profile-before.json

Stages are nested (the scoring pass holds segmentation and encoding): the table gives each
stage's inclusive seconds and share of the whole run; "startup" is what no stage holds (imports,
model loading, the first ONNX export). cProfile slows Python-heavy stages more than library
calls, so shares, not absolute seconds, are the point. Writes ``bench/results/<result>``.

(Not named ``profile.py``: ``python bench/x.py`` imports from ``bench/`` first, so that name
would shadow the standard library's ``profile``, which ``cProfile`` and transformers import.)
"""

from __future__ import annotations

import argparse
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ids_extract.apps.benchkit import Bench, add_smoke

#: stage -> (file suffix, function name) entry points whose inclusive time is the stage's
STAGES: dict[str, list[tuple[str, str]]] = {
    "read + validate (scan)": [("squad/stream.py", "scan")],
    "scoring pass": [("pipeline/engine.py", "score_locally")],
    "  segment (pysbd)": [("select/segment.py", "split_sentences")],
    "  encode (sbert)": [("scorers/sbert.py", "encode")],
    "  bm25": [("scorers/bm25.py", "score")],
    "  fuse": [("select/fusion.py", "weighted"), ("select/fusion.py", "ranking")],
    "levels pass": [("pipeline/engine.py", "write_levels")],
    "  count tokens": [("select/budget.py", "count_tokens")],
    "  select + remap": [("pipeline/extractor.py", "_apply_level")],  # before the driver
    "  write files": [("pipeline/output.py", "add"), ("pipeline/output.py", "close")],
}
TOP = ("read + validate (scan)", "scoring pass", "levels pass")
#: a stage's entry points in code of another shape, read when the first ones are not there: since
#: the one driver, the selection step and the QA writer are called apart
LATER: dict[str, list[tuple[str, str]]] = {
    "  select + remap": [("select/step.py", "choose"), ("pipeline/extractor.py", "write")],
    # since the one output-folder engine (pipeline/run.py) runs both passes of every task
    "scoring pass": [("pipeline/run.py", "_score")],
    "levels pass": [("pipeline/run.py", "_write")]}

CHILD = """
import cProfile, sys
from ids_extract.cli import app
sys.argv = ["ids-extract", "extract", {dev!r}, "--out", {out!r}, "--quiet", *{extra!r}]
cProfile.run("app(standalone_mode=False)", {stats!r})
"""


def profile(dev: Path, tree: Path | None, out: Path, stats: Path, extra: list[str]) -> float:
    """Seconds of the whole job profiled in a child (``tree``'s code when given)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if tree is not None:
        env["PYTHONPATH"] = str(tree / "src")
    code = CHILD.format(dev=str(dev), out=str(out), stats=str(stats), extra=extra)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def table(stats: Path, total: float) -> dict[str, dict[str, float]]:
    data = pstats.Stats(str(stats)).stats  # type: ignore[attr-defined]
    rows: dict[str, dict[str, float]] = {}

    def inclusive(entries: list[tuple[str, str]]) -> float:
        return sum(ct for (file, _, func), (_, _, _, ct, _) in data.items()
                   for suffix, wanted in entries if file.endswith(suffix) and func == wanted)

    for name, entries in STAGES.items():
        seconds = inclusive(entries) or inclusive(LATER.get(name, []))
        rows[name] = {"seconds": round(seconds, 2), "share_pct": round(100 * seconds / total, 1)}
    startup = total - sum(rows[n]["seconds"] for n in TOP)
    rows["startup (imports, model load, export)"] = {
        "seconds": round(startup, 2), "share_pct": round(100 * startup / total, 1)}
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, default=None, help="a checkout whose src/ to profile")
    ap.add_argument("--result", default="profile-after.json")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    extra = ["--limit", "20", "--scorers", "bm25"] if bench.smoke else []
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "job.prof"
        total = profile(bench.dev, args.tree, Path(tmp) / "out", stats, extra)
        rows = table(stats, total)
    for name, row in rows.items():
        print(f"{name:<40}{row['seconds']:>9.2f} s{row['share_pct']:>7.1f} %")
    head = subprocess.run(["git", "-C", str(args.tree or bench.root), "rev-parse", "--short",
                           "HEAD"], capture_output=True, text=True).stdout.strip()
    print("wrote", bench.write_result(args.result, {"code": head, "job": "extract dev-v1.1 (defaults)",
                                             "total_s_under_cprofile": round(total, 2),
                                             "stages": rows}))


if __name__ == "__main__":
    main()
