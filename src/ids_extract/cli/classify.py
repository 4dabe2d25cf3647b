"""``split-texts``, ``extract-texts``, ``train-classifier`` and ``evaluate-classifier``: text
classification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..models.classifier.features import MODES
from ..pipeline.classify_jobs import ClassifierEvalJob, SplitJob
from ..pipeline.jobs import TextExtractJob
from . import options as o
from .app import command, err_console, of
from .tables import print_metrics, report_run

Input = Annotated[str, typer.Argument(help="Classification file: JSON Lines, JSON, CSV, TSV, "
                                      "Parquet, a datasets folder or a hub name.")]
OutFolder = Annotated[Path, o.opt("Output folder.", "--out", "-o")]
Target = Annotated[str | None, o.opt("ig/alone: the class explained: auto (gold on train, else predicted), "
                                     "predicted, gold, or any (alone only).")]
Descriptions = Annotated[str | None, o.opt("label: 'pos=a positive review|a great film,neg=...' or a JSON "
                                           "file {label: text or [texts]} [default: the label names].")]
TextShards = Annotated[int, o.opt("Texts per score-cache shard (the unit of resume).")]


@command("split-texts")
def split_texts(
    input: Input,
    out: Annotated[Path, o.opt("Folder for train.<ext> and dev.<ext>.", "--out", "-o")],
    every: Annotated[int, o.opt("Every N-th text goes to dev.")] = SplitJob.every,
    offset: Annotated[int, o.opt("Which of the N (0 to N-1).")] = SplitJob.offset,
    text_column: o.TextColumn = SplitJob.text_column,
    label_column: o.LabelColumn = SplitJob.label_column,
    id_column: o.IdColumn = None,
    hf_split: o.HfSplit = None,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Hold out a development split: text i goes to dev when i % N == offset (fixed, spread over
    the file); both parts keep the input's format and columns. The same split again is done
    already; another into the same folder is refused unless --overwrite."""
    summary = of(SplitJob, locals()).run(input, out)
    for part in summary.manifest["outputs"] if not quiet else []:
        path = out / next(iter(part["files"].values()))["path"]
        err_console.print(f"{path}: {part['texts']} texts {part['labels']}"
                          f"{' (already there)' if part['name'] in summary.skipped else ''}",
                          highlight=False)


@command("extract-texts")
def extract_texts(
    input: Input,
    out: OutFolder,
    levels: o.Levels = TextExtractJob.levels,
    scorers: o.TextScorers = TextExtractJob.scorers,
    weights: o.Weights = None,
    split: o.Split = TextExtractJob.split,
    target: Target = None,
    unit: o.Unit = TextExtractJob.unit,
    classifier_model: o.ClassifierModel = None,
    ig_steps: o.IgSteps = TextExtractJob.ig_steps,
    ig_mode: o.IgMode = None,
    label_descriptions: Descriptions = None,
    sbert_model: o.SbertModel = None,
    segmenter: o.Segmenter = TextExtractJob.segmenter,
    text_column: o.TextColumn = TextExtractJob.text_column,
    label_column: o.LabelColumn = TextExtractJob.label_column,
    id_column: o.IdColumn = None,
    hf_split: o.HfSplit = None,
    limit: o.Limit = None,
    shard_size: TextShards = TextExtractJob.shard_size,
    device: o.Device = TextExtractJob.device,
    precision: o.Precision = TextExtractJob.precision,
    overwrite: o.Overwrite = False,
    scorer_option: o.ScorerOptions = None,
    quiet: o.Quiet = False,
) -> None:
    """Compress the texts of a classification file: one file per level in the input's format
    (ids, labels and other columns unchanged) and manifest.json; re-running resumes."""
    report_run(of(TextExtractJob, locals()).run(input, out), quiet)


@command("evaluate-classifier")
def evaluate_classifier_cmd(
    model: o.Model,
    data: o.Data,
    out: Annotated[Path | None, o.opt("Folder for metrics.json, predictions.jsonl, confusion.png [default: "
                                      "MODEL/eval-<data>].", "--out", "-o")] = None,
    mode: Annotated[str | None, typer.Option(help=f"{', '.join(MODES)}: how a text longer than "
                                             "the classifier is read (windows: every window, "
                                             "logits averaged) [default: the classifier's "
                                             "own].")] = None,
    text_column: o.TextColumn = ClassifierEvalJob.text_column,
    label_column: o.LabelColumn = ClassifierEvalJob.label_column,
    id_column: o.IdColumn = None,
    hf_split: o.HfSplit = None,
    limit: o.Limit = None,
    batch_size: o.BatchSize = ClassifierEvalJob.batch_size,
    device: o.Device = ClassifierEvalJob.device,
    precision: o.Precision = ClassifierEvalJob.precision,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Accuracy, macro-F1, the per-class table and a confusion-matrix PNG; writes the
    predictions. Re-running the same evaluation reads it back."""
    job = of(ClassifierEvalJob, locals())
    target = job.folder(model, data, out)
    metrics, summary = job.run(model, data, target)
    if not quiet:
        print_metrics(metrics)
    err_console.print(f"{target} already holds this evaluation: read back" if summary.skipped
                      else f"wrote {target}", highlight=False)
    typer.echo(json.dumps({k: metrics[k] for k in ("accuracy", "macro_f1", "texts", "mode")}))
