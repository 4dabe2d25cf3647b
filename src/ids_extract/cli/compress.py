"""``compress``: JSON Lines of requests in (a file or stdin), one result per request out, in order
(:mod:`ids_extract.apps.compress_lines`; ``bm25`` alone loads neither torch nor transformers)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..apps.compress_lines import STDIN, CompressJob, open_requests
from ..errors import DataError
from ..files import atomic_path
from . import options as o
from .app import EXIT_BAD_INPUT, command, err_console, in_flags


@command("compress")
def compress_cmd(
    input: Annotated[str, typer.Argument(help="JSON Lines file of {\"question\", \"context\" (a "
                                         "string) or \"passages\" (a list), optional \"id\" "
                                         "and \"budget\"}; - for stdin.")] = STDIN,
    budget: o.Budget = CompressJob.budget,
    scorers: o.Scorers = None,
    fast: o.Fast = False,
    segmenter: o.OptionalSegmenter = CompressJob.segmenter,
    weights: o.Weights = None,
    device: o.Device = CompressJob.device,
    cascade_k: o.CascadeK = CompressJob.cascade_k,
    out: Annotated[Path | None, o.opt("Write here (atomically), not stdout.", "--out", "-o")] = None,
    overwrite: o.Overwrite = False,
    scorer_option: o.ScorerOptions = None,
    extractor: o.TrainedExtractor = None,
    profile: o.Profile = None,
    quiet: o.Quiet = False,
) -> None:
    """Keep the sentences that matter for each question, never over the budget (models load
    once). A bad request: a located error on stderr, an {"id", "error"} line, exit code 2."""
    job = CompressJob(budget, scorers, fast, segmenter, weights, device, cascade_k,
                      scorer_option, extractor, profile).check(out, overwrite)
    name = "<stdin>" if input == STDIN else input
    failed: list[DataError] = []

    def report(err: DataError) -> None:
        failed.append(err)
        err_console.print(f"error: {in_flags(str(err))}", highlight=False, markup=False)

    with contextlib.nullcontext(sys.stdin.buffer) if input == STDIN else open_requests(input) as src:
        lines = (json.dumps(r, ensure_ascii=False) for r in job.answers(src, name, report))
        if out is None:
            for line in lines:
                typer.echo(line)
        else:
            with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
                fh.writelines(line + "\n" for line in lines)
    if failed:
        err_console.print(f"[bold red]{len(failed)} request(s) failed[/] (named above); the "
                          "others were answered", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
