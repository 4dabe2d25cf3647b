"""``split-texts``, ``extract-texts``, ``train-classifier`` and ``evaluate-classifier``: text
classification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError, DataError, check_limit
from ..files import check_out, folder_lock
from ..scorers import options_from
from ..scorers.options import IG_STEPS
from ..textcls.model import Columns
from . import app as opt
from .app import app, csv_list, deprecated, err_console, handles_errors
from .tables import print_stats

TextColumn = Annotated[str, typer.Option(help="Column holding the text.")]
LabelColumn = Annotated[str, typer.Option(help="Column holding the label.")]
IdColumn = Annotated[str | None, typer.Option(help="Column holding the id [default: 'id' when "
                                              "the file has it, else the row number].")]
Device = Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or table.")]
Limit = Annotated[int | None, typer.Option(help="Only the first N texts.")]


@app.command("split-texts")
@handles_errors
def split_texts(
    input: Annotated[str, typer.Argument(help="Classification file (any format extract-texts "
                                         "reads).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for train.<ext> and "
                                      "dev.<ext>.")],
    every: Annotated[int, typer.Option(help="Every N-th text goes to dev.")] = 5,
    offset: Annotated[int, typer.Option(help="Which of the N (0 to N-1).")] = 0,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    id_column: IdColumn = None,
    hf_split: opt.HfSplit = None,
) -> None:
    """Hold out a development split: text i goes to dev when i % N == offset (fixed, spread over
    the file); both parts keep the input's format and columns."""
    from ..textcls.read import load
    from ..textcls.write import target_name, write_like

    if every < 2 or not 0 <= offset < every:
        raise ConfigError("--every must be at least 2 and --offset between 0 and every - 1")
    check_out(out)
    data = load(input, columns=Columns(text_column, label_column, id_column),
                hf_split=opt.hf_split_or(hf_split, True),
                labels="optional")
    for name, part in zip(("train", "dev"), data.split_every(every, offset), strict=True):
        path = write_like(part, part.texts, out / target_name(part, name))
        err_console.print(f"{path}: {len(part)} texts {part.label_counts()}", highlight=False)


@app.command("extract-texts")
@handles_errors
def extract_texts(
    input: Annotated[str, typer.Argument(help="Classification file: JSON Lines, JSON list, CSV, "
                                         "TSV, Parquet, a datasets folder or a hub name.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    levels: Annotated[str, typer.Option(help="Comma-separated levels: tokens:L[@tokenizer], "
                                        "ratio:R, top-k:K, threshold:T.")] = "tokens:128,tokens:64",
    scorers: Annotated[str, typer.Option(help="Comma-separated: ig, alone (need "
                                         "--classifier-model), label, lead, headtail.")] = "label",
    weights: Annotated[str | None, typer.Option(help="Fusion weights: 'ig=1,label=0.5' or "
                                                "'1,0.5' [default: all 1].")] = None,
    split: Annotated[str, typer.Option(help="'train': the gold labels may be explained "
                                       "(ig, alone); 'eval': never used.")] = "eval",
    target: Annotated[str, typer.Option(help="ig/alone: the class explained: auto (gold on "
                                        "train, else predicted), predicted, gold, or any "
                                        "(alone only).")] = "auto",
    unit: Annotated[str, typer.Option(help="sentence, or clause (finer: for one-sentence "
                                      "texts).")] = "sentence",
    classifier_model: Annotated[str | None, typer.Option(help="ig and alone: a trained "
                                                         "classifier folder.")] = None,
    ig_steps: Annotated[int, typer.Option(help="ig: integration steps.")] = IG_STEPS,
    ig_mode: Annotated[str, typer.Option(help="ig: ig, or gxi (gradient x input).")] = "ig",
    label_descriptions: Annotated[str | None, typer.Option(help="label: 'pos=a positive review|"
                                                           "a great film,neg=...' or a JSON "
                                                           "file {label: text or [texts]} "
                                                           "[default: the label names].")] = None,
    sbert_model: Annotated[str | None, typer.Option(help="label: sentence-transformers "
                                                    "folder or name.")] = None,
    segmenter: Annotated[str, typer.Option(help="pysbd or blingfire.")] = "pysbd",
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    id_column: IdColumn = None,
    hf_split: opt.HfSplit = None,
    limit: Limit = None,
    shard_size: Annotated[int, typer.Option(help="Texts per score-cache shard (the unit of "
                                            "resume).")] = 512,
    device: Device = "auto",
    precision: Annotated[str, typer.Option(help="Encoders: auto, fp32, bf16, fp16 (ig: fp32 or "
                                           "bf16).")] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace an extraction of another input or "
                                            "config in --out.")] = False,
    scorer_option: opt.ScorerOptions = None,
    quiet: Quiet = False,
) -> None:
    """Compress the texts of a classification file: one file per level in the input's format
    (ids, labels and other columns unchanged) and manifest.json; re-running resumes."""
    from ..pipeline.classify import TextExtractor
    from ..pipeline.classify_output import extract_texts_to_dir, read_input

    names = csv_list(scorers)
    check_out(out)
    check_limit(limit, "texts")
    columns = Columns(text_column, label_column, id_column)
    data = read_input(input, split, columns, opt.hf_split_or(hf_split, split == "train"))
    described = descriptions(label_descriptions)
    values = {"classifier_model": classifier_model, "device": device, "target": target,
              "ig_steps": ig_steps, "ig_mode": ig_mode, "precision": precision,
              "ig_precision": "bf16" if precision == "bf16" else "fp32",
              "sbert_model": sbert_model, "label_descriptions": described,
              "_labels": (label_set(data, classifier_model, described) if "label" in names
                         else None)}
    extractor = TextExtractor(names, levels, split=split, weights=weights, unit=unit,
                              segmenter=segmenter, quiet=quiet, stats_tokenizer=classifier_model,
                              scorer_options=opt.merged(options_from(names, values, "text"),
                                                        opt.scorer_options(scorer_option, names)))
    summary = extract_texts_to_dir(extractor, input, out, limit=limit, overwrite=overwrite,
                                   shard_size=shard_size, dataset=data)
    if not quiet:
        if summary.skipped:
            err_console.print(f"already written, skipped: {', '.join(summary.skipped)}")
        print_stats(summary.manifest)
        err_console.print(f"wrote {out}")


def label_set(data: Any, classifier_model: str | None, described: Any) -> list[str] | None:
    """The classes the ``label`` scorer compares units with: the classifier's when one is given,
    else those the descriptions name, else the labels found in the file (an unlabelled
    evaluation file needs one of the first two)."""
    from ..models.classifier.folder import classifier_labels

    if classifier_model is not None:
        return classifier_labels(classifier_model) or None
    if described:
        return None  # the label scorer takes the described labels
    return data.labels or None


def descriptions(spec: str | None) -> Any:
    """A JSON file of label descriptions, or the ``LABEL=TEXT,…`` string itself."""
    if spec is None or not spec.endswith(".json"):
        return spec
    path = Path(spec)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(spec, "", "no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(spec, "", f"not JSON: {err}") from None
    if not isinstance(raw, dict):
        raise DataError(spec, "", "expected an object {label: description or [descriptions]}")
    return raw


@app.command("train-classifier")
@handles_errors
def train_classifier_cmd(
    train: Annotated[str, typer.Option("--train", help="Labelled training file (any format "
                                       "extract-texts reads, or one of its level files).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (model, tokenizer, "
                                      "classifier.json, checkpoints/).")],
    init: Annotated[str | None, typer.Option(help="Backbone: any encoder or classifier folder "
                                             "or hub name [default: all-MiniLM-L6-v2 with a "
                                             "fresh head].")] = None,
    max_seq_length: Annotated[int, typer.Option(help="Tokens the classifier reads.")] = 128,
    mode: Annotated[str, typer.Option(help="head (truncation), headtail, or windows (every "
                                      "window a training example).")] = "head",
    head_ratio: Annotated[float, typer.Option(help="headtail: share of the room taken from the "
                                              "head.")] = 0.25,
    overlap: Annotated[int | None, typer.Option(help="windows: tokens shared by neighbouring "
                                                "windows [default: max_seq_length // 3].")] = None,
    init_layers: Annotated[int | None, typer.Option(help="Keep only the backbone's first K "
                                                    "layers (a smaller model).")] = None,
    epochs: opt.Epochs = 2.0,
    max_steps: opt.MaxSteps = -1,
    batch_size: opt.BatchSize = 32,
    learning_rate: opt.LearningRate = 5e-5,
    seed: opt.Seed = 42,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    id_column: IdColumn = None,
    hf_split: opt.HfSplit = None,
    limit: Limit = None,
    device: Device = "auto",
    precision: opt.TrainPrecision = "auto",
    save_steps: opt.SaveSteps = 500,
    keep_checkpoints: opt.KeepCheckpoints = False,
    overwrite: opt.Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Fine-tune a text classifier; re-running the same command resumes or does nothing, other
    settings over an existing run are refused unless --overwrite."""
    from ..models.classifier.features import ClassifierConfig
    from ..models.classifier.train import train_classifier
    from ..models.training import TrainConfig
    from ..textcls.read import load

    cfg = ClassifierConfig(max_seq_length, mode, head_ratio, overlap, init_layers).check()
    check_out(out)
    check_limit(limit, "texts")
    train_cfg = TrainConfig(epochs=epochs, max_steps=max_steps, batch_size=batch_size,
                            learning_rate=learning_rate, seed=seed, device=device,
                            precision=precision, save_steps=save_steps)
    data = load(train, columns=Columns(text_column, label_column, id_column),
                hf_split=opt.hf_split_or(hf_split, True))
    with folder_lock(out):  # a second run into the same folder is refused
        summary = train_classifier(data.limit(limit), init, out, cfg, train_cfg,
                                   overwrite=overwrite, quiet=quiet,
                                   keep_checkpoints=keep_checkpoints)
    if summary.skipped:
        err_console.print(f"{out} is already trained with these settings: nothing to do")
    typer.echo(json.dumps(summary.to_dict(), indent=1))


@app.command("evaluate-classifier")
@handles_errors
def evaluate_classifier_cmd(
    model: Annotated[Path, typer.Option("--model", "-m", help="A classifier folder.")],
    data: Annotated[str, typer.Option("--data", help="Labelled file to score (the original, or "
                                      "an extracted level of it).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for metrics.json, "
                                             "predictions.jsonl, confusion.png [default: "
                                             "MODEL/eval-<data>].")] = None,
    windows: Annotated[bool, typer.Option("--windows", hidden=True, help="Deprecated: "
                                          "--mode windows.")] = False,
    mode: Annotated[str | None, typer.Option(help="head, headtail or windows (read every text "
                                             "whole in windows, logits averaged) [default: "
                                             "the classifier's own].")] = None,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    id_column: IdColumn = None,
    hf_split: opt.HfSplit = None,
    limit: Limit = None,
    batch_size: Annotated[int, typer.Option(help="Inference batch size.")] = 32,
    device: Device = "auto",
    precision: Annotated[str, typer.Option(help="auto, fp32, bf16, fp16.")] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace an evaluation of another file, "
                                            "--limit or classifier in --out.")] = False,
    quiet: Quiet = False,
) -> None:
    """Accuracy, macro-F1, the per-class table and a confusion-matrix PNG; writes the
    predictions. Re-running the same evaluation reads it back."""
    from ..models.classifier.features import MODES
    from ..models.classifier.folder import load_classifier
    from ..pipeline.classify_output import evaluate_to_dir
    from ..textcls.read import load

    if windows:
        deprecated("--windows", "--mode windows")
        if mode not in (None, "windows"):
            raise ConfigError(f"--windows and --mode {mode} contradict each other")
        mode = "windows"
    if mode is not None and mode not in MODES:
        raise ConfigError(f"--mode {mode!r}: choose from {', '.join(MODES)}")
    target = out or model / f"eval-{Path(data).stem}{'-windows' if mode == 'windows' else ''}"
    check_out(target)
    check_limit(limit, "texts")
    texts = load(data, columns=Columns(text_column, label_column, id_column),
                 hf_split=opt.hf_split_or(hf_split, False)).limit(limit)
    clf = load_classifier(str(model), device, precision)
    metrics, summary = evaluate_to_dir(clf, texts, data, target, mode=mode,
                                       batch_size=batch_size, limit=limit, overwrite=overwrite,
                                       quiet=quiet)
    if not quiet:
        print_metrics(metrics)
    if summary.skipped:
        err_console.print(f"{target} already holds this evaluation: read back", highlight=False)
    else:
        err_console.print(f"wrote {target}", highlight=False)
    typer.echo(json.dumps({k: metrics[k] for k in ("accuracy", "macro_f1", "texts", "mode")}))


def print_metrics(metrics: dict[str, Any]) -> None:
    """Accuracy, macro-F1 and the per-class table."""
    from rich.table import Table

    table = Table(title=f"accuracy {metrics['accuracy']:.2f} %   macro-F1 "
                        f"{metrics['macro_f1']:.2f}   ({metrics['texts']} texts, "
                        f"{metrics['mode']} at {metrics['max_seq_length']})")
    for col in ("label", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "label" else "right")
    for label, row in metrics["per_class"].items():
        table.add_row(label, f"{row['precision']:.2f}", f"{row['recall']:.2f}", f"{row['f1']:.2f}",
                      str(row["support"]))
    err_console.print(table)
