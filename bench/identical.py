"""Byte-identical outputs across a refactor (issue 34): the same jobs run by two source trees,
every output file compared by sha256.

    python bench/identical.py --before 10b872f            # the commit before, against this tree
    python bench/identical.py --before REV --after REV2   # two commits
    python bench/identical.py --smoke                     # HEAD against this tree, 20 of each

Each tree is a ``git worktree`` of its revision (the working tree itself for ``--after .``), run
as ``python -m ids_extract`` with ``PYTHONPATH`` at its ``src/`` (and ``PYTHONHASHSEED=0``, as the
earlier checks ran), in a process of its own. The jobs:

1. ``extract dev-v1.1.json``: the default (the shipped extractor's ``fast`` profile), every
   default level;
2. ``extract dev-v1.1.json --scorers bm25,sbert``: the paper's configuration, every default level;
3. ``extract-texts`` on 300 texts of ``bbc-train.jsonl`` spread over the file (every class):
   the text task's defaults.

Compared: every level file byte for byte, and ``manifest.json`` without what differs between
any two runs (``packages``: the version strings of the trees' checkouts; ``timings``).
Written: ``bench/results/identical.json`` (each file's hash in each tree, and the verdict).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke

B = Bench.of(__file__)
VOLATILE = ("packages", "timings")


def tree(rev: str) -> Path:
    """The source tree of ``rev``: this checkout for ``.``, else a worktree in the work folder."""
    if rev == ".":
        return B.root
    found = B.work / f"tree-{rev}"
    if not found.is_dir():  # a worktree whose folder was removed by hand is pruned first
        subprocess.run(["git", "-C", str(B.root), "worktree", "prune"], check=True)
        subprocess.run(["git", "-C", str(B.root), "worktree", "add", "--detach", str(found), rev],
                       check=True, capture_output=True)
    return found


def jobs(texts: Path, limit: int | None) -> dict[str, list[str]]:
    cut = ["--limit", str(limit)] if limit else []
    return {"dev-default": ["extract", str(B.dev), *cut],
            "dev-paper": ["extract", str(B.dev), "--scorers", "bm25,sbert", *cut],
            "bbc-300": ["extract-texts", str(texts)]}


def run(root: Path, args: list[str], out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONHASHSEED": "0"}
    subprocess.run([sys.executable, "-m", "ids_extract", *args, "--out", str(out), "--quiet",
                    "--overwrite"], check=True, env=env)


def digest(folder: Path, root: Path) -> dict[str, str]:
    """sha256 of every output file (the manifest without :data:`VOLATILE`, and with the tree's
    own path, where it names a shipped file, as ``<tree>``)."""
    found = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name == "manifest.json":
            text = data.decode("utf-8").replace(str(root / "src"), "<tree>/src")
            manifest = {k: v for k, v in json.loads(text).items() if k not in VOLATILE}
            data = json.dumps(manifest, sort_keys=True).encode()
        found[path.name] = hashlib.sha256(data).hexdigest()
    return found


def main() -> None:
    global B
    ap = add_smoke(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    ap.add_argument("--before", default="HEAD", help="a git revision [default: HEAD]")
    ap.add_argument("--after", default=".", help="a git revision, or . for this checkout")
    ap.add_argument("--texts", type=int, default=300)
    ap.add_argument("--reuse", action="store_true",
                    help="compare the outputs of an earlier run again, running only the missing")
    args = ap.parse_args()
    B = Bench.of(__file__, args.smoke)
    limit, n_texts = (20, 20) if args.smoke else (None, args.texts)
    texts = B.work / f"bbc-{n_texts}.jsonl"
    texts.parent.mkdir(parents=True, exist_ok=True)
    source = B.shared / "data" / "classification" / "bbc-train.jsonl"
    lines = source.read_text(encoding="utf-8").splitlines(True)
    texts.write_text("".join(lines[i * len(lines) // n_texts] for i in range(n_texts)),
                     encoding="utf-8")
    found: dict[str, Any] = {}
    trees = {side: tree(rev) for side, rev in (("before", args.before), ("after", args.after))}
    heads = {side: subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                                  capture_output=True, text=True).stdout.strip()
             for side, root in trees.items()}  # "after" on this checkout: its HEAD (and edits)
    try:
        for name, job in jobs(texts, limit).items():
            hashes = {}
            for side, root in trees.items():
                out = B.work / side / name
                if not (args.reuse and (out / "manifest.json").is_file()):
                    run(root, job, out)
                hashes[side] = digest(out, root)
            same = hashes["before"] == hashes["after"]
            found[name] = {"args": job, "identical": same, **hashes}
            print(f"{name}: {'identical' if same else 'DIFFERENT'} "
                  f"({len(hashes['after'])} files)", flush=True)
    finally:  # the worktrees go; the outputs stay in the work folder
        for root in trees.values():
            if root != B.root:
                subprocess.run(["git", "-C", str(B.root), "worktree", "remove", "--force",
                                str(root)], check=False, capture_output=True)
    verdict = all(f["identical"] for f in found.values())
    B.write_result("identical.json", {"before": args.before, "after": args.after,
                                      "commits": heads,
                                      "compared_without": list(VOLATILE), "jobs": found,
                                      "identical": verdict})
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
