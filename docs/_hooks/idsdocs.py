"""MkDocs hooks of the docs site (``hooks:`` in ``mkdocs.yml``): pages made at build time from
the code and the committed results, so neither goes stale in the docs.

- ``<!-- cli-reference -->`` becomes the reference of every ``ids-extract`` command, read from
  the Typer app (``typer.main.get_command``): its help, usage and every visible option with its
  default, as ``--help`` shows them.
- ``<!-- bench: NAME.json -->`` becomes the tables of ``bench/results/NAME.json`` listed in
  :data:`SECTIONS` (a file that is not there yet is said so, not an error);
  ``<!-- bench-index -->`` the list of every results file with the command that made it.
- ``bench/results/`` is published under ``results/`` (JSON, CSV, PNG), and
  ``bench/results/DISTRACTORS.md`` (written by ``bench/distractor_examples.py``) is the page
  ``distractors.md``.
- The home page ``index.md`` is the repository's ``README.md``, its links made relative to
  ``docs/`` (:func:`home_page`), so the two never disagree.

Everything here runs offline; the functions are plain so that ``tests/test_docs_site.py`` calls them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
PUBLISHED = (".json", ".csv", ".png")

# ------------------------------------------------------------------ tables


def cell(value: Any) -> str:
    """One table cell: numbers as written in the file, lists joined, Markdown kept safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        value = round(value, 4)
    if isinstance(value, list | tuple):
        value = ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        value = ", ".join(f"{k} {cell(v)}" for k, v in value.items())
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def dig(data: Any, path: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"`` (a key may hold dots itself: the longest match wins);
    None when a step is missing."""
    if not path:
        return data
    if not isinstance(data, Mapping):
        return None
    for cut in range(len(path), 0, -1):
        head = path[:cut]
        if head in data and (cut == len(path) or path[cut] == "."):
            return dig(data[head], path[cut + 1:])
    return None


def markdown_table(header: list[str], rows: Iterable[list[Any]], escape: bool = True) -> str:
    """A Markdown table; ``escape=False``: the cells are Markdown already."""
    show = cell if escape else str
    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(show(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def table_of(data: Any, columns: list[str] | None = None, key: str = "") -> str:
    """A table of a mapping of records (one row per key) or a list of records. ``columns``:
    dotted paths into each record (default: every scalar field of the records, in order)."""
    if isinstance(data, Mapping):
        records = [(str(k), v) for k, v in data.items() if isinstance(v, Mapping)]
        scalars = [(str(k), v) for k, v in data.items() if not isinstance(v, Mapping)]
        if len(scalars) > len(records):  # a flat record: one row per field
            return markdown_table(["", "value"], [[k, v] for k, v in scalars])
    elif isinstance(data, list):
        records = [("", v) for v in data if isinstance(v, Mapping)]
    else:
        return cell(data)
    if columns is None:
        columns = []
        for _, record in records:
            columns += [c for c, v in record.items()
                        if not isinstance(v, Mapping | list) and c not in columns]
    named = isinstance(data, Mapping)
    header = ([key] if named else []) + columns
    rows = [([name] if named else []) + [dig(r, c) for c in columns] for name, r in records]
    return markdown_table(header, rows)


#: per results file, the tables to show: (title, path into the file, columns or None for all)
Section = tuple[str, str, list[str] | None]
RECALL = ["top1", "top2", "top3"]
STRESS = ["top1", "top3", "stress_top1", "top1_loss", "distractor_first"]
LATENCY = [f"{size}.{m}" for size in ("1000 tokens", "4000 tokens", "16000 tokens", "50000 words")
           for m in ("p50_ms", "p95_ms")]
CLS_ROWS = ["L", "mode", "data", "eval", "accuracy", "macro_f1", "steps", "train_seconds"]
SECTIONS: dict[str, list[Section]] = {
    "pretrained.json": [
        ("The shipped extractor", "", ["size_mb", "compress_p95_ms"]),
        ("Its profiles on dev", "profiles", ["top1", "top3", "distractor_first",
                                             "speed_vs_reference", "multi_passage_kept_128",
                                             "compress_p95_ms"]),
        ("Training, minutes per stage", "training_minutes", None)],
    "extractor.json": [
        ("Sentence recall on dev, clean and with a distractor (%)", "dev.rows", STRESS),
        ("Targets", "targets", None), ("Met", "acceptance", None),
        ("Training stages", "training.stages", ["wall_s", "peak_rss_mib"]),
        ("Answer sentence among the cheap signals' top K (%)",
         "cascade.answer_in_cheap_top_k_pct", None),
        ("Whole `extract --extractor` job against the reference", "throughput", None)],
    "extractor-profiles.json": [
        ("Whole `extract` jobs on dev", "timing",
         ["seconds", "questions_per_s", "speed_vs_reference", "peak_rss_mib",
          "top_k_recall_pct.fused.top1"]),
        ("The chosen profiles, on the held-out articles", "profiles",
         ["scorers", "heldout.top1", "heldout.top3", "heldout.stress_top1",
          "heldout.distractor_first", "targets_met", "seconds_per_question"]),
        ("The profiles on dev against their targets", "verdict", None),
        ("Multi-passage inputs (answer kept %, top-1)", "passages",
         ["answer_kept_pct.D1-tokens128", "answer_kept_pct.D2-tokens256", "top1", "seconds"]),
        ("Training stages", "training", ["wall_s", "peak_rss_mib"])],
    "compress.json": [
        ("Latency, warm, one request at a time (ms)", "",
         ["scorers", "segmenter", "profile", *LATENCY]),
        ("Start-up", "startup", None)],
    "retention-dev-v1.1.json": [
        ("Sentence recall, ids-extract (%)", "top_k_recall_pct.ours", RECALL),
        ("Sentence recall, the reference pipeline (%)", "top_k_recall_pct.reference", RECALL),
        ("Levels", "levels", ["retention_pct", "compression.mean", "kept_tokens.mean",
                              "kept_sentences_mean", "made_unanswerable"]),
        ("Token budgets checked with the real tokenizer", "tokens_levels_checked", None),
        ("Wall time (s)", "wall_s", None)],
    "throughput.json": [
        ("Reference pipeline", "reference", ["seconds", "questions_per_s", "peak_rss_mib"]),
        ("Encoder settings (bm25+sbert on dev)", "runs",
         ["seconds", "questions_per_s", "speedup_vs_reference", "peak_rss_mib", "top1.fused"])],
    "throughput-avx2.json": [
        ("Reference pipeline", "reference", ["seconds", "questions_per_s", "peak_rss_mib"]),
        ("Encoder settings (bm25+sbert on dev)", "runs",
         ["seconds", "questions_per_s", "speedup_vs_reference", "peak_rss_mib", "top1.fused"])],
    "throughput-scaling.json": [
        ("The input repeated 1x, 2x, 4x", "scaling",
         ["questions", "seconds", "questions_per_s", "peak_rss_mib", "time_ratio_vs_x1",
          "rss_ratio_vs_x1"])],
    "static.json": [
        ("Scorers on dev", "runs", ["recall.fused.top1", "recall.fused.top2", "recall.fused.top3",
                                    "fused_top1_vs_default", "seconds", "speedup_vs_default"]),
        ("Encoders", "encoders", None), ("The default's decision", "default_decision", None),
        ("`train-static`", "training.summary", None)],
    "retriever.json": [("Sentence recall on dev (%)", "top_k_recall_pct", RECALL),
                       ("Training", "training", ["steps", "wall_s", "peak_rss_mib"])],
    "retriever-plain.json": [("Sentence recall on dev (%)", "top_k_recall_pct", RECALL)],
    "retriever-b16.json": [("Sentence recall on dev (%)", "top_k_recall_pct", RECALL)],
    "fusion.json": [("Sentence recall, 1,000 dev questions (%)", "top_k_recall_pct", RECALL)],
    "fusion-reader500.json": [("Sentence recall, 1,000 dev questions (%)", "top_k_recall_pct",
                               RECALL)],
    "fusion-objectives.json": [("Fusion objectives on the held-out articles, out-of-fold", "rows",
                                STRESS)],
    "ig.json": [("IG settings against the reference", "settings",
                 ["seconds_per_question", "speedup", "spearman_mean", "same_top1_pct",
                  "recall_pct.top1"])],
    "downstream.json": [("Readers, 300 steps each", "rows",
                         ["exact_match", "f1", "train_seconds", "steps", "train_features",
                          "peak_rss_mb"])],
    "downstream-epochs.json": [("Readers, one epoch each", "rows",
                                ["exact_match", "f1", "train_seconds", "steps", "train_features",
                                 "peak_rss_mb"])],
    **{name: [(f"{data}: dev accuracy per row", f"results.{data}.rows", CLS_ROWS)
                for data in datasets]
       for name, datasets in (("classification.json", ("bbc", "imdb", "emotion")),
                              ("classification-emotion400.json", ("emotion",)))},
    "readers-costs.json": [("One optimiser step", "rows",
                            ["init_layers", "max_seq_length", "precision", "seconds_per_step",
                             "peak_rss_mib"])],
    "extractor-costs.json": [("One optimiser step per trainer (probes)", "probes",
                              ["probe", "trainer", "length", "seconds_per_step",
                               "steps_per_epoch", "estimated_epoch_min", "peak_rss_mib"])],
    "readers.json": [
        ("Cells", "cells", ["name", "max_seq_length", "method", "level", "steps", "exact_match",
                            "f1"]),
        ("Inference", "inference", ["cell", "extraction", "batch", "f1", "ms_per_question"])],
    "ladder.json": [
        ("IDS against window and truncation (F1)", "comparisons",
         ["ids", "window", "truncate", "ids_minus_window", "ids_minus_truncate",
          "meets_acceptance"]),
        ("Cost at inference", "cost", ["name", "max_seq_length", "method", "batch", "f1",
                                       "ms_per_question", "f1_per_ms", "peak_rss_mb"])],
}


def load_result(name: str, results: Path = RESULTS) -> dict[str, Any] | None:
    path = results / name
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {"value": data}


def machine_line(data: Mapping[str, Any]) -> str:
    machine = data.get("machine") or {}
    flags = machine.get("cpu_flags") or data.get("cpu_flags")
    parts = [f"{machine['cpus']} CPUs" if machine.get("cpus") else "",
             f"CPU flags {', '.join(flags)}" if flags else ""]
    return "; ".join(p for p in parts if p)


def render_result(name: str, results: Path = RESULTS, up: str = "") -> str:
    """The tables of one results file (:data:`SECTIONS`), or a line saying it is not there;
    ``up``: the way from the page to the site's root (``../`` for a page in a folder)."""
    data = load_result(name, results)
    if data is None:
        return (f"*`bench/results/{name}` is not there yet: its tables appear here once the "
                "benchmark that writes it has run and the file is committed.*")
    out = [f"From [`bench/results/{name}`]({up}results/{name}), written by "
           f"`{data.get('command', '?')}`" + (f" ({machine_line(data)})" if machine_line(data)
                                               else "") + "."]
    for title, path, columns in SECTIONS.get(name, []):
        part = dig(data, path)
        if part is None or part == {} or part == [] or (
                path and not isinstance(part, Mapping | list)):  # a lone value: in a table
            continue
        key = "setting" if path else "run"
        if not path:  # the whole file: its records
            part = {k: v for k, v in data.items() if isinstance(v, Mapping) and k != "machine"
                    and (columns is None or any(dig(v, c) is not None for c in columns))}
            if columns is not None and not any(
                    dig(r, c) is not None for r in part.values() for c in columns):
                part = {k: v for k, v in data.items() if not isinstance(v, Mapping | list)
                        and k in columns}
        wanted = columns
        if wanted is not None and isinstance(part, Mapping):
            have = [c for c in wanted if any(dig(r, c) is not None for r in part.values()
                                             if isinstance(r, Mapping))]
            wanted = have or None
        out += ["", f"**{title}**", "", table_of(part, wanted, key)]
    return "\n".join(out)


def bench_index(results: Path = RESULTS) -> str:
    rows = []
    for path in sorted(results.glob("*.json")):
        data = load_result(path.name, results) or {}
        rows.append([f"[`{path.name}`](results/{path.name})", data.get("command", "")])
    return markdown_table(["file", "command"],
                          [[name, f"<code>{cell(command)}</code>"] for name, command in rows],
                          escape=False)


# ------------------------------------------------------------------ the CLI reference


def cli_reference() -> str:
    """Every command of the ``ids-extract`` app: help, usage, and its visible options."""
    import typer

    from ids_extract.cli import app

    group = typer.main.get_command(app)
    ctx = group.context_class(group, info_name="ids-extract")  # typer may carry its own click
    out = ["Generated from the command-line app at build time: each section is what "
           "`ids-extract COMMAND --help` says. Options kept only for old spellings are hidden "
           "here, as in `--help` (see [One vocabulary](guide/vocabulary.md)).", ""]
    names = sorted(group.list_commands(ctx))  # type: ignore[attr-defined]
    out += ["| command | does |", "|---|---|"]
    commands = {n: group.get_command(ctx, n) for n in names}  # type: ignore[attr-defined]
    out += [f"| [`{n}`](#{n}) | {cell(c.get_short_help_str(limit=120))} |"
            for n, c in commands.items() if c is not None and not c.hidden]
    for name, command in commands.items():
        if command is None or command.hidden:
            continue
        sub = command.context_class(command, info_name=name, parent=ctx)
        usage = " ".join(command.collect_usage_pieces(sub))
        out += ["", f"## {name}", "", "```text", f"ids-extract {name} {usage}", "```", "",
                inspect_help(command.help or ""), ""]
        rows = []
        for param in command.get_params(sub):
            if getattr(param, "hidden", False):
                continue
            record = param_record(param, sub)
            if record is not None:
                rows.append(record)
        if rows:
            out.append(markdown_table(["option", "meaning"], rows, escape=False))
    return "\n".join(out) + "\n"


def inspect_help(text: str) -> str:
    """A command's docstring as Markdown: click's ``\\b`` markers dropped."""
    return "\n".join(line for line in text.replace("\b", "").splitlines()).strip()


def param_record(param: Any, ctx: Any) -> list[str] | None:
    if param.param_type_name == "argument":
        help_text = getattr(param, "help", None) or ""
        name = getattr(param, "metavar", None) or (param.name or "").upper()
        return [f"<code>{cell(name)}</code>",
                cell(help_text + (" (required)" if param.required else ""))]
    record = param.get_help_record(ctx)
    if record is None:
        return None
    names, help_text = record
    return [f"<code>{cell(names)}</code>", cell(help_text)]


# ------------------------------------------------------------------ MkDocs events

HOOKS: dict[str, Callable[[], str]] = {
    "<!-- cli-reference -->": cli_reference,
    "<!-- bench-index -->": bench_index,
}
BENCH = re.compile(r"<!-- bench: ([\w.-]+\.json) -->")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for marker, make in HOOKS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    up = "../" * page.file.src_uri.count("/")
    return BENCH.sub(lambda m: render_result(m[1], up=up), markdown)


def home_page(readme: str) -> str:
    """The README as the site's home page: links into ``docs/`` made relative to it."""
    text = readme.replace("](docs/", "](").replace("](bench/results/DISTRACTORS.md)",
                                                    "](distractors.md)")
    return text.replace("[`docs/`]()", "`docs/` in the repository")


def on_files(files: Any, config: Any) -> Any:
    """Publish ``bench/results/`` under ``results/``, its Distractors page, and the README as
    the home page."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, "index.md",
                                content=home_page((ROOT / "README.md").read_text(encoding="utf-8"))))
    for path in sorted(RESULTS.iterdir()) if RESULTS.is_dir() else []:
        if path.suffix in PUBLISHED:
            files.append(File.generated(config, f"results/{path.name}",
                                        abs_src_path=str(path)))
    page = RESULTS / "DISTRACTORS.md"
    content = (page.read_text(encoding="utf-8") if page.is_file() else
               "# Distractors: before and after\n\nNot generated yet: run "
               "`python bench/distractor_examples.py`.\n")
    files.append(File.generated(config, "distractors.md", content=content))
    return files
