"""The trainers: ``train-reader``, ``train-classifier``, ``train-retriever`` (our own DPR pair),
``train-static`` (the static scorer's vectors) and ``train-extractor`` (all of them and a learned
fusion, into one folder that ``--extractor`` uses). Each builds its library configuration;
re-running the same command resumes, other settings over a run are refused unless --overwrite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ..apps.extractor_config import SIGNALS, ExtractorTrainConfig, settings
from ..errors import check_limit
from ..files import check_out
from ..models.classifier.features import MODES as CLASSIFIER_MODES
from ..models.classifier.features import ClassifierConfig
from ..models.dpr.train import TrainConfig as DprConfig
from ..models.qa.features import MODES as READER_MODES
from ..models.qa.features import ReaderConfig
from ..models.static.train import StaticTrainConfig
from ..models.training import TrainConfig
from ..pipeline.classify_jobs import TextColumns
from ..scorers.options import names_of
from ..tabular import hf_split_for
from . import options as o
from .app import command, err_console, of

T, R, C, D, S, X = (TrainConfig, ReaderConfig, ClassifierConfig, DprConfig, StaticTrainConfig,
                    ExtractorTrainConfig)
ReaderMode = Annotated[str, o.opt(f"{' or '.join(READER_MODES)}: sliding windows over a long "
                                  "context, or plain truncation (the baseline).")]
ClassifierMode = Annotated[str, o.opt(f"How a text longer than the model is read: "
                                      f"{', '.join(CLASSIFIER_MODES)} (windows: every window a "
                                      "training example).")]
QuestionTokens = Annotated[int, o.opt("Tokens the question encoder reads of a question.")]
PassageTokens = Annotated[int, o.opt("Tokens the passage encoder reads of a sentence (with the "
                                     "--passage-context sentences before it).")]
Passes = Annotated[float, o.opt("Passes over the training data.")]


def trained(out: Path, train: Callable[[], Any]) -> None:
    """Run a trainer into ``out`` (it locks the folder itself); say when it was trained already,
    and print its summary as JSON."""
    check_out(out)
    summary = train()
    if summary.skipped:
        err_console.print(f"{out} is already trained with these settings: nothing to do")
    typer.echo(json.dumps(summary.to_dict(), indent=1))


@command("train-reader")
def train_reader_cmd(
    train: o.TrainFile,
    out: Annotated[Path, o.opt("Folder: model, tokenizer, reader.json, checkpoints/.", "--out", "-o")],
    init: o.Init = None,
    init_layers: o.InitLayers = None,
    max_seq_length: o.MaxSeqLength = R.max_seq_length,
    doc_stride: Annotated[int | None, o.opt("Window overlap in tokens [default: L // 3].")] = None,
    mode: ReaderMode = R.mode,
    epochs: o.Epochs = T.epochs,
    max_steps: o.MaxSteps = T.max_steps,
    batch_size: o.BatchSize = T.batch_size,
    learning_rate: o.LearningRate = T.learning_rate,
    seed: o.Seed = T.seed,
    limit: o.Limit = None,
    device: o.Device = T.device,
    precision: o.Precision = T.precision,
    save_steps: o.SaveSteps = T.save_steps,
    hf_split: o.HfSplit = None,
    keep_checkpoints: o.KeepCheckpoints = False,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Fine-tune an extractive QA reader; re-running the same command resumes from the last
    checkpoint, and other settings over an existing run are refused unless --overwrite."""
    from ..models.qa.train import train_reader
    from ..squad.read import load

    check_out(out)
    dataset = load(train, split=hf_split_for(hf_split, True)).limit(limit)
    reader_cfg, train_cfg = of(R, locals()), of(T, locals())
    trained(out, lambda: train_reader(dataset, init, out, reader_cfg, train_cfg, overwrite=overwrite,
                                      quiet=quiet, keep_checkpoints=keep_checkpoints))


@command("train-classifier")
def train_classifier_cmd(
    train: o.TrainFile,
    out: Annotated[Path, o.opt("Folder: model, tokenizer, classifier.json, checkpoints/.", "--out", "-o")],
    init: o.Init = None,
    max_seq_length: o.MaxSeqLength = C.max_seq_length,
    mode: ClassifierMode = C.mode,
    head_ratio: Annotated[float, o.opt("headtail: share of the room taken from the head.")] = C.head_ratio,
    overlap: Annotated[int | None, o.opt("windows: tokens two windows share [default: L // 3].")] = None,
    init_layers: o.InitLayers = None,
    epochs: o.Epochs = T.epochs,
    max_steps: o.MaxSteps = T.max_steps,
    batch_size: o.BatchSize = T.batch_size,
    learning_rate: o.LearningRate = T.learning_rate,
    seed: o.Seed = T.seed,
    text_column: o.TextColumn = TextColumns.text_column,
    label_column: o.LabelColumn = TextColumns.label_column,
    id_column: o.IdColumn = None,
    hf_split: o.HfSplit = None,
    limit: o.Limit = None,
    device: o.Device = T.device,
    precision: o.Precision = T.precision,
    save_steps: o.SaveSteps = T.save_steps,
    keep_checkpoints: o.KeepCheckpoints = False,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Fine-tune a text classifier; re-running the same command resumes or does nothing, other
    settings over an existing run are refused unless --overwrite."""
    from ..models.classifier.train import train_classifier
    from ..textcls.read import load

    cfg = of(C, locals()).check()
    check_out(out)
    check_limit(limit, "texts")
    train_cfg = of(T, locals(), init_layers=None)  # the classifier's config keeps them
    data = load(train, columns=of(TextColumns, locals()).columns,
                hf_split=hf_split_for(hf_split, True)).limit(limit)
    trained(out, lambda: train_classifier(data, init, out, cfg, train_cfg, overwrite=overwrite,
                                          quiet=quiet, keep_checkpoints=keep_checkpoints))


@command("train-retriever")
def train_retriever_cmd(
    train: o.TrainFile,
    out: Annotated[Path, o.opt("Folder for the DPR pair (question_encoder/, ctx_encoder/).", "--out", "-o")],
    init: Annotated[str | None, o.opt("Both encoders start from it [default: all-MiniLM-L6-v2].")] = None,
    epochs: o.Epochs = D.epochs,
    contexts_per_step: Annotated[int, o.opt("Whole contexts per step (all their sentences "
                                            "are candidates).")] = D.contexts_per_step,
    learning_rate: o.LearningRate = D.learning_rate,
    pooling: Annotated[str, o.opt("mean (the backbone's own pooling) or cls (plain DPR).")] = D.pooling,
    max_question_length: QuestionTokens = D.max_question_length,
    max_passage_length: PassageTokens = D.max_passage_length,
    passage_context: Annotated[int, o.opt("Sentences before each one that the passage "
                                          "encoder reads too (kept in the pair).")] = D.passage_context,
    heldout: o.Heldout = D.heldout_questions,
    eval_steps: Annotated[int, o.opt("Evaluate every N steps.")] = D.eval_steps,
    save_steps: o.SaveSteps = D.save_steps,
    seed: o.Seed = D.seed,
    device: o.Device = T.device,
    precision: o.Precision = D.precision,
    segmenter: o.Segmenter = D.segmenter,
    limit: o.Limit = None,
    keep_checkpoints: o.KeepCheckpoints = False,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Train a DPR dual encoder (in-batch + same-context negatives); re-running resumes."""
    from ..models.dpr.train import train_retriever

    config = of(D, locals(), train_file=train, backbone=init, heldout_questions=heldout)
    summary = train_retriever(config, out, device=device, quiet=quiet, overwrite=overwrite,
                              keep_checkpoints=keep_checkpoints)
    if not quiet:
        if summary.reused:
            err_console.print(f"{out} already holds this pair: nothing to do")
        last = summary.heldout_top1[-1]["top1"] if summary.heldout_top1 else float("nan")
        err_console.print(f"wrote {out}: {summary.steps} steps, {summary.wall_s:.0f} s, held-out "
                          f"top-1 {last:.2f} % ({summary.heldout_questions} questions)")


@command("train-static")
def train_static_cmd(
    train: o.TrainFile,
    out: Annotated[Path, o.opt("Folder of the model2vec model (for --static-model).", "--out", "-o")],
    init: Annotated[str | None, o.opt("A model2vec folder, or a transformer to distil one "
                                      "from [default: distilled from MiniLM].")] = None,
    epochs: Annotated[int, o.opt("Passes over the training questions.")] = S.epochs,
    batch_size: o.BatchSize = S.batch_size,
    learning_rate: o.LearningRate = S.lr,
    temperature: Annotated[float, o.opt("Softmax temperature of the cosines.")] = S.temperature,
    context_negatives: Annotated[int, o.opt("Its context's negatives.")] = S.context_negatives,
    distractors: Annotated[bool, o.opt("Add each question's distractor as a negative.")] = S.distractors,
    max_steps: Annotated[int | None, o.opt("Stop after N steps.")] = None,
    segmenter: o.Segmenter = S.segmenter,
    seed: o.Seed = S.seed,
    limit: o.Limit = None,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Fine-tune static token vectors (question <-> answer sentence, in-batch and hard negatives);
    minutes on a CPU."""
    from ..models.static.train import train_static
    from ..squad.read import load

    config = of(S, locals(), base=init, lr=learning_rate)
    summary = train_static(load(train).limit(limit), out, config, overwrite=overwrite, quiet=quiet)
    if not quiet:
        err_console.print(f"wrote {out}: {summary['steps']} steps on {summary['examples']} "
                          f"questions in {summary['seconds']} s ({summary['s_per_step']} s/step, "
                          f"peak {summary['peak_rss_mib']} MiB)")


@command("train-extractor")
def train_extractor_cmd(
    train: o.TrainFile,
    out: Annotated[Path, o.opt("Folder: extractor.json, README.md, the models.", "--out", "-o")],
    stages: Annotated[str, typer.Option(help=f"Signals to train and fuse: {', '.join(SIGNALS)} "
                                        "(ig: IG on the trained reader, slow on a CPU).")
                      ] = ",".join(X.signals),
    heldout: o.Heldout = X.heldout,
    init: o.Init = None,
    reader_init: Annotated[str | None, o.opt("The reader starts from it instead of --init.")] = None,
    sbert_model: Annotated[str | None, o.opt("sentence-transformers model of the sbert signal.")] = None,
    distractor_rate: Annotated[float, o.opt("Share of questions with a distractor.")] = X.distractor_rate,
    dpr_epochs: Passes = X.dpr_epochs,
    reader_epochs: Passes = X.reader_epochs,
    cross_epochs: Passes = X.cross_epochs,
    cross_candidates: Annotated[int, o.opt("Cross-encoder training: candidates per question (answer, "
                                           "distractor, bm25's best others).")] = X.cross_candidates,
    static_base: Annotated[str | None, o.opt(
        "static: distilled from this model (a folder, or 'dpr': the trained dual encoder) "
        "[default: --init].")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE",
        help="Any other setting of the run by its field name (repeatable), e.g. --set "
             "cross_max_length=96 --set cascade_k=2; the fields and their defaults: "
             "ids_extract.apps.extractor_config.ExtractorTrainConfig.")] = None,
    seed: o.Seed = X.seed,
    segmenter: o.Segmenter = X.segmenter,
    device: o.Device = T.device,
    precision: o.Precision = X.precision,
    limit: o.Limit = None,
    keep_checkpoints: o.KeepCheckpoints = False,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Train the extractor: split, static, dpr, reader, cross, cross-small, score, fuse, profiles,
    card; re-running resumes at the first unfinished stage."""
    from ..apps.train_extractor import Pipeline, summary_lines

    config = of(X, locals(), train_file=train, signals=tuple(names_of(stages)), backbone=init,
                **settings(set_ or []))
    check_out(out)
    records = Pipeline(config, out, device=device, quiet=quiet, overwrite=overwrite,
                       keep_checkpoints=keep_checkpoints).run()  # it locks the folder
    for line in summary_lines(records, out):
        err_console.print(line, highlight=False)


@command("package-extractor")
def package_extractor_cmd(
    source: Annotated[str, typer.Argument(help="A train-extractor folder.")],
    out: Annotated[Path, o.opt("Folder to write: int8 ONNX models, fusion, card.", "--out", "-o")],
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Make a trained extractor shippable: each transformer as its int8 ONNX graph, the static
    vectors in int8, the fusion files, the held-out report and the card, every model recorded
    with the content hash of what is written (what ``ids-extract`` ships as ``squad-en``)."""
    import shlex
    import sys

    from ..apps.package_extractor import package
    from ..pipeline.pretrained import load_spec

    command = "ids-extract package-extractor " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    trained_by = training_command(load_spec(source).info.get("config", {}))
    result = package(source, out, command=command, trained_by=trained_by, overwrite=overwrite)
    if not quiet:
        err_console.print(f"wrote {out}: {result['total_mb']} MB "
                          f"({', '.join(f'{k} {v} MB' for k, v in result['models_mb'].items())})",
                          highlight=False)


#: the settings ``train-extractor`` takes as flags of their own (the ones a run usually changes);
#: every other field is given as ``--set NAME=VALUE``
FLAGGED = ("signals", "heldout", "backbone", "reader_init", "sbert_model", "distractor_rate",
           "dpr_epochs", "reader_epochs", "cross_epochs", "cross_candidates", "static_base",
           "seed", "segmenter", "precision", "limit")


def training_command(config: dict[str, Any]) -> str:
    """``ids-extract train-extractor`` with the settings that differ from the defaults: a flag
    for those that have one (:data:`FLAGGED`), ``--set NAME=VALUE`` else."""
    default = ExtractorTrainConfig(train_file="")
    words = ["ids-extract train-extractor", Path(config.get("train_file", "TRAIN")).name,
             "--out DIR"]
    names = {"signals": "stages", "backbone": "init"}
    for key, value in config.items():
        if key == "train_file" or not hasattr(default, key):
            continue
        base = getattr(default, key)
        if (list(base) if isinstance(base, tuple) else base) == value:
            continue
        flag = "--" + names.get(key, key).replace("_", "-")
        if key not in FLAGGED:
            words.append(f"--set {key}={json.dumps(value, separators=(',', ':'))}")
        elif isinstance(value, bool):
            words.append(flag if value else flag.replace("--", "--no-", 1))
        else:
            words.append(f"{flag} {','.join(value) if isinstance(value, list) else value}")
    return " ".join(words)
