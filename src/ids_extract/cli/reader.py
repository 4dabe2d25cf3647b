"""``train-reader``, ``evaluate``, ``ladder`` and ``answer``: the small readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..apps.answer import AnswerJob, questions_given
from ..apps.evaluate import EvaluateJob
from ..files import write_json
from ..models.qa.features import MODES
from . import options as o
from .app import command, err_console, of, say


@command()
def evaluate(
    data: o.Data,
    model: o.OptionalModel = None,
    gold: Annotated[str | None, o.opt("Score against this file's answers, by id (the original of an "
                                      "extracted --data) [default: --data].")] = None,
    predictions: Annotated[Path | None, o.opt("Score this predictions.json, not a model.")] = None,
    na_probs: Annotated[Path | None, o.opt("No-answer probabilities (v2.0) for --predictions.")] = None,
    out: Annotated[Path | None, o.opt("Where predictions.json and metrics.json go [default: "
                                      "MODEL/eval-<data>].", "--out", "-o")] = None,
    all_gold: Annotated[bool, o.opt("Score every --gold question, counting those missing from --data as "
                                    "missed.")] = False,
    mode: Annotated[str | None, typer.Option(help=f"{' or '.join(MODES)}: override the reader's "
                                             "reading mode.")] = None,
    limit: o.Limit = None,
    batch_size: o.BatchSize = EvaluateJob.batch_size,
    device: o.Device = EvaluateJob.device,
    precision: o.Precision = EvaluateJob.precision,
    quiet: o.Quiet = False,
) -> None:
    """EM and F1 by the official SQuAD v1.1 / v2.0 rules; writes predictions.json."""
    metrics = of(EvaluateJob, locals()).run(data, model, out, say=say)
    typer.echo(json.dumps(metrics, indent=1))


@command()
def ladder(
    config: Annotated[Path, typer.Argument(help="Ladder config (JSON or TOML).")],
    out: Annotated[Path | None, o.opt("Output folder [default: the config's 'out', else "
                                      "runs/ladder].", "--out", "-o")] = None,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Train and score every (model size, max_seq_length, method, level) cell; resumable per
    cell; a cell finished with other settings is refused unless --overwrite."""
    from ..apps.ladder import load_config, run_ladder

    cfg = load_config(config, out)
    for r in run_ladder(cfg, quiet=quiet, overwrite=overwrite):
        typer.echo(f"{r['name']:>8} {r['max_seq_length']:>4} {r['method']:>8}  EM {r['exact_match']:6.2f}"
                   f"  F1 {r['f1']:6.2f}  train {r['train_seconds']:8.1f}s")
    err_console.print(f"wrote {Path(cfg.out) / 'results.csv'}, results.json and the figures")


@command()
def answer(
    model: o.OptionalModel = None,
    extractor: o.TrainedExtractor = None,
    question: o.Question = None,
    context: Annotated[str | None, o.opt("The context as text.")] = None,
    context_file: Annotated[Path | None, o.opt("The context from a text file.")] = None,
    input: Annotated[Path | None, o.opt("Many questions: SQuAD JSON, or a JSON list / JSON Lines of "
                                        "{question, context, id}.", "--input")] = None,
    levels: Annotated[str | None, o.opt("The one extraction level [default: tokens:<the reader's "
                                        "max_seq_length>].")] = None,
    scorers: o.Scorers = None,
    no_extract: Annotated[bool, o.opt("Read the whole context (sliding windows) "
                                      "instead.", "--no-extract")] = False,
    as_json: Annotated[bool, o.opt("JSON output.", "--json")] = False,
    out: Annotated[Path | None, o.opt("Write the JSON here.", "--out", "-o")] = None,
    device: o.Device = AnswerJob.device,
    precision: o.Precision = AnswerJob.precision,
    quiet: o.Quiet = False,
) -> None:
    """Extract, then read: the answer as a span of the original context, with the kept
    sentences."""
    items = questions_given(question, context, context_file, input)
    job = AnswerJob(levels, scorers, no_extract, device, precision, quiet)
    results = job.pipeline(model, extractor).answer_many(items)
    payload = [r.to_dict() for r in results]
    if out is not None:
        write_json(payload, out)
    if as_json:
        typer.echo(json.dumps(payload if input is not None else payload[0], ensure_ascii=False,
                              indent=1))
        return
    for r in results:
        shown = "(no answer)" if r.no_answer else repr(r.answer)
        typer.echo(f"{r.id}: {shown}  [chars {r.start}:{r.end}, score {r.score:.2f}, "
                   f"{len(r.kept)} sentences kept]")
