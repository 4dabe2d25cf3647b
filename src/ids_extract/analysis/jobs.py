"""What ``explain`` and ``sanity-check`` run, as configurations (every default declared here once;
the command line reads them): both attribute with the IG scorer of the model they are given, a
QA reader or a text classifier, whose precision ``auto`` is decided by
:func:`ids_extract.models.runtime.ig_precision` (the one place that decides it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import defaults
from ..errors import ConfigError
from ..files import check_out
from ..scorers.options import IG_STEPS, names_of
from ..tabular import text_given
from .sanity import SCHEDULES

if TYPE_CHECKING:
    from ..pipeline.trained import TrainedExtractor
    from .explain import Explanation
    from .sanity import SanityResult

#: where ``explain`` writes its page, and ``sanity-check`` its results, unless told
EXPLAIN_PAGE = Path("explain.html")
SANITY_FOLDER = Path("sanity")


def is_classifier(model: str | Path) -> bool:
    """Whether ``model`` is a text classifier folder (else a QA reader)."""
    from ..models.classifier.folder import is_classifier_folder

    return is_classifier_folder(Path(model))


def ig_scorer(model: str | Path, steps: int, target: str | None, device: str,
              mode: str | None = None, precision: str = "auto", **extra: Any) -> Any:
    """The IG scorer of a QA reader, or of a classifier (which explains its predicted class and
    takes no ``target``); ``mode`` None is the scorer's own."""
    from ..scorers import build_scorer

    given = {"mode": mode} if mode is not None else {}
    if is_classifier(model):
        if target is not None:
            raise ConfigError(f"`ig_target` {target}: a classifier explains its predicted class; "
                              "`ig_target` is for a QA reader")
        return build_scorer("ig", task="text", model=str(model), n_steps=steps, device=device,
                            target="predicted", precision=precision, **given, **extra)
    return build_scorer("ig", model=str(model), n_steps=steps, device=device,
                        precision=precision, **({"target": target} if target else {}), **given)


@dataclass
class IgJob:
    """What both commands attribute with."""

    ig_steps: int = IG_STEPS
    ig_target: str | None = None
    unit: str = "sentence"
    device: str = "auto"
    precision: str = "auto"
    quiet: bool = False


@dataclass
class ExplainJob(IgJob):
    """``explain``: one question's (or one text's) attributions as an HTML page and a chart."""

    ig_mode: str | None = None
    segmenter: str | None = None

    def run(self, model: str | Path | None, extractor: str | Path | TrainedExtractor | None,
            question: str | None,
            context: str | None, context_file: Path | None, out: Path
            ) -> tuple[Explanation, Path, Path]:
        """Check, attribute and write the page; a trained extractor's reader and segmenter may
        stand for ``model``."""
        from .explain import explain, write_explanation
        from .explain_text import explain_text

        check_out(out, folder=False)
        if (model is None) == (extractor is None):
            raise ConfigError("give exactly one of `model` and `extractor`")
        segmenter = self.segmenter
        if extractor is not None:
            from ..pipeline.trained import TrainedExtractor

            trained = TrainedExtractor.of(extractor)
            trained.check()  # its reader among its models
            model, segmenter = trained.reader_path(), segmenter or trained.spec.segmenter
        assert model is not None
        text = text_given(context, context_file)
        classifier = is_classifier(model)
        if classifier == bool(question):
            raise ConfigError("a QA reader needs `question`; a classifier takes none")
        scorer = ig_scorer(model, self.ig_steps, self.ig_target, self.device, self.ig_mode,
                           self.precision)
        split = segmenter or defaults.SEGMENTER
        exp = (explain_text(scorer, text, self.unit, split) if classifier
               else explain(scorer, str(question), text, split))
        return (exp, *write_explanation(exp, out))


@dataclass
class SanityJob(IgJob):
    """``sanity-check``: randomise the model (cascading and independent) and measure how the IG
    rankings of a sample change."""

    sample: int = 50
    schedules: str = ",".join(SCHEDULES)
    threshold: float = 0.5
    seed: int = 0
    text_column: str = "text"

    def run(self, model: str | Path, data: str, out: Path) -> tuple[SanityResult, Path, Path]:
        """Sample the items of ``data``, run the check, write ``sanity.json`` and the chart. A
        classifier is read in windows that do not overlap (each token attributed once)."""
        from ..squad.read import load
        from ..textcls import Columns
        from ..textcls import load as load_texts
        from .sanity import run_sanity, sample_batch, sample_text_batch, write_result

        chosen = names_of(self.schedules)
        if [s for s in chosen if s not in SCHEDULES] or not chosen:
            raise ConfigError(f"`schedules` {self.schedules!r}: choose from {', '.join(SCHEDULES)}")
        if self.sample < 1:
            raise ConfigError("`sample` must be >= 1")
        check_out(out)
        classifier = is_classifier(model)
        extra: dict[str, Any] = {"overlap": 0} if classifier else {}
        scorer = ig_scorer(model, self.ig_steps, self.ig_target, self.device,
                           precision=self.precision, **extra)
        batch = (sample_text_batch(load_texts(data, columns=Columns(text=self.text_column),
                                              labels="optional"), self.sample, self.unit)
                 if classifier else sample_batch(load(data), self.sample))
        result = run_sanity(scorer, batch, chosen, self.threshold, self.seed, self.quiet)
        return (result, *write_result(result, out))
