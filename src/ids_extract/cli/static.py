"""``train-static``: the static (model2vec) scorer's vectors fine-tuned on a SQuAD training file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..select.segment import SEGMENTERS
from .app import BatchSize, LearningRate, Overwrite, Seed, TrainFile, app, err_console, handles_errors


@app.command("train-static")
@handles_errors
def train_static_cmd(
    train_file: TrainFile,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the trained model2vec "
                                      "model (load it with --static-model).")],
    base: Annotated[str | None, typer.Option(help="Static model to start from: a model2vec "
                                             "folder, or a transformer to distil one from "
                                             "[default: distilled from all-MiniLM-L6-v2].")] = None,
    epochs: Annotated[int, typer.Option(help="Passes over the training questions.")] = 3,
    batch_size: BatchSize = 64,
    lr: LearningRate = 2e-3,
    temperature: Annotated[float, typer.Option(help="Softmax temperature of the cosines.")] = 0.05,
    context_negatives: Annotated[int, typer.Option(help="Other sentences of a question's "
                                                   "context used as its negatives.")] = 4,
    distractors: Annotated[bool, typer.Option(help="Add each question's stress-set distractor "
                                              "as a negative.")] = True,
    max_steps: Annotated[int | None, typer.Option(help="Stop after N steps.")] = None,
    segmenter: Annotated[str, typer.Option(help=f"{' or '.join(SEGMENTERS)}.")] = "pysbd",
    seed: Seed = 0,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    overwrite: Overwrite = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Fine-tune static token vectors (question <-> answer sentence, in-batch and hard negatives);
    minutes on a CPU."""
    from ..models.static.train import StaticTrainConfig, train_static
    from ..squad.read import load

    config = StaticTrainConfig(base=base, epochs=epochs, batch_size=batch_size, lr=lr,
                               temperature=temperature, context_negatives=context_negatives,
                               distractors=distractors, max_steps=max_steps, seed=seed,
                               segmenter=segmenter)
    dataset = load(train_file).limit(limit)
    summary = train_static(dataset, out, config, overwrite=overwrite, quiet=quiet)
    if not quiet:
        err_console.print(f"wrote {out}: {summary['steps']} steps on {summary['examples']} "
                          f"questions in {summary['seconds']} s ({summary['s_per_step']} s/step, "
                          f"peak {summary['peak_rss_mib']} MiB)")

