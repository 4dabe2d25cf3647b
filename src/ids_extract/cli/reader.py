"""``train-reader``, ``evaluate``, ``ladder`` and ``answer``: the small readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ConfigError, DataError
from ..files import check_out, folder_lock, write_json
from ..squad import read as squad_read
from ..squad.model import Article, Paragraph, SquadDataset
from .app import (
    BatchSize,
    Epochs,
    HfSplit,
    KeepCheckpoints,
    LearningRate,
    MaxSteps,
    Overwrite,
    Quiet,
    SaveSteps,
    Seed,
    TrainPrecision,
    app,
    csv_list,
    deprecated,
    err_console,
    handles_errors,
    hf_split_or,
    legacy_q,
)

if TYPE_CHECKING:
    from ..apps.answer import Question


@app.command("train-reader")
@handles_errors
def train_reader_cmd(
    train: Annotated[str, typer.Option("--train", help="Training data: SQuAD JSON/JSONL/Parquet, "
                                       "a datasets folder, or an extracted level file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (model, tokenizer, "
                                      "reader.json, checkpoints/).")],
    init: Annotated[str | None, typer.Option("--init", help="A QA model or a plain encoder "
                                             "(folder or hub name) [default: all-MiniLM-L6-v2 "
                                             "with a fresh QA head].")] = None,
    init_layers: Annotated[int | None, typer.Option(help="Keep only the first K transformer "
                                                    "layers of --init (layer dropping: the size "
                                                    "family L2/L4/L6 from one encoder).")] = None,
    max_seq_length: Annotated[int, typer.Option(help="Tokens per feature.")] = 384,
    doc_stride: Annotated[int | None, typer.Option(help="Overlap of sliding windows in tokens "
                                                   "[default: max_seq_length // 3].")] = None,
    truncate: Annotated[bool, typer.Option("--truncate", help="Cut contexts at max_seq_length "
                                           "instead of sliding windows (baseline).")] = False,
    epochs: Epochs = 2.0,
    max_steps: MaxSteps = -1,
    batch_size: BatchSize = 32,
    learning_rate: LearningRate = 5e-5,
    seed: Seed = 42,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda or auto.")] = "auto",
    precision: TrainPrecision = "auto",
    save_steps: SaveSteps = 500,
    hf_split: HfSplit = None,
    keep_checkpoints: KeepCheckpoints = False,
    overwrite: Overwrite = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Fine-tune an extractive QA reader; re-running the same command resumes from the last
    checkpoint, and other settings over an existing run are refused unless --overwrite."""
    from ..models.qa.features import ReaderConfig
    from ..models.qa.train import TrainConfig, train_reader

    check_out(out)
    dataset = squad_read.load(train, split=hf_split_or(hf_split, True)).limit(limit)
    reader_cfg = ReaderConfig(max_seq_length=max_seq_length, doc_stride=doc_stride,
                              mode="truncate" if truncate else "window")
    train_cfg = TrainConfig(epochs=epochs, max_steps=max_steps, batch_size=batch_size,
                            learning_rate=learning_rate, seed=seed, device=device,
                            precision=precision, save_steps=save_steps, init_layers=init_layers)
    with folder_lock(out):  # a second run into the same folder is refused
        summary = train_reader(dataset, init, out, reader_cfg, train_cfg, overwrite=overwrite,
                               quiet=quiet, keep_checkpoints=keep_checkpoints)
    if summary.skipped:
        err_console.print(f"{out} is already trained with these settings: nothing to do")
    typer.echo(json.dumps(summary.to_dict(), indent=1))


@app.command()
@handles_errors
def evaluate(
    data_file: Annotated[str, typer.Option("--data", help="What the reader reads (the original "
                                           "dev file, or an extracted level of it).")],
    model: Annotated[Path | None, typer.Option("--model", help="A folder from train-reader.")] = None,
    gold: Annotated[str | None, typer.Option(help="Score against this file's answers, by id "
                                             "[default: --data]; give the original dev file "
                                             "when --data is extracted.")] = None,
    predictions: Annotated[Path | None, typer.Option(help="Score this predictions.json (id → "
                                                     "text) instead of running a model.")] = None,
    na_probs: Annotated[Path | None, typer.Option(help="No-answer probabilities (v2.0) for "
                                                  "--predictions.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where predictions.json and "
                                             "metrics.json go [default: MODEL/eval-<data>].")] = None,
    all_gold: Annotated[bool, typer.Option(help="Score every --gold question, counting those "
                                           "missing from --data as missed.")] = False,
    mode: Annotated[str | None, typer.Option(help="window or truncate: override the reader's "
                                             "mode (one way to say windows, as "
                                             "evaluate-classifier's --mode).")] = None,
    truncate: Annotated[bool | None, typer.Option("--truncate/--window", hidden=True,
                                                  help="Deprecated: --mode.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    batch_size: Annotated[int, typer.Option(help="Inference batch size.")] = 64,
    device: Annotated[str, typer.Option(help="cpu, cuda or auto.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto, fp32, bf16, fp16.")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """EM and F1 by the official SQuAD v1.1 / v2.0 rules; writes predictions.json."""
    from ..models.qa.decode import write_predictions
    from ..models.qa.features import examples_of
    from ..models.qa.reader import Reader
    from ..squad.evaluate import evaluate as score

    if truncate is not None:
        deprecated("--truncate/--window", "--mode truncate|window")
        if mode is not None:
            raise ConfigError("give --mode only (--truncate/--window is its old spelling)")
    if mode not in (None, "window", "truncate"):
        raise ConfigError(f"--mode {mode!r}: choose window or truncate")
    reading = squad_read.load(data_file).limit(limit)
    gold_set = squad_read.load(gold) if gold else reading
    if gold and not all_gold:
        keep = {qa.id for _, _, qa in reading.iter_qas()}
        scored = _only(gold_set, keep)
        left_out = gold_set.num_questions - scored.num_questions
        if left_out:
            err_console.print(f"scoring the {scored.num_questions} questions of --data; "
                              f"{left_out} more in --gold are left out (--all-gold counts them "
                              "as missed)")
        gold_set = scored
    probs = None
    if predictions is not None:
        preds = _read_mapping(predictions, str)
        probs = _read_mapping(na_probs, float) if na_probs else None
        target = out
    else:
        if model is None:
            raise ConfigError("give --model (to read) or --predictions (to score a file)")
        reader = Reader.load(model, device=device, precision=precision,
                             mode=mode if truncate is None else ("truncate" if truncate
                                                                 else "window"))
        found = reader.predict(examples_of(reading), batch_size=batch_size, quiet=quiet)
        target = out or model / f"eval-{Path(data_file).stem}"
        written = write_predictions(found, target, reader.config.version2 or gold_set.is_v2)
        preds = {p.id: p.text for p in found}
        probs = {p.id: p.na_prob for p in found} if "na_probs" in written else None
        err_console.print(f"wrote {written['predictions']}")
    metrics = score(gold_set, preds, probs)
    if target is not None:
        write_json(metrics, Path(target) / "metrics.json")
    typer.echo(json.dumps(metrics, indent=1))


def _only(dataset: SquadDataset, ids: set[str]) -> SquadDataset:
    articles = []
    for article in dataset.articles:
        paragraphs = [Paragraph(p.context, [qa for qa in p.qas if qa.id in ids])
                      for p in article.paragraphs]
        paragraphs = [p for p in paragraphs if p.qas]
        if paragraphs:
            articles.append(Article(article.title, paragraphs))
    return SquadDataset(dataset.version, articles, source=dataset.source)


def _read_mapping(path: Path, kind: type) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(str(path), "", "no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(str(path), "", f"not JSON: {err}") from None
    if not isinstance(raw, dict):
        raise DataError(str(path), "", "expected an object of question id → value")
    for key, value in raw.items():
        if not isinstance(value, kind) and not (kind is float and isinstance(value, int)):
            raise DataError(str(path), f"id {key}", f"expected a {kind.__name__}, got {value!r}")
    return dict(raw)


@app.command()
@handles_errors
def ladder(
    config: Annotated[Path, typer.Argument(help="Ladder config (JSON or TOML).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder [default: the "
                                             "config's 'out', else runs/ladder].")] = None,
    overwrite: Annotated[bool, typer.Option(help="Train again a cell finished with other "
                                            "settings.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Train and score every (model size, max_seq_length, method, level) cell; resumable per
    cell; a cell finished with other settings is refused unless --overwrite."""
    from ..apps.ladder import load_config, run_ladder

    cfg = load_config(config, out)
    rows = run_ladder(cfg, quiet=quiet, overwrite=overwrite)
    for r in rows:
        typer.echo(f"{r['name']:>8} {r['max_seq_length']:>4} {r['method']:>8}  EM {r['exact_match']:6.2f}"
                   f"  F1 {r['f1']:6.2f}  train {r['train_seconds']:8.1f}s")
    err_console.print(f"wrote {Path(cfg.out) / 'results.csv'}, results.json and the figures")


@app.command()
@handles_errors
def answer(
    model: Annotated[Path | None, typer.Option("--model", help="A folder from train-reader.")] = None,
    extractor: Annotated[Path | None, typer.Option(help="A train-extractor folder: its scorers, "
                                                   "fusion and reader (instead of --model and "
                                                   "--scorers).")] = None,
    question: Annotated[str | None, typer.Option("--question", help="The question.")] = None,
    context: Annotated[str | None, typer.Option(help="The context as text.")] = None,
    context_file: Annotated[Path | None, typer.Option(help="The context from a text "
                                                      "file.")] = None,
    input: Annotated[Path | None, typer.Option("--input", help="Many questions: SQuAD JSON, or "
                                               "a JSON list / JSON Lines of {question, "
                                               "context, id}.")] = None,
    level: Annotated[str | None, typer.Option(help="Extraction level [default: "
                                              "tokens:<the reader's max_seq_length>].")] = None,
    scorers: Annotated[str | None, typer.Option(help="Comma-separated scorers [default: "
                                                "bm25,sbert].")] = None,
    no_extract: Annotated[bool, typer.Option("--no-extract", help="Read the whole context "
                                             "(sliding windows) instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON here.")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda or auto.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto, fp32, bf16, fp16.")] = "auto",
    quiet: Quiet = False,
    legacy_question: Annotated[str | None, typer.Argument(hidden=True)] = None,
) -> None:
    """Extract, then read: the answer as a span of the original context, with the kept
    sentences."""
    from ..apps.answer import ExtractThenRead
    from ..models.qa.reader import Reader

    question = legacy_q(question, legacy_question)
    items = _questions(question, context, context_file, input)
    if extractor is not None:
        if model is not None or scorers is not None or no_extract:
            raise ConfigError("--extractor brings its reader and scorers: leave out --model, "
                              "--scorers and --no-extract")
        pipeline = ExtractThenRead.from_pretrained(extractor, level=level, device=device,
                                                   precision=precision)
    else:
        if model is None:
            raise ConfigError("give --model (a train-reader folder) or --extractor (a "
                              "train-extractor folder)")
        names = csv_list(scorers or "bm25,sbert")
        reader = Reader.load(model, device=device, precision=precision)
        options = {"sbert": {"device": device}} if "sbert" in names else {}
        pipeline = ExtractThenRead(reader, level=level, scorers=names, extract=not no_extract,
                                   scorer_options=options)
    if quiet:
        pipeline.quiet = True
    results = pipeline.answer_many(items)
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


def _questions(question: str | None, context: str | None, context_file: Path | None,
               input: Path | None) -> list[Question]:
    from ..apps.answer import Question, read_questions

    if input is not None:
        if question or context or context_file:
            raise ConfigError("give either --input or --question with --context/--context-file")
        return read_questions(input)
    if not question:
        raise ConfigError("give --question (with --context or --context-file), or --input")
    if (context is None) == (context_file is None):
        raise ConfigError("give exactly one of --context and --context-file")
    if context_file is not None:
        try:
            context = context_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError(str(context_file), "", "no such file") from None
        except UnicodeDecodeError as err:
            raise DataError(str(context_file), f"byte {err.start}", "not valid UTF-8") from None
    assert context is not None
    return [Question(question, context, "q1")]
