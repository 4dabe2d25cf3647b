"""``explain`` (IG heat maps for one question, or one text for a classifier), ``sanity-check``
(parameter randomisation, reader or classifier) and ``fit-fusion`` (learned fusion weights from a
training file)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

from ..analysis.jobs import EXPLAIN_PAGE, SANITY_FOLDER, ExplainJob, SanityJob, is_classifier
from ..pipeline.jobs import FitFusionJob
from ..select.segment import SEGMENTERS
from . import options as o
from .app import command, err_console, of
from .tables import print_sanity

IgPrecision = Annotated[str, o.opt("IG arithmetic: auto (bf16 where the CPU has it natively, or on CUDA; "
                                   "else fp32), fp32 or bf16.")]


@command()
def explain(
    model: o.OptionalModel = None,
    extractor: o.TrainedExtractor = None,
    question: o.Question = None,
    context: Annotated[str | None, o.opt("The context (or text to classify).", "--context", "--text")] = None,
    context_file: Annotated[Path | None, o.opt("The context (or text) from a file.", "--context-file",
                                               "--text-file")] = None,
    out: Annotated[Path, o.opt("HTML page (the PNG chart beside it).", "--out", "-o")] = EXPLAIN_PAGE,
    ig_steps: o.IgSteps = ExplainJob.ig_steps,
    ig_target: o.IgTarget = None,
    ig_mode: o.IgMode = None,
    segmenter: Annotated[str | None, o.opt(f"{' or '.join(SEGMENTERS)} [default: the extractor's, "
                                           "else pysbd].")] = None,
    unit: o.Unit = ExplainJob.unit,
    device: o.Device = ExplainJob.device,
    precision: IgPrecision = ExplainJob.precision,
    quiet: o.Quiet = False,
) -> None:
    """Token and sentence attribution heat maps and a per-sentence chart, as one HTML page
    (a reader: for one question and context; a classifier: for one text's predicted class)."""
    with err_console.status(f"attributing (IG, {ig_steps} steps) …") if not quiet \
            else contextlib.nullcontext():
        exp, html_path, png_path = of(ExplainJob, locals()).run(model, extractor, question,
                                                               context, context_file, out)
    if not quiet:
        err_console.print(f"{exp.answer_name.lower()}: {exp.answer!r}; top sentence "
                          f"S{int(exp.sentence_scores.argmax()) + 1}; wrote {html_path} and "
                          f"{png_path}", highlight=False)


@command("sanity-check")
def sanity_check(
    model: o.Model,
    data: Annotated[str, o.opt("SQuAD file to sample questions from (a reader), or a classification file to "
                               "sample texts from.")],
    out: Annotated[Path, o.opt("Folder for sanity.json and sanity.png.", "--out", "-o")] = SANITY_FOLDER,
    sample: Annotated[int, o.opt("Questions (a reader) or texts (a classifier) sampled evenly over the file; "
                                 "each is scored again after every randomisation step (2 per "
                                 "layer).")] = SanityJob.sample,
    ig_steps: o.IgSteps = SanityJob.ig_steps,
    ig_target: o.IgTarget = None,
    schedules: Annotated[str, o.opt("cascading, independent, or both "
                                    "(comma-separated).")] = SanityJob.schedules,
    threshold: Annotated[float, o.opt("Verdict: PASS when the mean Spearman after randomising everything is "
                                      "at most this.")] = SanityJob.threshold,
    seed: Annotated[int, o.opt("Seed of the random weights.")] = SanityJob.seed,
    text_column: Annotated[str, o.opt("classifier: the text column.")] = SanityJob.text_column,
    unit: o.Unit = SanityJob.unit,
    device: o.Device = SanityJob.device,
    precision: IgPrecision = SanityJob.precision,
    quiet: o.Quiet = False,
) -> None:
    """Randomise the model (cascading and independent) and measure how IG rankings change.

    Every sampled item is attributed again after each of ~2 steps per layer, so the cost is
    about 2 x layers x one IG pass: bf16 where it is native, and for a classifier windows that
    do not overlap (each token attributed once; a third fewer windows), halve it."""
    result, json_path, png_path = of(SanityJob, locals()).run(model, data, out)
    print_sanity(result, "texts" if is_classifier(model) else "questions", quiet)
    err_console.print(f"wrote {json_path} and {png_path}")


@command("fit-fusion")
def fit_fusion(
    train: o.TrainFile,
    out: Annotated[str, o.opt("A .json path, or a bare name saved under "
                              "$IDS_EXTRACT_HOME/fusion/.", "--out", "-o")],
    scorers: Annotated[str, o.opt("Scorers to fuse (comma-separated).")] = FitFusionJob.scorers,
    reader_model: o.ReaderModel = None,
    dpr_model: o.DprModel = None,
    cross_model: o.CrossModel = None,
    ig_steps: o.IgSteps = FitFusionJob.ig_steps,
    ig_mode: o.IgMode = None,
    limit: o.Limit = None,
    c: Annotated[float, o.opt("Inverse L2 strength of the logistic regression.", "--C")] = FitFusionJob.c,
    segmenter: o.Segmenter = FitFusionJob.segmenter,
    device: o.Device = FitFusionJob.device,
    scorer_option: o.ScorerOptions = None,
    quiet: o.Quiet = False,
) -> None:
    """Fit learned-fusion weights (logistic regression on sentence labels) and save them."""
    model, target = of(FitFusionJob, locals()).run(train, out)
    weights = ", ".join(f"{n}={w:.3f}" for n, w in model.weights().items())
    err_console.print(f"fitted on {model.fitted_on['questions']} questions; z-score weights: "
                      f"{weights}; wrote {target}", highlight=False)
