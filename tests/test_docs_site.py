"""The docs site's generated pages (``docs/_hooks/idsdocs.py``): the CLI reference from the Typer
app, the benchmark tables from ``bench/results/*.json`` (a file not there yet is said so), the
README as the home page; and the README stays a short entry point. ``.ci/run`` builds the whole
site with ``mkdocs build --strict``."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import typer

from ids_extract.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("idsdocs", ROOT / "docs" / "_hooks" / "idsdocs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["idsdocs"] = module
    spec.loader.exec_module(module)
    return module


def test_the_readme_is_short_and_starts_with_the_three_commands() -> None:
    assert len(README) <= 12_000
    first = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first is not None and README.index(first[0]) < README.index("\n\n**")
    lines = [line.split("#")[0].strip() for line in first[1].splitlines()]
    assert lines == ["pip install -e '.[dev]'",
                     "ids-extract extract ../shared/data/squad/dev-v1.1.json --out runs/dev-v1.1",
                     "pytest"]


def test_the_readme_names_the_default_and_how_to_change_it() -> None:
    for needle in ("squad-en", "`fast` profile", "--scorers bm25,sbert", "--profile best|fast",
                   "train-extractor", "package-extractor", "docs/benchmarks.md"):
        assert needle in README, needle


def test_every_figure_of_the_readme_comes_from_a_results_file() -> None:
    """The README states no measurement: a decimal number in its prose (not in a command, a
    level such as tokens:128, or a version) would be one."""
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    prose = re.sub(r"`[^`]*`", "", prose)
    assert not re.findall(r"\b\d+\.\d+\s*(?:%|×|x\b|ms|s\b|min|points)", prose)


def test_the_cli_reference_has_every_command_and_its_options() -> None:
    page = hooks().cli_reference()
    group = typer.main.get_command(app)
    ctx = group.context_class(group)
    for name in group.list_commands(ctx):  # type: ignore[attr-defined]
        assert f"\n## {name}\n" in page, name
    compress = page.split("\n## compress\n")[1].split("\n## ")[0]
    for option in ("--budget", "--extractor", "--profile", "--cascade-k"):
        assert option in compress, option
    assert "[default: tokens:256]" in compress


def test_a_results_file_that_is_not_there_yet_is_said_so(tmp_path: Path) -> None:
    text = hooks().render_result("pretrained.json", tmp_path)
    assert "not there yet" in text and "|" not in text


def test_the_shipped_extractors_results_are_tabled_from_the_file(tmp_path: Path) -> None:
    result = {"command": "python bench/pretrained.py", "machine": {"cpus": 2,
              "cpu_flags": ["avx2", "avx512f"]}, "size_mb": 61.5, "compress_p95_ms": 47.25,
              "profiles": {p: {"top1": 85.5 + i, "top3": 98.1, "distractor_first": 7.5 - i,
                               "speed_vs_reference": 3.25 - i, "multi_passage_kept_128": 93.5}
                           for i, p in enumerate(("fast", "best"))},
              "training_minutes": {"dpr": 6.5, "reader": 24.5}}
    (tmp_path / "pretrained.json").write_text(json.dumps(result), encoding="utf-8")
    text = hooks().render_result("pretrained.json", tmp_path)
    assert "python bench/pretrained.py" in text and "avx512f" in text
    for figure in ("61.5", "47.25", "85.5", "86.5", "2.25", "93.5", "24.5"):
        assert figure in text, figure
    assert "| fast |" in text and "| best |" in text


def test_every_committed_results_file_renders() -> None:
    module = hooks()
    for path in sorted((ROOT / "bench" / "results").glob("*.json")):
        text = module.render_result(path.name)
        assert text.startswith("From [`bench/results/"), path.name
    index = module.bench_index()
    assert "extractor.json" in index and "python bench/extractor.py" in index


def test_the_home_page_is_the_readme_with_site_links() -> None:
    home = hooks().home_page(README)
    assert "](docs/" not in home and "](guide/compress.md)" in home
    assert "](distractors.md)" in home


def test_the_distractors_page_lives_with_the_results_and_its_generator_writes_there() -> None:
    assert (ROOT / "bench" / "results" / "DISTRACTORS.md").is_file()
    assert not (ROOT / "docs" / "DISTRACTORS.md").exists()
    source = (ROOT / "bench" / "distractor_examples.py").read_text(encoding="utf-8")
    assert 'bench.results / "DISTRACTORS.md"' in source and '"docs" / "DISTRACTORS.md"' not in source


def test_every_page_of_the_nav_exists() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    generated = {"index.md", "distractors.md"}
    for page in re.findall(r":\s*([\w/.-]+\.md)\s*$", config, re.M):
        assert page in generated or (ROOT / "docs" / page).is_file(), page


def test_ci_builds_the_site_strict_between_mypy_and_pytest() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    build = next(i for i, line in enumerate(lines) if line.startswith("mkdocs build --strict"))
    assert lines.index("mypy") < build < lines.index("pytest")
    assert "--site-dir" in lines[build]
