"""``compress``: JSON Lines of {question, context or passages} in (a file or stdin), JSON Lines of
compressed texts out, one per request, in order.

A bad request (not JSON, a field missing, an empty text, a budget too small for its question) is
one located error on stderr (``file: line N (id X): problem``) and one ``{"id", "error"}`` line in
the output, in its place; the other requests are still answered, and the exit code is 2 when any
failed. Only ``typer`` and this package's light modules are imported before the first request:
the scorers load what they need (``bm25`` alone loads neither torch nor transformers).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from ..errors import DataError, IdsExtractError
from ..files import atomic_path, check_out
from ..select.cascade import DEFAULT_K
from .app import (
    EXIT_BAD_INPUT,
    FAST_SCORERS,
    ScorerOptions,
    app,
    err_console,
    handles_errors,
    merged,
    scorer_names,
    scorer_options,
)


@app.command("compress")
@handles_errors
def compress_cmd(
    input: Annotated[str, typer.Argument(help="JSON Lines file of {\"question\", \"context\" (a "
                                              "string) or \"passages\" (a list), optional \"id\" "
                                              "and \"budget\"}; - for stdin.")] = "-",
    budget: Annotated[str, typer.Option(help="tokens:L[@tokenizer] (question + text + special "
                                        "tokens fit in L) or max-ratio:R (at most R of the text's "
                                        "tokens); a line's own \"budget\" wins.")] = "tokens:256",
    scorers: Annotated[str | None, typer.Option(help="Comma-separated scorers [default: "
                                                "bm25,sbert].")] = None,
    fast: Annotated[bool, typer.Option("--fast", help=f"Scorers {FAST_SCORERS}: static "
                                       "embeddings instead of MiniLM, several times faster at "
                                       "some cost in quality (see the README).")] = False,
    segmenter: Annotated[str, typer.Option(help="pysbd, or blingfire (many times faster on "
                                           "long texts; pip install 'ids-extract[fast]').")] = "pysbd",
    weights: Annotated[str | None, typer.Option(help="Fusion weights: 'bm25=1,sbert=1' or '1,1' "
                                                "[default: all 1].")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    cascade_k: Annotated[int, typer.Option(help="The scorers that are not cheap (sbert, …) read "
                                           "only the top K sentences of the cheap ones (bm25, "
                                           "static); 0: every sentence.")] = DEFAULT_K,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON Lines here "
                                             "(atomically) instead of stdout.")] = None,
    scorer_option: ScorerOptions = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Accepted as in every command "
                                        "(compress prints nothing but its results).")] = False,
) -> None:
    """Keep the sentences that matter for each question, never over the budget; the models load
    once for all lines. Exit code 2 when any request failed (each is named on stderr)."""
    from ..apps.compress import check_budget
    from ..scorers import scorer_class, takes
    from ..select.segment import check_segmenter

    names = scorer_names(scorers, fast)
    for scorer in names:  # options that would fail every line are refused before any is read
        scorer_class(scorer)
    check_budget(budget)
    check_segmenter(segmenter)
    if out is not None:
        check_out(out, folder=False)
    options = merged({n: {"device": device} for n in names if takes(n, "device")},
                     scorer_options(scorer_option, names))
    name = "<stdin>" if input == "-" else input
    source = sys.stdin if input == "-" else _open(input)
    failed = [0]
    lines = (json.dumps(result, ensure_ascii=False)
             for result in _answers(_rows(source, name), names, budget, segmenter, name, failed,
                                    weights=weights, options=options,
                                    cascade_k=cascade_k or None))
    if out is None:
        for line in lines:
            typer.echo(line)
    else:
        with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line + "\n")
    if failed[0]:
        err_console.print(f"[bold red]{failed[0]} request(s) failed[/] (named above); the "
                          "others were answered", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)


def _answers(rows: Iterator[tuple[int, str, dict[str, Any] | DataError]], names: list[str],
             budget: str, segmenter: str, name: str, failed: list[int], *,
             weights: str | None = None, cascade_k: int | None = None,
             options: dict[str, dict[str, Any]] | None = None) -> Iterator[dict[str, Any]]:
    """Each request's result, or its located error (printed, and counted in ``failed``), in
    input order."""
    from ..apps.compress import compress

    for n, rid, row in rows:
        if isinstance(row, DataError):
            yield _failed(row, rid, failed)
            continue
        try:
            text = row["passages"] if "passages" in row else row["context"]
            result = compress(row["question"], text, row.get("budget", budget), scorers=names,
                              segmenter=segmenter, weights=weights, cascade_k=cascade_k,
                              **(options or {}))
        except IdsExtractError as err:
            yield _failed(DataError(name, f"line {n} (id {rid})", str(err)), rid, failed)
            continue
        yield result.to_dict() | {"id": rid}


def _failed(err: DataError, rid: str, failed: list[int]) -> dict[str, Any]:
    """Report one failed request on stderr; its line in the output says why."""
    failed[0] += 1
    err_console.print(f"error: {err}", highlight=False, markup=False)
    return {"id": rid, "error": err.problem}


def _open(path: str) -> TextIO:
    try:
        return open(path, encoding="utf-8-sig")  # noqa: SIM115 (read lazily, line by line)
    except FileNotFoundError:
        raise DataError(path, "", "no such file") from None


def _rows(source: TextIO, name: str) -> Iterator[tuple[int, str, dict[str, Any] | DataError]]:
    """(line number, id, a checked request) or (line number, id, the located problem of that
    line); a request without an id gets its line number."""
    n = 0
    while True:
        n += 1
        try:
            line = source.readline()
        except UnicodeDecodeError as err:
            yield n, str(n), DataError(name, f"line {n}", f"not UTF-8 ({err.reason}); reading "
                                                          "stops here")
            return
        if not line:
            return
        if line.strip():
            yield _request(line, n, name)


def _request(line: str, n: int, name: str) -> tuple[int, str, dict[str, Any] | DataError]:
    """One line as a request, or what is wrong with it (with the line and, when known, the id)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        return n, str(n), DataError(name, f"line {n}", f"not JSON: {err}")
    if not isinstance(row, dict):
        return n, str(n), DataError(name, f"line {n}", "expected an object with a string "
                                                       "'question'")
    rid = str(row.get("id", n))
    where = f"line {n} (id {rid})"
    problem = _problem(row)
    return n, rid, DataError(name, where, problem) if problem else {**row, "id": rid}


def _problem(row: dict[str, Any]) -> str | None:
    """What makes a request object unusable, if anything."""
    if not isinstance(row.get("question"), str):
        return "expected an object with a string 'question'"
    text = row.get("passages", row.get("context"))
    if not (isinstance(text, str) or (isinstance(text, list) and text
                                      and all(isinstance(p, str) for p in text))):
        return "needs 'context' (a string) or 'passages' (a list of strings)"
    if "budget" in row and not isinstance(row["budget"], str):
        return "'budget' must be a string such as 'tokens:256'"
    return None
