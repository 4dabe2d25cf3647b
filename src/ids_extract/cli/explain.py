"""``explain`` (IG heat maps for one question, or one text for a classifier), ``sanity-check``
(parameter randomisation, reader or classifier) and ``fit-fusion`` (learned fusion weights from a
training file)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError
from ..files import check_out
from ..scorers.options import IG_STEPS
from ..select.segment import SEGMENTERS
from .app import Quiet, app, csv_list, err_console, handles_errors, legacy_q

ReaderModel = Annotated[str, typer.Option("--reader-model", "--model", "-m",
                                          help="A trained extractive QA model folder (from "
                                               "'ids-extract train-reader'), or a text "
                                               "classifier (from 'train-classifier').")]
OptionalModel = Annotated[str | None, typer.Option(
    "--reader-model", "--model", "-m", help="A trained extractive QA model folder (from "
    "'ids-extract train-reader'), or a text classifier (from 'train-classifier').")]
Steps = Annotated[int, typer.Option(help="IG integration steps (2 or more; --mode gxi is the "
                                         "one-step variant).")]
Mode = Annotated[str, typer.Option(help="ig (Integrated Gradients) or gxi (gradient x input, "
                                        "one backward pass).")]
Target = Annotated[str | None, typer.Option(help="IG target of a QA reader: both, start, end or "
                                                 "sum [default: both]; a classifier explains "
                                                 "its predicted class and takes none.")]
Device = Annotated[str, typer.Option(help="cpu, cuda or auto.")]
Precision = Annotated[str, typer.Option(help="IG arithmetic: auto (bf16 on a CPU with native "
                                             "bf16 or on CUDA, else fp32), fp32 or bf16.")]


def ig_precision(precision: str, device: str) -> str:
    """``auto`` -> bf16 where it is native (Spearman 0.999 with fp32 on IG sentence ranks,
    bench/results/ig.json; the sanity check ran 1.6x faster), else fp32."""
    from ..models.runtime import pick_device, pick_precision

    if precision not in ("auto", "fp32", "bf16"):
        raise ConfigError(f"--precision {precision!r}: choose auto, fp32 or bf16")
    chosen = pick_precision(precision, pick_device(device))
    return "bf16" if chosen == "fp16" else chosen  # the IG scorers run fp32 or bf16 only


def _ig(model: str, steps: int, target: str | None, device: str, mode: str = "ig",
        precision: str = "auto", **extra: Any) -> Any:
    """The IG scorer of a QA reader or of a classifier (which takes no ``--target``)."""
    from ..scorers import build_scorer

    precision = ig_precision(precision, device)
    if _is_classifier(model):
        if target is not None:
            raise ConfigError(f"--target {target}: a classifier explains its predicted class; "
                              "--target is for a QA reader")
        return build_scorer("ig", task="text", model=model, n_steps=steps, device=device,
                            target="predicted", mode=mode, precision=precision, **extra)
    return build_scorer("ig", model=model, n_steps=steps, target=target or "both", device=device,
                        mode=mode, precision=precision)


def _is_classifier(model: str) -> bool:
    from ..models.classifier.folder import is_classifier_folder

    return is_classifier_folder(Path(model))


@app.command()
@handles_errors
def explain(
    reader_model: OptionalModel = None,
    extractor: Annotated[Path | None, typer.Option(help="A train-extractor folder: explain its "
                                                   "reader (instead of --reader-model).")] = None,
    question: Annotated[str | None, typer.Option("--question", help="The question (a reader; a "
                                                 "classifier takes none).")] = None,
    context: Annotated[str | None, typer.Option("--context", "--text", help="The context (or "
                                                "the text to classify).")] = None,
    context_file: Annotated[Path | None, typer.Option("--context-file", "--text-file",
                                                      help="Read it from this text file "
                                                      "instead.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML page to write (the PNG chart "
                                      "goes beside it).")] = Path("explain.html"),
    steps: Steps = IG_STEPS,
    target: Target = None,
    mode: Mode = "ig",
    segmenter: Annotated[str | None, typer.Option(help=f"{' or '.join(SEGMENTERS)} [default: "
                                                  "the extractor's, else pysbd].")] = None,
    unit: Annotated[str, typer.Option(help="classifier: sentence or clause units.")] = "sentence",
    device: Device = "auto",
    precision: Precision = "auto",
    quiet: Quiet = False,
    legacy_question: Annotated[str | None, typer.Argument(hidden=True)] = None,
) -> None:
    """Token and sentence attribution heat maps and a per-sentence chart, as one HTML page
    (a reader: for one question and context; a classifier: for one text's predicted class)."""
    question = legacy_q(question, legacy_question)
    check_out(out, folder=False)
    from ..analysis.explain import explain as run_explain
    from ..analysis.explain import write_explanation
    from ..analysis.explain_text import explain_text

    if (reader_model is None) == (extractor is None):
        raise ConfigError("give exactly one of --reader-model and --extractor")
    if extractor is not None:
        from ..pipeline.pretrained import load_spec

        spec = load_spec(extractor)
        reader_model, segmenter = spec.reader_path(), segmenter or spec.segmenter
    assert reader_model is not None

    if (context is None) == (context_file is None):
        raise ConfigError("give exactly one of --context and --context-file")
    classifier = _is_classifier(reader_model)
    if classifier == bool(question):
        raise ConfigError("a QA reader needs --question; a classifier takes none")
    if context_file is not None:
        try:
            context = context_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{context_file}: cannot read ({err})") from None
    assert context is not None
    scorer = _ig(reader_model, steps, target, device, mode, precision)
    with err_console.status(f"attributing (IG, {scorer.n_steps} steps) …") if not quiet \
            else contextlib.nullcontext():
        exp = (explain_text(scorer, context, unit, segmenter or "pysbd") if classifier
               else run_explain(scorer, str(question), context, segmenter or "pysbd"))
    html_path, png_path = write_explanation(exp, out)
    best = int(exp.sentence_scores.argmax())
    if not quiet:
        err_console.print(f"{exp.answer_name.lower()}: {exp.answer!r}; top sentence "
                          f"S{best + 1}; wrote {html_path} and {png_path}", highlight=False)


@app.command("sanity-check")
@handles_errors
def sanity_check(
    reader_model: ReaderModel,
    data: Annotated[str, typer.Option(help="SQuAD file to sample questions from (a reader), or "
                                      "a classification file to sample texts from.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for sanity.json and "
                                      "sanity.png.")] = Path("sanity"),
    sample: Annotated[int, typer.Option(help="Questions (a reader) or texts (a classifier) "
                                      "sampled evenly over the file; each is scored again "
                                      "after every randomisation step (2 per layer).")] = 50,
    steps: Steps = IG_STEPS,
    target: Target = None,
    schedules: Annotated[str, typer.Option(help="cascading, independent, or both "
                                           "(comma-separated).")] = "cascading,independent",
    threshold: Annotated[float, typer.Option(help="Verdict: PASS when the mean Spearman after "
                                             "randomising everything is at most this.")] = 0.5,
    seed: Annotated[int, typer.Option(help="Seed of the random weights.")] = 0,
    text_column: Annotated[str, typer.Option(help="classifier: the text column.")] = "text",
    unit: Annotated[str, typer.Option(help="classifier: sentence or clause units.")] = "sentence",
    device: Device = "auto",
    precision: Precision = "auto",
    quiet: Quiet = False,
) -> None:
    """Randomise the model (cascading and independent) and measure how IG rankings change.

    Every sampled item is attributed again after each of ~2 steps per layer, so the cost is
    about 2 x layers x one IG pass: bf16 where it is native, and for a classifier windows that
    do not overlap (each token attributed once; a third fewer windows), halve it."""
    from rich.table import Table

    from ..analysis.sanity import SCHEDULES, run_sanity, sample_batch, sample_text_batch, write_result
    from ..squad.read import load
    from ..textcls import Columns
    from ..textcls import load as load_texts

    chosen = csv_list(schedules)
    bad = [s for s in chosen if s not in SCHEDULES]
    if bad or not chosen:
        raise ConfigError(f"--schedules {schedules!r}: choose from {', '.join(SCHEDULES)}")
    if sample < 1:
        raise ConfigError("--sample must be >= 1")
    check_out(out)
    classifier = _is_classifier(reader_model)
    extra: dict[str, Any] = {"overlap": 0} if classifier else {}
    scorer = _ig(reader_model, steps, target, device, precision=precision, **extra)
    batch = (sample_text_batch(load_texts(data, columns=Columns(text=text_column),
                                          labels="optional"), sample, unit)
             if classifier else sample_batch(load(data), sample))
    result = run_sanity(scorer, batch, chosen, threshold, seed, quiet)
    json_path, png_path = write_result(result, out)
    table = Table(title=f"IG sanity check ({result.questions} "
                        f"{'texts' if classifier else 'questions'})")
    for column in ("schedule", "randomised", "mean Spearman", "median", "n"):
        table.add_column(column)
    for s in result.steps:
        table.add_row(s.schedule, s.block, f"{s.mean_spearman:.3f}", f"{s.median_spearman:.3f}",
                      str(s.questions))
    if not quiet:
        err_console.print(table)
    err_console.print(result.verdict(), highlight=False)
    err_console.print(f"wrote {json_path} and {png_path}")


@app.command("fit-fusion")
@handles_errors
def fit_fusion(
    train: Annotated[str, typer.Option(help="Training SQuAD file (never the dev file).")],
    out: Annotated[str, typer.Option("--out", "-o", help="A .json path, or a bare name saved "
                                     "under $IDS_EXTRACT_HOME/fusion/.")],
    scorers: Annotated[str, typer.Option(help="Scorers to fuse (comma-separated).")] = "bm25,sbert",
    reader_model: Annotated[str | None, typer.Option(help="For ig and reader.")] = None,
    dpr_model: Annotated[str | None, typer.Option(help="For dpr.")] = None,
    cross_model: Annotated[str | None, typer.Option(help="For cross.")] = None,
    ig_steps: Annotated[int, typer.Option(help="ig: integration steps.")] = IG_STEPS,
    ig_mode: Annotated[str, typer.Option(help="ig: ig or gxi.")] = "ig",
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    c: Annotated[float, typer.Option("--C", help="Inverse L2 strength of the logistic "
                                     "regression.")] = 1.0,
    segmenter: Annotated[str, typer.Option(help=f"{' or '.join(SEGMENTERS)}.")] = "pysbd",
    device: Device = "auto",
    quiet: Quiet = False,
) -> None:
    """Fit learned-fusion weights (logistic regression on sentence labels) and save them."""
    from ..pipeline.fit_fusion import fit_on_dataset
    from ..select.learned import fusion_home
    from ..squad.read import load

    if Path(train).name.startswith("dev"):
        raise ConfigError(f"{train}: fit on a training file, never on dev")
    names = csv_list(scorers)
    options: dict[str, dict[str, Any]] = {
        "sbert": {"device": device}, "dpr": {"model": dpr_model, "device": device},
        "ig": {"model": reader_model, "device": device, "n_steps": ig_steps, "mode": ig_mode},
        "reader": {"model": reader_model, "device": device},
        "cross": {"model": cross_model, "device": device},
    }
    dataset = load(train).limit(limit)
    model = fit_on_dataset(dataset, names, {n: options.get(n, {}) for n in names}, segmenter,
                           C=c, source=train, quiet=quiet)
    target = Path(out) if out.endswith(".json") or "/" in out else fusion_home() / f"{out}.json"
    model.save(target)
    weights = ", ".join(f"{n}={w:.3f}" for n, w in model.weights().items())
    err_console.print(f"fitted on {model.fitted_on['questions']} questions; z-score weights: "
                      f"{weights}; wrote {target}", highlight=False)
