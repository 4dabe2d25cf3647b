"""``train-extractor``: train the whole extractor (dual encoder, reader, cross-encoder, learned
fusion) from one training file into one folder that ``--extractor`` then uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..apps.train_extractor import DEFAULT_SIGNALS, SIGNALS
from ..files import check_out, folder_lock
from ..scorers.options import IG_STEPS
from ..select.segment import SEGMENTERS
from .app import app, csv_list, err_console, handles_errors


@app.command("train-extractor")
@handles_errors
def train_extractor_cmd(
    train_file: Annotated[str, typer.Argument(help="SQuAD training file (never the dev file).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the extractor "
                                      "(extractor.json, README.md, the models).")],
    stages: Annotated[str | None, typer.Option(help="Signals to train and fuse, of "
                                               f"{', '.join(SIGNALS)} (ig: IG on the trained "
                                               "reader, slow on a CPU) [default: "
                                               f"{','.join(DEFAULT_SIGNALS)}].")] = None,
    heldout: Annotated[int, typer.Option(help="Questions held out (whole articles from the "
                                         "end of the file) to fit the fusion and report.")] = 1000,
    backbone: Annotated[str | None, typer.Option(help="Encoder the dual encoder, reader and "
                                                 "cross-encoder start from [default: "
                                                 "all-MiniLM-L6-v2].")] = None,
    reader_init: Annotated[str | None, typer.Option(help="Start the reader from this QA model "
                                                    "or encoder instead.")] = None,
    sbert_model: Annotated[str | None, typer.Option(help="sentence-transformers model of the "
                                                    "sbert signal.")] = None,
    distractor_rate: Annotated[float, typer.Option(help="Share of training questions given "
                                                   "their distractor as a hard negative.")] = 0.5,
    dpr_epochs: Annotated[float, typer.Option(help="Dual encoder: passes over the contexts.")] = 1.0,
    reader_epochs: Annotated[float, typer.Option(help="Reader: passes over the questions.")] = 1.0,
    reader_max_seq_length: Annotated[int, typer.Option(help="Reader: tokens per window.")] = 256,
    cross_epochs: Annotated[float, typer.Option(help="Cross-encoder: passes over the "
                                                "questions.")] = 1.0,
    cross_context: Annotated[int, typer.Option(help="Cross-encoder: neighbouring sentences read "
                                               "on each side of a candidate.")] = 0,
    cross_candidates: Annotated[int, typer.Option(help="Cross-encoder training: candidates per "
                                                  "question (answer, distractor, bm25's best "
                                                  "others).")] = 4,
    cross_max_length: Annotated[int, typer.Option(help="Cross-encoder: tokens of a (question, "
                                                  "candidate) pair.")] = 128,
    cross_init_layers: Annotated[int | None, typer.Option(help="Cross-encoder: keep the first K "
                                                          "layers of the backbone [default: "
                                                          "all].")] = None,
    cascade_k: Annotated[int, typer.Option(help="Extraction: the cross-encoder reads only the "
                                           "top K units of the other signals' fusion.")] = 4,
    ig_steps: Annotated[int, typer.Option(help="ig: integration steps.")] = IG_STEPS,
    seed: Annotated[int, typer.Option(help="Seed of every trainer and of the distractors.")] = 42,
    segmenter: Annotated[str, typer.Option(help=f"{' or '.join(SEGMENTERS)}.")] = "pysbd",
    device: Annotated[str, typer.Option(help="cpu, cuda, or auto (a GPU when there is one).")] = "auto",
    precision: Annotated[str, typer.Option(help="auto (bf16 on CPUs with native bf16, fp16 on "
                                           "CUDA), fp32, bf16, fp16.")] = "auto",
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    keep_checkpoints: Annotated[bool, typer.Option(help="Keep the trainers' checkpoints.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Run again stages recorded with other "
                                            "settings.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Train the extractor: split, dpr, reader, cross, score, fuse, card; re-running resumes at
    the first unfinished stage."""
    from ..apps.train_extractor import ExtractorTrainConfig, Pipeline

    config = ExtractorTrainConfig(
        train_file=train_file,
        signals=tuple(csv_list(stages)) if stages else ExtractorTrainConfig.signals,
        heldout=heldout,
        backbone=backbone, reader_init=reader_init, sbert_model=sbert_model,
        distractor_rate=distractor_rate, dpr_epochs=dpr_epochs, reader_epochs=reader_epochs,
        reader_max_seq_length=reader_max_seq_length, cross_epochs=cross_epochs,
        cross_context=cross_context, cross_candidates=cross_candidates,
        cross_max_length=cross_max_length, cross_init_layers=cross_init_layers,
        cascade_k=cascade_k, ig_steps=ig_steps, seed=seed, segmenter=segmenter,
        precision=precision, limit=limit)
    check_out(out)
    with folder_lock(out):  # a second run into the same folder is refused
        records = Pipeline(config, out, device=device, quiet=quiet, overwrite=overwrite,
                           keep_checkpoints=keep_checkpoints).run()
    fused = records["fuse"].result
    total = sum(r.wall_s for r in records.values())
    err_console.print(f"wrote {out}: held-out top-1 {fused['top1']:.2f} % (with a distractor "
                      f"{fused['stress_top1']:.2f} %, distractor first {fused['distractor_first']:.2f} %); "
                      f"stage time {total / 60:.1f} min; see {out / 'README.md'}", highlight=False)
