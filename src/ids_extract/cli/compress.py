"""``compress``: JSON Lines of {question, context or passages} in (a file or stdin), JSON Lines of
compressed texts out, one per line, in order."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from ..errors import DataError
from ..files import atomic_path, check_out
from .app import ScorerOptions, app, csv_list, handles_errors, merged, scorer_options


@app.command("compress")
@handles_errors
def compress_cmd(
    input: Annotated[str, typer.Argument(help="JSON Lines file of {\"question\", \"context\" (a "
                                              "string) or \"passages\" (a list), optional \"id\" "
                                              "and \"budget\"}; - for stdin.")] = "-",
    budget: Annotated[str, typer.Option(help="tokens:L[@tokenizer] (question + text + special "
                                        "tokens fit in L) or ratio:R (at most R of the text's "
                                        "tokens); a line's own \"budget\" wins.")] = "tokens:256",
    scorers: Annotated[str, typer.Option(help="Comma-separated scorers.")] = "bm25,sbert",
    weights: Annotated[str | None, typer.Option(help="Fusion weights: 'bm25=1,sbert=1' or '1,1' "
                                                "[default: all 1].")] = None,
    segmenter: Annotated[str, typer.Option(help="pysbd or blingfire.")] = "pysbd",
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON Lines here "
                                             "(atomically) instead of stdout.")] = None,
    scorer_option: ScorerOptions = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Accepted as in every command "
                                        "(compress prints nothing but its results).")] = False,
) -> None:
    """Keep the sentences that matter for each question, never over the budget; the models load
    once for all lines."""
    from ..apps.compress import compress
    from ..scorers import takes

    names = csv_list(scorers)
    if out is not None:
        check_out(out, folder=False)
    options = merged({n: {"device": device} for n in names if takes(n, "device")},
                     scorer_options(scorer_option, names))
    source = sys.stdin if input == "-" else _open(input)
    results = (compress(row["question"], row["passages"] if "passages" in row else row["context"],
                        row.get("budget", budget), scorers=names, segmenter=segmenter,
                        weights=weights, **options).to_dict() | {"id": row["id"]}
               for row in _rows(source, "<stdin>" if input == "-" else input))
    if out is None:
        for result in results:
            typer.echo(json.dumps(result, ensure_ascii=False))
        return
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for result in results:  # nothing is left at --out if a line fails
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")


def _open(path: str) -> TextIO:
    try:
        return open(path, encoding="utf-8-sig")  # noqa: SIM115 (read lazily, line by line)
    except FileNotFoundError:
        raise DataError(path, "", "no such file") from None


def _rows(source: TextIO, name: str) -> Iterator[dict[str, Any]]:
    """Checked request objects, each with an id (its line number when it has none)."""
    for n, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise DataError(name, f"line {n}", f"not JSON: {err}") from None
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            raise DataError(name, f"line {n}", "expected an object with a string 'question'")
        text = row.get("passages", row.get("context"))
        if not (isinstance(text, str) or (isinstance(text, list) and text
                                          and all(isinstance(p, str) for p in text))):
            raise DataError(name, f"line {n}", "needs 'context' (a string) or 'passages' (a "
                                               "list of strings)")
        yield {**row, "id": str(row.get("id", n))}
