"""One vocabulary of options for every command: each concept has one name, declared here once
with its help (the docs' command-line reference lists them); defaults are the library's, given where a
command uses an option. The old names of a concept still work for one release, hidden, with a
warning (:data:`OLD_NAMES`, read by :class:`.app.AliasedCommand`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..scorers import REGISTRY, TEXT_REGISTRY
from ..scorers.options import DEFAULT_SCORERS, FAST_SCORERS
from ..select.segment import SEGMENTERS

#: per command, old name -> new spelling (an option; an option and its value; "" when the value
#: is the command's argument now)
OLD_NAMES: dict[str, dict[str, str]] = {
    "train-reader": {"--train": "", "--truncate": "--mode truncate"},
    "train-classifier": {"--train": ""}, "fit-fusion": {"--train": ""},
    "train-static": {"--base": "--init", "--lr": "--learning-rate"},
    "train-retriever": {"--backbone": "--init"}, "train-extractor": {"--backbone": "--init"},
    "explain": {"--reader-model": "--model", "--steps": "--ig-steps", "--mode": "--ig-mode",
                "--target": "--ig-target", "-q": "--question"},
    "sanity-check": {"--reader-model": "--model", "--steps": "--ig-steps", "--target": "--ig-target"},
    "answer": {"--level": "--levels", "-q": "--question"},
    "evaluate": {"--truncate": "--mode truncate", "--window": "--mode window"},
    "evaluate-classifier": {"--windows": "--mode windows"},
}


def opt(help: str, *names: str) -> Any:
    """An option with its help (and its names, where they are not the parameter's own)."""
    return typer.Option(*names, help=help)


Quiet = Annotated[bool, opt("No progress bars or table.", "--quiet", "-q")]
Overwrite = Annotated[bool, opt("Replace what --out holds from another input or other settings.")]
Limit = Annotated[int | None, opt("Only the first N questions (or texts).")]
Seed = Annotated[int, opt("Seed of initialisation, shuffling and sampling.")]
Device = Annotated[str, opt("cpu, cuda, cuda:N, or auto (cuda when present).")]
Precision = Annotated[str, opt("auto (bf16 on CPUs with native bf16, fp16 on CUDA, else fp32; int8 "
                               "with ONNX), fp32, bf16, fp16.")]
Segmenter = Annotated[str, opt(f"{' or '.join(SEGMENTERS)} (blingfire: many times faster; pip "
                               "install 'ids-extract[fast]').")]
#: the segmenter of the named scorers; none given and no scorers: the shipped extractor's
OptionalSegmenter = Annotated[str | None, opt(f"{' or '.join(SEGMENTERS)} [default: pysbd with "
                                              "--scorers; the extractor's otherwise].")]
HfSplit = Annotated[str | None, opt("Split of a datasets folder or hub name [default: train for "
                                    "training data (train-*, split-texts, --split train), "
                                    "validation otherwise].")]
Split = Annotated[str, opt("'train' may use the gold answers or labels; 'eval' never does.")]
Fast = Annotated[bool, opt(f"Scorers {FAST_SCORERS}: static embeddings instead of MiniLM, several "
                           "times faster at about a point of top-1 (see the docs, Scorers: Fast); not with "
                           "--scorers.", "--fast")]
Scorers = Annotated[str | None, opt(f"Comma-separated scorers: {', '.join(REGISTRY)} (ids-extract "
                                    f"scorers lists them) [default: the shipped extractor "
                                    f"squad-en (profile fast) where it ships, else {DEFAULT_SCORERS}].")]
TextScorers = Annotated[str, opt(f"Comma-separated: {', '.join(TEXT_REGISTRY)} (ig and alone need "
                                 "--classifier-model).", "--scorers")]
Weights = Annotated[str | None, opt("Fusion weights: 'bm25=1,sbert=0.5' or '1,0.5' [default: all "
                                    "1].")]
CascadeK = Annotated[int | None, opt("The scorers that are not cheap (sbert, dpr, reader, ig, "
                                     "cross) read only the top K units of the cheap ones (bm25, "
                                     "static) per item; 0: off.")]
ScorerOptions = Annotated[list[str] | None, opt(
    "SCORER.OPTION=VALUE, any option a scorer declares (ids-extract scorers lists them; a JSON "
    "value, else text); repeat for several.", "--scorer-option")]
Levels = Annotated[str, opt("Comma-separated levels: ratio:R (at least R of the tokens), top-k:K, "
                            "tokens:L[@tokenizer], threshold:T.")]
Budget = Annotated[str, opt("tokens:L[@tokenizer] (question + text + special tokens fit in L) or "
                            "max-ratio:R (at most R of the text's tokens): a ceiling, never "
                            "exceeded; ratio:R keeps at least R; a line's own \"budget\" wins.")]
# the models a scorer reads (one flag per scorer family)
SbertModel = Annotated[str | None, opt("sbert (and label) scorer: a sentence-transformers folder "
                                       "or name [default: all-MiniLM-L6-v2].")]
StaticModel = Annotated[str | None, opt("static scorer: a model2vec folder (e.g. from "
                                        "train-static) or a transformer to distil one from "
                                        "[default: distilled from all-MiniLM-L6-v2, cached].")]
DprModel = Annotated[str | None, opt("dpr scorer: a folder with question_encoder/ and "
                                     "ctx_encoder/ (from train-retriever), or, with internet, "
                                     "facebook/dpr-single-nq-base.")]
ReaderModel = Annotated[str | None, opt("ig and reader scorers: a trained QA model folder (from "
                                        "train-reader).")]
CrossModel = Annotated[str | None, opt("cross scorer: a cross-encoder folder (one-logit sequence "
                                       "classifier).")]
ClassifierModel = Annotated[str | None, opt("ig and alone scorers (texts): a trained classifier "
                                            "folder.")]
IgSteps = Annotated[int, opt("IG integration steps (2 or more; --ig-mode gxi is the one-step "
                             "variant).")]
IgTarget = Annotated[str | None, opt("IG target of a QA reader: both, start, end or sum [default: the "
                                     "scorer's: both]; a classifier explains its predicted class.")]
IgMode = Annotated[str | None, opt("ig (Integrated Gradients) or gxi (gradient x input, one "
                                   "backward pass) [default: the scorer's: ig].")]
TrainedExtractor = Annotated[Path | None, opt("A trained extractor (a train-extractor folder or an "
                                              "extractor.json): its scorers, models, fusion and "
                                              "segmenter; its reader.", "--extractor")]
Profile = Annotated[str | None, opt("With --extractor: one of its profiles (fast, best: see its "
                                    "README.md) [default: the whole extractor].", "--profile")]
Question = Annotated[str | None, opt("The question.", "--question")]
# the model a command reads, or trains from
MODEL = "The model folder: a reader (from train-reader) or a classifier (from train-classifier)."
Model = Annotated[Path, opt(MODEL, "--model", "-m")]
OptionalModel = Annotated[Path | None, opt(MODEL, "--model", "-m")]
Init = Annotated[str | None, opt("The model training starts from: a folder or hub name [default: "
                                 "all-MiniLM-L6-v2 with a fresh head].")]
InitLayers = Annotated[int | None, opt("Keep only the first K layers of --init (a smaller "
                                       "model).")]
TrainFile = Annotated[str, typer.Argument(help="Training data (never the dev file): SQuAD "
                                          "JSON/JSONL/Parquet or a datasets folder (a "
                                          "classification file for train-classifier).")]
Data = Annotated[str, opt("The data to score: the original file, or an extracted level of it.",
                          "--data")]
Epochs = Annotated[float, opt("Training epochs.")]
MaxSteps = Annotated[int, opt("Stop after N optimiser steps (overrides --epochs; -1: off).")]
BatchSize = Annotated[int, opt("Batch size.")]
LearningRate = Annotated[float, opt("Peak learning rate.")]
MaxSeqLength = Annotated[int, opt("Tokens the model reads at once.")]
SaveSteps = Annotated[int, opt("Checkpoint every N steps.")]
KeepCheckpoints = Annotated[bool, opt("Keep checkpoints/ (with the optimizer state) after a "
                                      "finished run.")]
Heldout = Annotated[int, opt("Questions held out (whole articles from the end of the training "
                             "file) to measure on.")]
# classification files
TextColumn = Annotated[str, opt("Column holding the text.")]
LabelColumn = Annotated[str, opt("Column holding the label.")]
IdColumn = Annotated[str | None, opt("Column holding the id [default: 'id' when the file has it, "
                                     "else the row number].")]
Unit = Annotated[str, opt("sentence, or clause (finer: for one-sentence texts).")]
