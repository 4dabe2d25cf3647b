"""Every snippet of the README and of the docs pages (``docs/**/*.md``, where most commands moved)
runs as written from the repo root: each ``ids-extract`` command names a command and options that
exist with values they accept, and reads files that exist (or that an earlier snippet writes);
every Python block compiles and its imports resolve; the README's three first commands are the
install, the main job and the test command. ``tests/test_docs_examples.py`` runs them too."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest
import typer

from ids_extract.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: the README and every docs page, one text (the blocks of all of them)
PAGES = "\n".join([README] + [p.read_text(encoding="utf-8")
                              for p in sorted((ROOT / "docs").rglob("*.md"))])
BLOCK = re.compile(r"```(bash|python|json)\n(.*?)```", re.S)
#: options whose value is a path the command reads
READS = {"--train", "--data", "--gold", "--model", "--context-file", "--input", "--dpr-model",
         "--reader-model", "--extractor", "--init", "--predictions", "--config"}
WRITES = {"--out", "-o"}


def blocks(kind: str, text: str = PAGES) -> list[str]:
    return [body for lang, body in BLOCK.findall(text) if lang == kind]


def commands() -> list[list[str]]:
    """``ids-extract …`` lines of the bash blocks (continuations joined, comments dropped), and
    shell variables (``D=...``) expanded."""
    out, env = [], {}
    for body in blocks("bash"):
        for line in body.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if match := re.fullmatch(r"([A-Z_]+)=(\S+)", line):
                env[match[1]] = match[2]
                continue
            for name, value in env.items():
                line = line.replace(f"${name}", value)
            if line.startswith("ids-extract "):
                out.append(shlex.split(line)[1:])
    return out


def test_the_first_lines_are_install_main_job_and_tests() -> None:
    first = [line.split("#")[0].strip() for line in blocks("bash", README)[0].splitlines()
             if line.strip()]
    assert first[0].startswith("pip install") and first[1].startswith("ids-extract extract")
    assert first[2] == "pytest"


@pytest.mark.parametrize("argv", commands(), ids=lambda a: " ".join(a)[:60])
def test_every_command_parses_and_reads_what_exists(argv: list[str]) -> None:
    group = typer.main.get_command(app)  # typer may carry its own click: use its classes
    name, *args = argv
    command = group.get_command(group.context_class(group), name)  # type: ignore[attr-defined]
    assert command is not None, f"no command {name!r}"
    command.make_context(name, list(args))  # unknown options or bad values raise here
    produced = {Path(v) for c in commands() for k, v in zip(c, c[1:], strict=False)
                if k in WRITES} | {Path("models"), Path("runs")}
    for key, value in zip(args, args[1:], strict=False):
        if key in READS and not value.startswith(("http", "facebook/", "google/")):
            path = Path(value)
            assert (ROOT / path).exists() or any(path == p or p in path.parents
                                                 for p in produced), f"{value} does not exist"


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[0][:50])
def test_python_blocks_compile_and_import(code: str) -> None:
    tree = ast.parse(code)
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            exec(compile(ast.Module([node], []), "<README>", "exec"), {})  # noqa: S102
