"""What ``extract`` and ``extract-texts`` run, as configurations: every setting with its default
(declared here once; the command line reads the defaults from these classes), the checks made
before any work, and the run into an output folder.

Scorer options are not set one by one: the values a command has (``sbert_model``, ``device``,
``ig_steps``, …) go to the scorers that declare they read them (:func:`ids_extract.scorers.
options_from`), with the ``scorer_option`` ones over them; a value left None is the scorer's own
default (``ids-extract scorers`` lists them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import defaults
from ..errors import ConfigError, DataError, check_limit
from ..files import check_out
from ..scorers import options_from
from ..scorers.options import (
    DEFAULT_SCORERS,
    IG_STEPS,
    chosen_scorers,
    merged,
    names_of,
    parse_scorer_options,
)
from ..select.cascade import check_k
from ..tabular import hf_split_for, read_json
from ..textcls.model import TextDataset
from .classify import DEFAULT_TEXT_LEVELS, DEFAULT_TEXT_SCORERS, TextExtractor
from .classify_jobs import TextColumns
from .classify_output import DEFAULT_TEXT_SHARD_SIZE, extract_texts_to_dir, read_input
from .engine import DEFAULT_SHARD_SIZE, ENGINES, extract_to_dir
from .extractor import DEFAULT_LEVELS, Extractor
from .folder import RunSummary
from .pretrained import (
    DEFAULT_PROFILE,
    check_beside_extractor,
    decided_of,
    default_extractor,
)
from .trained import TrainedExtractor

BAD_ANSWER_POLICIES = ("error", "repair", "skip")
#: the values a QA command hands its scorers (each scorer takes those it declares it reads)
QA_SCORER_VALUES = ("sbert_model", "static_model", "dpr_model", "reader_model", "cross_model",
                    "device", "batch_size", "precision", "backend", "ig_steps", "ig_mode",
                    "ig_target", "ig_cascade", "ig_margin")
#: what ExtractJob has unasked, beyond None, of what a trained extractor decides: no cascade
UNASKED: dict[str, Any] = {"cascade_k": None}


@dataclass
class ExtractJob:
    """``extract``: the level ladder of a SQuAD input, written to an output folder."""

    levels: str = DEFAULT_LEVELS
    extractor: str | Path | TrainedExtractor | None = None
    profile: str | None = None
    scorers: str | None = None
    fast: bool = False
    weights: str | None = None
    fusion: str | None = None
    fusion_model: str | None = None
    cascade_k: int | None = None
    split: str = "eval"
    lost: str | None = None
    segmenter: str | None = None
    sbert_model: str | None = None
    static_model: str | None = None
    dpr_model: str | None = None
    reader_model: str | None = None
    cross_model: str | None = None
    device: str = "auto"
    batch_size: int | None = None
    precision: str | None = None
    backend: str | None = None
    ig_steps: int = IG_STEPS
    ig_mode: str | None = None
    ig_target: str | None = None
    ig_cascade: str | None = None
    ig_margin: float | None = None
    format: str = "squad"
    on_bad_answer: str = "error"
    hf_split: str | None = None
    limit: int | None = None
    engine: str = ENGINES[0]
    shard_size: int = DEFAULT_SHARD_SIZE
    ray_address: str | None = None
    ray_actors: int | None = None
    overwrite: bool = False
    scorer_option: list[str] | None = None
    quiet: bool = False

    @staticmethod
    def default_out(source: str) -> Path:
        """Where an extraction goes when no folder is named: ``./extract-<input name>``."""
        return Path(f"extract-{Path(source).stem or 'dataset'}")

    def check(self) -> None:
        """Option errors before any model is loaded or the input is opened."""
        from ..models.runtime import pick_device

        if self.on_bad_answer not in BAD_ANSWER_POLICIES:
            raise ConfigError(f"`on_bad_answer` {self.on_bad_answer!r}: choose error, repair or "
                              "skip")
        check_k(self.cascade_k)
        pick_device(self.device)  # a device that is not there fails now, whichever scorers use it
        if self.extractor is not None:
            check_beside_extractor(self.extractor, unasked=UNASKED, **decided_of(self))
        elif self.profile is not None and self.default() is None:
            raise ConfigError("`profile` names a profile of a trained extractor: give `extractor`")

    def default(self) -> str | None:
        """The shipped extractor, when no extractor and nothing it decides was given."""
        if self.extractor is not None:
            return None
        return default_extractor(unasked=UNASKED, **decided_of(self))

    def build(self) -> Extractor:
        """The extractor: a trained one (``extractor``), or the named scorers with their
        options."""
        self.check()
        extractor = self.extractor or self.default()
        if extractor is not None:
            profile = self.profile or (DEFAULT_PROFILE if self.extractor is None else None)
            return Extractor.from_pretrained(extractor, self.levels, device=self.device,
                                             split=self.split, lost=self.lost, quiet=self.quiet,
                                             profile=profile)
        names = chosen_scorers(self.scorers, self.fast)
        values = {k: getattr(self, k) for k in QA_SCORER_VALUES}
        return Extractor(
            names, self.levels, split=self.split, lost=self.lost,  # type: ignore[arg-type]
            weights=self.weights, segmenter=self.segmenter or defaults.SEGMENTER,
            scorer_options=merged(options_from(names, values),
                                  parse_scorer_options(self.scorer_option, names)),
            quiet=self.quiet, fusion=self.fusion or "weighted", fusion_model=self.fusion_model,
            cascade=self.cascade_k or None)

    def run(self, source: str, out: str | Path) -> RunSummary:
        """Extract ``source`` into ``out`` (resumable: see :mod:`.engine`)."""
        return extract_to_dir(
            self.build(), source, out, formats=tuple(names_of(self.format)),
            on_bad_answer=self.on_bad_answer, limit=self.limit,  # type: ignore[arg-type]
            overwrite=self.overwrite, hf_split=hf_split_for(self.hf_split, self.split == "train"),
            engine=self.engine, shard_size=self.shard_size, ray_address=self.ray_address,
            ray_actors=self.ray_actors)


@dataclass
class TextExtractJob(TextColumns):
    """``extract-texts``: the level ladder of a classification file, in the input's format."""

    levels: str = DEFAULT_TEXT_LEVELS
    scorers: str = ",".join(DEFAULT_TEXT_SCORERS)
    weights: str | None = None
    split: str = "eval"
    target: str | None = None
    unit: str = "sentence"
    classifier_model: str | None = None
    ig_steps: int = IG_STEPS
    ig_mode: str | None = None
    label_descriptions: str | None = None
    sbert_model: str | None = None
    segmenter: str = defaults.SEGMENTER
    limit: int | None = None
    shard_size: int = DEFAULT_TEXT_SHARD_SIZE
    device: str = "auto"
    precision: str = "auto"
    overwrite: bool = False
    scorer_option: list[str] | None = None
    quiet: bool = False

    def run(self, source: str, out: str | Path) -> RunSummary:
        """Read and check ``source``, build the scorers (the ``label`` scorer needs the classes,
        which may come from the file), and extract into ``out`` (resumable)."""
        names = names_of(self.scorers)
        check_out(out)
        check_limit(self.limit, "texts")
        data = read_input(source, self.split, self.columns,
                          hf_split_for(self.hf_split, self.split == "train"))
        described = descriptions(self.label_descriptions)
        values = {**asdict(self), "label_descriptions": described,
                  "_labels": label_set(data, self.classifier_model, described)
                  if "label" in names else None}
        extractor = TextExtractor(
            names, self.levels, split=self.split, weights=self.weights, unit=self.unit,
            segmenter=self.segmenter, quiet=self.quiet, stats_tokenizer=self.classifier_model,
            scorer_options=merged(options_from(names, values, "text"),
                                  parse_scorer_options(self.scorer_option, names)))
        return extract_texts_to_dir(extractor, source, out, limit=self.limit,
                                    overwrite=self.overwrite, shard_size=self.shard_size,
                                    dataset=data)


def label_set(data: TextDataset, classifier_model: str | None, described: Any) -> list[str] | None:
    """The classes the ``label`` scorer compares units with: the classifier's when one is given,
    else those the descriptions name, else the labels found in the file (an unlabelled
    evaluation file needs one of the first two)."""
    from ..models.classifier.folder import classifier_labels

    if classifier_model is not None:
        return classifier_labels(classifier_model) or None
    if described:
        return None  # the label scorer takes the described labels
    return data.labels or None


def descriptions(spec: str | None) -> Any:
    """A JSON file of label descriptions, or the ``LABEL=TEXT,…`` string itself."""
    if spec is None or not spec.endswith(".json"):
        return spec
    raw = read_json(Path(spec))
    if not isinstance(raw, dict):
        raise DataError(spec, "", "expected an object {label: description or [descriptions]}")
    return raw


@dataclass
class FitFusionJob:
    """``fit-fusion``: learned fusion weights (a logistic regression on sentence labels) fitted on
    a training file's scores, saved as a file or under a name."""

    scorers: str = DEFAULT_SCORERS
    reader_model: str | None = None
    dpr_model: str | None = None
    cross_model: str | None = None
    ig_steps: int = IG_STEPS
    ig_mode: str | None = None
    limit: int | None = None
    c: float = 1.0
    segmenter: str = defaults.SEGMENTER
    device: str = "auto"
    scorer_option: list[str] | None = None
    quiet: bool = False

    def run(self, train: str, out: str) -> tuple[Any, Path]:
        """Fit on ``train`` (never a ``dev*`` file) and save to ``out`` (a ``.json`` path, or a
        bare name under ``$IDS_EXTRACT_HOME/fusion/``); the fitted model and where it went."""
        from ..select.learned import fusion_home
        from ..squad.read import load
        from .fit_fusion import fit_on_dataset

        if Path(train).name.startswith("dev"):
            raise ConfigError(f"{train}: fit on a training file, never on dev")
        names = names_of(self.scorers)
        options = merged(options_from(names, asdict(self)),
                         parse_scorer_options(self.scorer_option, names))
        model = fit_on_dataset(load(train).limit(self.limit), names, options, self.segmenter,
                               C=self.c, source=train, quiet=self.quiet)
        target = Path(out) if out.endswith(".json") or "/" in out else fusion_home() / f"{out}.json"
        model.save(target)
        return model, target


@dataclass
class SentencesJob:
    """``sentences``: one row per (question, sentence unit) of a SQuAD file, balanced or not."""

    balance: str = "none"
    neg_ratio: float | None = None
    split: str = "train"
    segmenter: str = defaults.SEGMENTER
    seed: int = 0
    on_bad_answer: str = "error"
    limit: int | None = None
    quiet: bool = False

    def run(self, source: str, out: Path) -> tuple[list[dict[str, Any]], int]:
        """Write the rows to ``out`` (``.parquet`` or ``.jsonl``); the rows kept, and how many
        there were before balancing."""
        from ..squad.read import load
        from .sentences import FORMATS, balance_rows, sentence_rows, write_rows

        if self.split not in ("train", "eval"):
            raise ConfigError(f"`split` {self.split!r}: choose train or eval")
        if self.on_bad_answer not in BAD_ANSWER_POLICIES:
            raise ConfigError(f"`on_bad_answer` {self.on_bad_answer!r}: choose error, repair or "
                              "skip")
        if out.suffix.lower() not in FORMATS:
            raise ConfigError(f"{out}: output must end in .parquet or .jsonl")
        dataset = load(source, on_bad_answer=self.on_bad_answer).limit(self.limit)  # type: ignore[arg-type]
        rows = list(sentence_rows(dataset, split=self.split, segmenter=self.segmenter,
                                  quiet=self.quiet))
        kept = balance_rows(rows, self.balance, self.neg_ratio, self.seed)
        write_rows(kept, out)
        return kept, len(rows)
