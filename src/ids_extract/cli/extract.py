"""``extract``, ``stats``, ``validate`` and ``scorers``: the dataset ladder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..pipeline.extractor import LOST_POLICIES
from ..pipeline.jobs import BAD_ANSWER_POLICIES, ENGINES, ExtractJob, SentencesJob
from ..pipeline.output import QA_PRODUCT
from ..pipeline.validate import read_manifest, validate_dir
from ..scorers.options import DEFAULT_TASK
from . import options as o
from .app import command, err_console, of
from .tables import print_checks, print_scorers, report_run, show, stats_tables

Input = Annotated[str, typer.Argument(help="SQuAD JSON/JSONL/Parquet, a datasets folder or a hub name.")]
Out = Annotated[Path | None, o.opt("Output folder [default: ./extract-<input name>].", "--out", "-o")]
Fusion = Annotated[str | None, o.opt("weighted (z-scores, --weights) or learned (--fusion-model).")]
FusionModel = Annotated[str | None, o.opt("learned fusion: a file or name from 'ids-extract fit-fusion'.")]
Lost = Annotated[str | None, o.opt(f"An example whose answer was cut: {', '.join(LOST_POLICIES)} "
                                   "[default: keep-gold on train, unanswerable on eval].")]
EncoderBatch = Annotated[int | None, o.opt("Encoder batch size [default: the scorer's].", "--batch-size")]
EncoderPrecision = Annotated[str | None, o.opt("Encoders: auto (int8 with ONNX; with torch bf16 where "
                                               "native, fp16 on CUDA, else fp32), fp32, bf16, fp16, "
                                               "int8.", "--precision")]
Backend = Annotated[str | None, o.opt("sbert runtime: auto (int8 ONNX Runtime on a CPU, exported on "
                                      "first use and cached; torch on CUDA), onnx, or torch.")]
IgCascade = Annotated[str | None, o.opt("ig: cheap scorers (e.g. 'bm25,sbert'); IG runs only where "
                                        "their top two sentences are within --ig-margin.")]
IgMargin = Annotated[float | None, o.opt("ig cascade margin (z-units).")]
Format = Annotated[str, o.opt(f"{', '.join(QA_PRODUCT.files)}, or several (comma-separated).", "--format")]
OnBadAnswer = Annotated[str, o.opt(f"{', '.join(BAD_ANSWER_POLICIES)} (to the nearest occurrence).")]
Engine = Annotated[str, o.opt(f"{' or '.join(ENGINES)} (pip install 'ids-extract[ray]').")]
ShardSize = Annotated[int, o.opt("Paragraphs per shard: the unit of resume and of work for Ray.")]
RayAddress = Annotated[str | None, o.opt("Join this Ray cluster [default: a local instance].")]
RayActors = Annotated[int | None, o.opt("Actors in the Ray pool [default: one per GPU, else 1].")]
Timings = Annotated[bool, o.opt("Print the wall time of each stage.")]
Folder = Annotated[Path, typer.Argument(help="An output folder (extract or extract-texts).")]


@command()
def extract(
    input: Input,
    out: Out = None,
    levels: o.Levels = ExtractJob.levels,
    extractor: o.TrainedExtractor = None,
    profile: o.Profile = None,
    scorers: o.Scorers = None,
    fast: o.Fast = False,
    weights: o.Weights = None,
    fusion: Fusion = None,
    fusion_model: FusionModel = None,
    cascade_k: o.CascadeK = None,
    split: o.Split = ExtractJob.split,
    lost: Lost = None,
    segmenter: o.OptionalSegmenter = None,
    sbert_model: o.SbertModel = None,
    static_model: o.StaticModel = None,
    dpr_model: o.DprModel = None,
    reader_model: o.ReaderModel = None,
    cross_model: o.CrossModel = None,
    device: o.Device = ExtractJob.device,
    batch_size: EncoderBatch = None,
    precision: EncoderPrecision = None,
    backend: Backend = None,
    ig_steps: o.IgSteps = ExtractJob.ig_steps,
    ig_mode: o.IgMode = None,
    ig_target: o.IgTarget = None,
    ig_cascade: IgCascade = None,
    ig_margin: IgMargin = None,
    format: Format = ExtractJob.format,
    on_bad_answer: OnBadAnswer = ExtractJob.on_bad_answer,
    hf_split: o.HfSplit = None,
    limit: o.Limit = None,
    engine: Engine = ExtractJob.engine,
    shard_size: ShardSize = ExtractJob.shard_size,
    ray_address: RayAddress = None,
    ray_actors: RayActors = None,
    overwrite: o.Overwrite = False,
    timings: Timings = False,
    scorer_option: o.ScorerOptions = None,
    quiet: o.Quiet = False,
) -> None:
    """Write datasets D1…Dn (one per level) and manifest.json; re-running resumes."""
    job = of(ExtractJob, locals())
    job.check()
    out_dir = out or job.default_out(input)
    if out is None and not quiet:
        err_console.print(f"no --out given: writing to {out_dir}/", highlight=False)
    report_run(job.run(input, out_dir), quiet, timings)


@command()
def stats(directory: Folder, quiet: o.Quiet = False) -> None:
    """Print the per-level statistics table of an output folder (-q: nothing but the exit code
    says it can be read)."""
    tables = stats_tables(read_manifest(directory))
    if not quiet:
        for table in tables:
            show(table.title, table.columns, table.rows)


@command()
def validate(directory: Folder, quiet: o.Quiet = False) -> None:
    """Check every output: checksums, and every answer equal to the text at its offset (-q:
    only the failures are printed)."""
    if not print_checks(validate_dir(directory), quiet):
        raise typer.Exit(1)


@command("scorers")
def scorers_cmd(
    task: Annotated[str, o.opt("qa (extract, compress) or text (extract-texts).")] = DEFAULT_TASK,
    quiet: o.Quiet = False,
) -> None:
    """List the scorers of a task and the options each declares: default, help, and the flag
    that sets it (any option: --scorer-option NAME.OPTION=VALUE); -q: the names only."""
    print_scorers(task, quiet)


@command()
def sentences(
    input: Annotated[str, typer.Argument(help="SQuAD JSON/JSONL/Parquet file or datasets folder.")],
    out: Annotated[Path, o.opt("Output file: .parquet or .jsonl.", "--out", "-o")],
    balance: Annotated[str, o.opt("none, or drop-empty (keep only the rows that hold the answer "
                                  "start).")] = SentencesJob.balance,
    neg_ratio: Annotated[float | None, o.opt("Keep at most R negative rows per answer row of a question "
                                             "(sampled).")] = None,
    split: o.Split = SentencesJob.split,
    segmenter: o.Segmenter = SentencesJob.segmenter,
    seed: o.Seed = SentencesJob.seed,
    on_bad_answer: Annotated[str, o.opt("error, repair or skip.")] = SentencesJob.on_bad_answer,
    limit: o.Limit = None,
    quiet: o.Quiet = False,
) -> None:
    """Write one row per (question, sentence): ids, sentence index, text, span, label."""
    kept, before = of(SentencesJob, locals()).run(input, out)
    if not quiet:
        positives = sum(r["label"] is not None for r in kept)
        err_console.print(f"wrote {out}: {len(kept)} rows ({positives} with the answer, "
                          f"{len(kept) - positives} without; {before} before balancing)")
