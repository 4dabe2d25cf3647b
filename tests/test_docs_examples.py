"""Every code block of the README and of the docs pages runs, on small data, as a user would run
it from the repository root.

Each page runs in a folder of its own laid out like the repository (``examples/``, and
``../shared/data`` holding a tiny SQuAD dev and training file and a tiny classification file),
with the default sentence encoder replaced by a tiny one built on the fly (no model hub, seconds
on a CPU). The blocks of a page run in order, sharing that folder and one Python namespace, so a
block may use what an earlier one wrote or defined:

- ``python`` blocks are executed (:data:`SMALL_PY` shortens training runs);
- ``bash`` blocks: every ``ids-extract`` line runs in this process through typer's CliRunner
  and must exit 0 (:data:`SMALL` adds options that make a training run tiny, e.g. ``--max-steps
  2``: the last of an option given twice wins); ``D=...`` sets a variable; installing and
  testing lines (:data:`NOT_RUN`) are what CI itself does and are not run here; any other line
  runs in a shell;
- ``json`` blocks must parse; ``text`` blocks are output and are not run.

A block preceded by ``<!-- docs-test: skip REASON -->`` is skipped, and the reason is reported
(pytest ``-rs``); :func:`test_few_blocks_are_skipped` keeps them few.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ids_extract.cli import app

from .conftest import cls_rows, people_dataset, squad_dict, write_rows

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"(?:<!-- docs-test: skip (?P<skip>[^>]*?) -->\s*\n)?```(?P<lang>\w*)\n"
                   r"(?P<body>.*?)```", re.S)
#: lines that install or test the project: CI runs them (``.ci/run``), not this test
NOT_RUN = ("pip ", "pytest", "ruff ", "lint-imports", "mypy", "bash .ci/run", "uv ", "mkdocs ",
           "python bench/")
#: options appended to a command so that it trains for seconds on the tiny data
SMALL: dict[str, list[str]] = {
    "train-reader": ["--max-steps", "2", "--batch-size", "4", "--save-steps", "100"],
    "train-classifier": ["--max-steps", "2", "--batch-size", "4"],
    "train-retriever": ["--epochs", "1", "--contexts-per-step", "2", "--heldout", "6"],
    "train-static": ["--epochs", "1"],
    "train-extractor": ["--heldout", "6", "--set", "reader_max_seq_length=64", "--device", "cpu",
                        "--precision", "fp32", "--quiet"],
    "sanity-check": ["--sample", "3", "--ig-steps", "2"],
    "explain": ["--ig-steps", "2"],
}
#: the same for Python blocks: (what the page says, what runs)
SMALL_PY = [("max_steps=300", "max_steps=2")]
#: commands that get the tiny encoder as the model they start from
TAKES_INIT = ("train-reader", "train-classifier", "train-retriever", "train-extractor")


def pages() -> list[Path]:
    """The README, every page under ``docs/``, and the generated page the site publishes."""
    docs = sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)
    return [ROOT / "README.md", *docs, ROOT / "bench" / "results" / "DISTRACTORS.md"]


def blocks(page: Path) -> list[tuple[str, str, str | None]]:
    """(language, body, skip reason or None) of every fenced block of ``page``, in order."""
    return [(m["lang"], m["body"], m["skip"]) for m in BLOCK.finditer(page.read_text("utf-8"))]


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.fixture(scope="session")
def tiny_env(tiny_sbert_dir: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[str, Any]]:
    """The cache root of the session (distilled static vectors, ONNX exports) and a cache of
    trained extractor folders by command line, so that two pages training the same one train
    it once."""
    yield {"home": tmp_path_factory.mktemp("ids-home"), "trained": {}}


def clear_caches() -> None:
    """Forget every model, tokenizer and selector the library cached in this process, so that
    the tiny encoder standing in for the default one here reaches no other test."""
    for name, module in list(sys.modules.items()):
        if name == "ids_extract" or name.startswith("ids_extract."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


@pytest.fixture
def own_caches() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


def lay_out(base: Path) -> Path:
    """A folder laid out as the repository and ``../shared`` beside it, with tiny data; the
    repository's root is returned."""
    repo, data = base / "repo", base / "shared" / "data"
    repo.mkdir()
    shutil.copytree(ROOT / "examples", repo / "examples")
    (data / "squad").mkdir(parents=True)
    (data / "squad" / "dev-v1.1.json").write_text(json.dumps(squad_dict()), encoding="utf-8")
    from ids_extract.squad.write import write_squad

    write_squad(people_dataset(), data / "squad" / "train-v1.1-subset44.json")
    (data / "classification").mkdir()
    rows = cls_rows() + [{**r, "id": f"{r['id']}b"} for r in cls_rows()]
    write_rows(data / "classification" / "bbc-train.jsonl", rows)
    return repo


def commands(body: str) -> Iterator[str]:
    """The lines of a bash block, continuations joined, comments and blank lines dropped."""
    for line in body.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def run_command(line: str, env: dict[str, str], state: dict[str, Any], tiny: dict[str, Path]
                ) -> None:
    for name, value in env.items():
        line = line.replace(f"${name}", value)
    if match := re.fullmatch(r"([A-Z_]+)=(\S+)", line):
        env[match[1]] = match[2]
        return
    if line.startswith(NOT_RUN):
        return
    if not line.startswith("ids-extract "):
        done = subprocess.run(line, shell=True, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        return
    argv = shlex.split(line.split(" # ")[0])[1:]
    name = argv[0]
    argv += SMALL.get(name, [])
    if name in TAKES_INIT:
        argv += ["--init", str(tiny["encoder"])]
    if name == "train-extractor":
        argv += ["--sbert-model", str(tiny["sbert"])]
        out = Path(argv[argv.index("--out") + 1])
        key = " ".join(argv)
        if key in state["trained"]:  # trained already for another page: the same folder
            shutil.copytree(state["trained"][key], out)
            return
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, f"{line}\n{result.output}\n{result.exception!r}"
    if name == "train-extractor":
        keep = state["home"] / f"extractor-{len(state['trained'])}"
        shutil.copytree(out, keep)
        state["trained"][key] = keep


@pytest.mark.usefixtures("own_caches")
@pytest.mark.parametrize("page", pages(), ids=page_id)
def test_every_block_of_the_page_runs(page: Path, tmp_path: Path, tiny_env: dict[str, Any],
                                      tiny_sbert_dir: Path, tiny_encoder_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    found = blocks(page)
    if not any(lang in ("bash", "python", "json") and skip is None for lang, _, skip in found):
        pytest.skip("no block to run")
    from ids_extract.models import hub
    from ids_extract.models.dpr import train as dpr_train

    # the default sentence encoder (all-MiniLM-L6-v2) is the tiny one here
    monkeypatch.setattr(hub, "default_sbert_model", lambda: str(tiny_sbert_dir))
    monkeypatch.setattr(dpr_train, "default_sbert_model", lambda: str(tiny_sbert_dir))
    # with the tiny encoder standing in for MiniLM, the shipped extractor (which records the
    # real MiniLM's hash) would be refused: the pages run here with no extractor shipped, so
    # the defaults are the paper's scorers on the tiny models (tests/test_shipped.py runs the
    # shipped one)
    from ids_extract.pipeline import pretrained

    monkeypatch.setattr(pretrained, "SHIPPED", tmp_path / "no-shipped-extractor")
    monkeypatch.setenv("IDS_EXTRACT_HOME", str(tiny_env["home"]))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(lay_out(tmp_path))
    tiny = {"encoder": tiny_encoder_dir, "sbert": tiny_sbert_dir}
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    env: dict[str, str] = {}
    skipped = []
    for k, (lang, body, skip) in enumerate(found):
        if skip is not None:
            skipped.append(f"block {k}: {skip}")
            continue
        if lang == "python":
            for said, small in SMALL_PY:
                body = body.replace(said, small)
            exec(compile(body, f"{page_id(page)}, block {k}", "exec"), namespace)  # noqa: S102
        elif lang == "bash":
            for line in commands(body):
                run_command(line, env, tiny_env, tiny)
        elif lang == "json":
            json.loads(body)
    if skipped:
        print(f"{page_id(page)}: skipped " + "; ".join(skipped), file=sys.stderr)


def test_few_blocks_are_skipped() -> None:
    """A skip marker is for what cannot run on small data (the hub, hours of training): a few,
    each with its reason."""
    marked = [(page_id(p), skip) for p in pages() for _, _, skip in blocks(p) if skip is not None]
    assert len(marked) <= 4, marked
    assert all(reason.strip() for _, reason in marked), marked


def test_the_runner_sees_every_block_of_the_site() -> None:
    langs = {lang for p in pages() for lang, _, _ in blocks(p)}
    assert {"bash", "python"} <= langs
    assert os.path.basename(pages()[0]) == "README.md"
