"""``sentences`` (the sentence-level dataset) and ``train-retriever`` (our own DPR pair)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from ..select.segment import SEGMENTERS
from ..squad.read import load
from .app import TrainFile, app, err_console, handles_errors


@app.command()
@handles_errors
def sentences(
    input: Annotated[str, typer.Argument(help="SQuAD JSON/JSONL/Parquet file or datasets folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .parquet or .jsonl.")],
    balance: Annotated[str, typer.Option(help="none, or drop-empty (keep only the rows that "
                                         "hold the answer start).")] = "none",
    neg_ratio: Annotated[float | None, typer.Option(help="Keep at most R negative rows per "
                                                    "answer row of a question (sampled).")] = None,
    split: Annotated[str, typer.Option(help="'train' merges sentences an answer crosses; "
                                       "'eval' does not.")] = "train",
    segmenter: Annotated[str, typer.Option(help=f"{' or '.join(SEGMENTERS)}.")] = "pysbd",
    seed: Annotated[int, typer.Option(help="Seed of the --neg-ratio sampling.")] = 0,
    on_bad_answer: Annotated[str, typer.Option(help="error, repair or skip.")] = "error",
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Write one row per (question, sentence): ids, sentence index, text, span, label."""
    from ..pipeline.sentences import balance_rows, sentence_rows, write_rows

    if split not in ("train", "eval"):
        raise ConfigError(f"--split {split!r}: choose train or eval")
    if on_bad_answer not in ("error", "repair", "skip"):
        raise ConfigError(f"--on-bad-answer {on_bad_answer!r}: choose error, repair or skip")
    if out.suffix.lower() not in (".parquet", ".jsonl", ".ndjson"):
        raise ConfigError(f"{out}: output must end in .parquet or .jsonl")
    dataset = load(input, on_bad_answer=on_bad_answer).limit(limit)  # type: ignore[arg-type]
    rows = list(sentence_rows(dataset, split=split, segmenter=segmenter, quiet=quiet))
    kept = balance_rows(rows, balance, neg_ratio, seed)
    write_rows(kept, out)
    if not quiet:
        positives = sum(r["label"] is not None for r in kept)
        err_console.print(f"wrote {out}: {len(kept)} rows ({positives} with the answer, "
                          f"{len(kept) - positives} without; {len(rows)} before balancing)")


@app.command("train-retriever")
@handles_errors
def train_retriever_cmd(
    train_file: TrainFile,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the DPR pair "
                                      "(question_encoder/, ctx_encoder/).")],
    backbone: Annotated[str | None, typer.Option(help="BERT or sentence-transformers folder to "
                                                 "start both encoders from [default: "
                                                 "all-MiniLM-L6-v2].")] = None,
    epochs: Annotated[float, typer.Option(help="Passes over the training contexts.")] = 3.0,
    contexts_per_step: Annotated[int, typer.Option(help="Whole contexts per step (their "
                                                   "questions, ~5 each, share all their "
                                                   "sentences as candidates).")] = 8,
    learning_rate: Annotated[float, typer.Option(help="Peak AdamW learning rate.")] = 5e-5,
    pooling: Annotated[str, typer.Option(help="mean (the backbone's own pooling) or cls "
                                         "(plain DPR).")] = "mean",
    max_question_length: Annotated[int, typer.Option(help="Question tokens.")] = 64,
    max_passage_length: Annotated[int, typer.Option(help="Sentence tokens (with its context).")] = 128,
    passage_context: Annotated[int, typer.Option(help="Preceding sentences the passage encoder "
                                                 "reads with each sentence (second segment); "
                                                 "the dpr scorer reads it from the pair.")] = 0,
    heldout: Annotated[int, typer.Option(help="Questions held out from the end of the training "
                                         "file (whole articles) for top-1 recall.")] = 500,
    eval_steps: Annotated[int, typer.Option(help="Evaluate every N steps.")] = 200,
    save_steps: Annotated[int, typer.Option(help="Checkpoint every N steps.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of initialisation order and shuffling.")] = 42,
    device: Annotated[str, typer.Option(help="cpu, cuda, or auto.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto (bf16 on CPUs with native bf16, fp16 on "
                                           "CUDA), fp32, bf16, fp16.")] = "auto",
    segmenter: Annotated[str, typer.Option(help=f"{' or '.join(SEGMENTERS)}.")] = "pysbd",
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    keep_checkpoints: Annotated[bool, typer.Option(help="Keep checkpoints/ after a finished "
                                                   "run.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Start again over a pair or checkpoints of "
                                            "another config.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Train a DPR dual encoder (in-batch + same-context negatives); re-running resumes."""
    from ..models.dpr.train import TrainConfig, train_retriever

    config = TrainConfig(
        train_file=train_file, backbone=backbone, pooling=pooling, epochs=epochs,
        contexts_per_step=contexts_per_step, learning_rate=learning_rate,
        max_question_length=max_question_length, max_passage_length=max_passage_length,
        passage_context=passage_context,
        heldout_questions=heldout, eval_steps=eval_steps, save_steps=save_steps, seed=seed,
        precision=precision, segmenter=segmenter, limit=limit)
    summary = train_retriever(config, out, device=device, quiet=quiet, overwrite=overwrite,
                              keep_checkpoints=keep_checkpoints)
    if not quiet:
        if summary.reused:
            err_console.print(f"{out} already holds this pair: nothing to do")
        last = summary.heldout_top1[-1]["top1"] if summary.heldout_top1 else float("nan")
        err_console.print(f"wrote {out}: {summary.steps} steps, {summary.wall_s:.0f} s, held-out "
                          f"top-1 {last:.2f} % ({summary.heldout_questions} questions)")
