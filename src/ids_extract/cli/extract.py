"""``extract``, ``stats`` and ``validate``: the dataset ladder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import ConfigError
from ..models.runtime import pick_device
from ..pipeline.engine import DEFAULT_SHARD_SIZE, extract_to_dir
from ..pipeline.extractor import DEFAULT_LEVELS, LOST_POLICIES, Extractor
from ..pipeline.validate import read_manifest, validate_dir
from ..scorers import options_from
from ..scorers.options import IG_STEPS
from ..select.segment import SEGMENTERS
from .app import (
    FAST_SCORERS,
    HfSplit,
    Quiet,
    ScorerOptions,
    app,
    csv_list,
    err_console,
    handles_errors,
    hf_split_or,
    merged,
    scorer_names,
    scorer_options,
)
from .tables import print_stages, print_stats


@app.command()
@handles_errors
def extract(
    input: Annotated[str, typer.Argument(help="SQuAD JSON/JSONL/Parquet file, a datasets "
                                              "save_to_disk folder, or a hub dataset name.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder "
                                             "[default: ./extract-<input name>].")] = None,
    levels: Annotated[str, typer.Option(help="Comma-separated levels: ratio:R, top-k:K, "
                                        "tokens:L[@tokenizer], threshold:T.")] = DEFAULT_LEVELS,
    extractor: Annotated[Path | None, typer.Option(help="A trained extractor (a train-extractor "
                                                   "folder, or an extractor.json): its scorers, "
                                                   "models, fusion and segmenter.")] = None,
    profile: Annotated[str | None, typer.Option(help="With --extractor: one of its profiles "
                                                "(fast, best: see its README.md).")] = None,
    scorers: Annotated[str | None, typer.Option(help="Comma-separated scorers: bm25, sbert, dpr "
                                                "(needs --dpr-model), ig and reader (need "
                                                "--reader-model), cross (needs --cross-model) "
                                                "[default: bm25,sbert].")] = None,
    fast: Annotated[bool, typer.Option("--fast", help=f"Scorers {FAST_SCORERS}: static "
                                       "embeddings instead of MiniLM, several times faster at "
                                       "about a point of top-1 (see the README).")] = False,
    weights: Annotated[str | None, typer.Option(help="Fusion weights: 'bm25=1,sbert=1' or "
                                                "'1,1' [default: all 1].")] = None,
    fusion: Annotated[str | None, typer.Option(help="weighted (z-scores, --weights) or learned "
                                               "(--fusion-model) [default: weighted].")] = None,
    fusion_model: Annotated[str | None, typer.Option(help="learned fusion: a file or name "
                                                     "from 'ids-extract fit-fusion'.")] = None,
    reader_model: Annotated[str | None, typer.Option(help="ig and reader scorers: a trained "
                                                     "QA model folder.")] = None,
    cross_model: Annotated[str | None, typer.Option(help="cross scorer: a cross-encoder folder "
                                                    "(one-logit sequence classifier).")] = None,
    ig_steps: Annotated[int, typer.Option(help="ig: integration steps.")] = IG_STEPS,
    ig_mode: Annotated[str, typer.Option(help="ig: ig (Integrated Gradients) or gxi "
                                         "(gradient x input, one step).")] = "ig",
    ig_target: Annotated[str, typer.Option(help="ig: both, start, end or sum.")] = "both",
    ig_cascade: Annotated[str | None, typer.Option(help="ig: cheap scorers (e.g. 'bm25,sbert')"
                                                   "; IG runs only where their top two "
                                                   "sentences are within --ig-margin.")] = None,
    ig_margin: Annotated[float, typer.Option(help="ig cascade margin (z-units).")] = 0.5,
    cascade_k: Annotated[int | None, typer.Option(help="Cascade: the scorers that are not cheap "
                                                  "(sbert, dpr, reader, ig, cross) read only "
                                                  "the top K units of the cheap ones (bm25, "
                                                  "static) per question [default: off].")] = None,
    split: Annotated[str, typer.Option(help="'train' lets gold answers guide segmentation and "
                                       "keep-gold; 'eval' never uses them.")] = "eval",
    lost: Annotated[str | None, typer.Option(help="What to do with an example whose answer "
                                             f"was cut: {', '.join(LOST_POLICIES)} [default: "
                                             "keep-gold on train, unanswerable on eval].")] = None,
    segmenter: Annotated[str | None, typer.Option(help=f"{' or '.join(SEGMENTERS)} [default: "
                                                  "pysbd].")] = None,
    sbert_model: Annotated[str | None, typer.Option(help="sentence-transformers folder or name "
                                                    "[default: all-MiniLM-L6-v2].")] = None,
    static_model: Annotated[str | None, typer.Option(help="static scorer: a model2vec folder "
                                                    "(e.g. from train-static) or a transformer "
                                                    "to distil one from [default: distilled "
                                                    "from all-MiniLM-L6-v2, cached].")] = None,
    dpr_model: Annotated[str | None, typer.Option(help="dpr scorer: folder with "
                                                  "question_encoder/ and ctx_encoder/ (from "
                                                  "train-retriever), or, with internet, "
                                                  "facebook/dpr-single-nq-base.")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, or auto.")] = "auto",
    batch_size: Annotated[int | None, typer.Option(help="Encoder batch size [default: 64 "
                                                   "torch, 16 onnx].")] = None,
    precision: Annotated[str, typer.Option(help="Encoder precision: auto (int8 with ONNX; with "
                                           "torch bf16 on CPUs with native bf16, fp16 on CUDA, "
                                           "else fp32), fp32, bf16, fp16, int8.")] = "auto",
    backend: Annotated[str, typer.Option(help="sbert encoder runtime: auto (int8 ONNX Runtime on "
                                         "a CPU, exported offline on first use and cached; "
                                         "torch on CUDA), onnx, or torch.")] = "auto",
    format: Annotated[str, typer.Option("--format", help="squad, parquet, or both "
                                        "(comma-separated).")] = "squad",
    on_bad_answer: Annotated[str, typer.Option(help="error, repair (move to the nearest "
                                               "occurrence) or skip.")] = "error",
    hf_split: HfSplit = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    engine: Annotated[str, typer.Option(help="local (streaming, one process) or ray (Ray Data "
                                        "actor pool; pip install 'ids-extract[ray]').")] = "local",
    shard_size: Annotated[int, typer.Option(help="Paragraphs per shard: the unit of resume and "
                                            "of work for Ray.")] = DEFAULT_SHARD_SIZE,
    ray_address: Annotated[str | None, typer.Option(help="Join this Ray cluster [default: a "
                                                    "local instance].")] = None,
    ray_actors: Annotated[int | None, typer.Option(help="Actors in the Ray pool [default: one "
                                                   "per GPU, else 1].")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an extraction with another config "
                                            "in --out.")] = False,
    timings: Annotated[bool, typer.Option(help="Print the wall time of each stage (read, "
                                          "segment, score per scorer, select, write); was "
                                          "--profile before profiles were named.")] = False,
    scorer_option: ScorerOptions = None,
    quiet: Quiet = False,
) -> None:
    """Write datasets D1…Dn (one per level) and manifest.json; re-running resumes."""
    if on_bad_answer not in ("error", "repair", "skip"):
        raise ConfigError(f"--on-bad-answer {on_bad_answer!r}: choose error, repair or skip")
    pick_device(device)  # a device that is not there fails now, whichever scorers use it
    if extractor is not None:
        given = {"--scorers": scorers, "--scorer-option": scorer_option, "--fast": fast or None,
                 "--weights": weights,
                 "--fusion": fusion, "--fusion-model": fusion_model, "--reader-model": reader_model,
                 "--cross-model": cross_model, "--dpr-model": dpr_model,
                 "--sbert-model": sbert_model, "--static-model": static_model,
                 "--cascade-k": cascade_k,
                 "--segmenter": segmenter}
        clash = [k for k, v in given.items() if v is not None]
        if clash:
            raise ConfigError(f"--extractor sets the scorers, models, fusion and segmenter: "
                              f"leave out {', '.join(clash)}")
        built = Extractor.from_pretrained(extractor, levels, device=device, split=split,
                                          lost=lost, quiet=quiet, profile=profile)
    else:
        if profile is not None:
            raise ConfigError("--profile names a profile of a trained extractor: give --extractor")
        names = scorer_names(scorers, fast)
        values = {"sbert_model": sbert_model, "dpr_model": dpr_model,
                  "reader_model": reader_model, "cross_model": cross_model,
                  "static_model": static_model, "device": device, "batch_size": batch_size,
                  "precision": precision, "backend": backend, "ig_steps": ig_steps,
                  "ig_mode": ig_mode, "ig_target": ig_target, "ig_cascade": ig_cascade,
                  "ig_margin": ig_margin}
        built = Extractor(
            names, levels, split=split, lost=lost, weights=weights,  # type: ignore[arg-type]
            segmenter=segmenter or "pysbd",
            scorer_options=merged(options_from(names, values),
                                  scorer_options(scorer_option, names)),
            quiet=quiet, fusion=fusion or "weighted", fusion_model=fusion_model,
            cascade=cascade_k,
        )
    out_dir = out or Path(f"extract-{Path(input).stem or 'dataset'}")
    if out is None and not quiet:
        err_console.print(f"no --out given: writing to {out_dir}/", highlight=False)
    summary = extract_to_dir(
        built, input, out_dir, formats=tuple(csv_list(format)),
        on_bad_answer=on_bad_answer, limit=limit, overwrite=overwrite,  # type: ignore[arg-type]
        hf_split=hf_split_or(hf_split, split == "train"), engine=engine, shard_size=shard_size,
        ray_address=ray_address, ray_actors=ray_actors,
    )
    if timings:
        print_stages(summary.seconds)
    if not quiet:
        if summary.skipped:
            err_console.print(f"already written, skipped: {', '.join(summary.skipped)}")
        print_stats(summary.manifest)
        repairs = summary.manifest["input"]["answers_repaired_or_skipped"]
        if repairs:
            err_console.print(f"[yellow]{len(repairs)} answers or questions repaired or skipped "
                              f"(listed in {out_dir / 'manifest.json'})[/]")
        err_console.print(f"wrote {out_dir}")


@app.command()
@handles_errors
def stats(directory: Annotated[Path, typer.Argument(help="An extract output folder.")]) -> None:
    """Print the per-level statistics table of an output folder."""
    print_stats(read_manifest(directory))


@app.command()
@handles_errors
def validate(directory: Annotated[Path, typer.Argument(help="An extract output folder.")]) -> None:
    """Check every output: checksums, and every answer equal to the text at its offset."""
    checks = validate_dir(directory)
    out = Console(soft_wrap=True)  # the command's result: stdout, as stats'
    for c in checks:
        mark = "[green]ok[/]" if c.ok else "[bold red]FAIL[/]"
        out.print(f"{mark} {c.level} {c.file}: {escape(c.message)}", highlight=False)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command("scorers")
@handles_errors
def scorers_cmd(
    task: Annotated[str, typer.Option(help="qa (extract, compress) or text (extract-texts).")] = "qa",
) -> None:
    """List the scorers of a task and the options each declares: default, help, and the flag
    that sets it (any option: --scorer-option NAME.OPTION=VALUE)."""
    from rich.table import Table

    from ..errors import ConfigError
    from ..progress import console
    from ..scorers import TASKS, describe

    if task not in TASKS:
        raise ConfigError(f"--task {task!r}: choose from {', '.join(TASKS)}")
    for name in TASKS[task]:
        table = Table(title=name, title_justify="left", show_edge=False)
        for column in ("option", "default", "flag", "help"):
            table.add_column(column)
        for row in describe(name, task):
            table.add_row(row["option"], repr(row["default"]), row["flag"] or "", row["help"])
        console.print(table)
