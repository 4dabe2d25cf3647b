"""What ``evaluate`` runs: a reader scored by the official SQuAD v1.1 / v2.0 rules, or a
predictions file scored without a model (every default declared here once; the command line
reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..files import write_json
from ..models.qa.features import MODES
from ..squad import read as squad_read
from ..squad.model import Article, Paragraph, SquadDataset
from ..tabular import read_json


@dataclass
class EvaluateJob:
    """The settings of one evaluation; ``gold`` scores against another file's answers by id."""

    gold: str | None = None
    predictions: Path | None = None
    na_probs: Path | None = None
    all_gold: bool = False
    mode: str | None = None
    limit: int | None = None
    batch_size: int = 64
    device: str = "auto"
    precision: str = "auto"
    quiet: bool = False

    def run(self, data_file: str, model: Path | None, out: Path | None,
            say: Any = print) -> dict[str, Any]:
        """EM and F1 (``say`` gets what a user should know: the questions left out, the files
        written); ``predictions.json`` and ``metrics.json`` go to ``out`` (default
        ``MODEL/eval-<data>``)."""
        if self.mode not in (None, *MODES):
            raise ConfigError(f"`mode` {self.mode!r}: choose {' or '.join(MODES)}")
        reading = squad_read.load(data_file).limit(self.limit)
        gold = squad_read.load(self.gold) if self.gold else reading
        if self.gold and not self.all_gold:
            scored = only(gold, {qa.id for _, _, qa in reading.iter_qas()})
            if gold.num_questions > scored.num_questions:
                say(f"scoring the {scored.num_questions} questions of `data`; "
                    f"{gold.num_questions - scored.num_questions} more in `gold` are left out "
                    "(`all_gold` counts them as missed)")
            gold = scored
        if self.predictions is not None:
            preds = read_mapping(self.predictions, str)
            probs = read_mapping(self.na_probs, float) if self.na_probs else None
        elif model is None:
            raise ConfigError("give `model` (to read) or `predictions` (to score a file)")
        else:
            out = out or model / f"eval-{Path(data_file).stem}"
            preds, probs, written = self._read(reading, gold, model, out)
            say(f"wrote {written}")
        from ..squad.evaluate import evaluate

        metrics = evaluate(gold, preds, probs)
        if out is not None:
            write_json(metrics, Path(out) / "metrics.json")
        return metrics

    def _read(self, reading: SquadDataset, gold: SquadDataset, model: Path, out: Path
              ) -> tuple[dict[str, str], dict[str, float] | None, Any]:
        """The reader's answers (and no-answer probabilities for v2.0), written to ``out``."""
        from ..models.qa.decode import write_predictions
        from ..models.qa.features import examples_of
        from ..models.qa.reader import Reader

        reader = Reader.load(model, device=self.device, precision=self.precision, mode=self.mode)
        found = reader.predict(examples_of(reading), batch_size=self.batch_size, quiet=self.quiet)
        written = write_predictions(found, out, reader.config.version2 or gold.is_v2)
        probs = {p.id: p.na_prob for p in found} if "na_probs" in written else None
        return {p.id: p.text for p in found}, probs, written["predictions"]


def only(dataset: SquadDataset, ids: set[str]) -> SquadDataset:
    """The questions of ``dataset`` whose id is in ``ids`` (empty paragraphs and articles go)."""
    articles = []
    for article in dataset.articles:
        paragraphs = [Paragraph(p.context, [qa for qa in p.qas if qa.id in ids])
                      for p in article.paragraphs]
        paragraphs = [p for p in paragraphs if p.qas]
        if paragraphs:
            articles.append(Article(article.title, paragraphs))
    return SquadDataset(dataset.version, articles, source=dataset.source)


def read_mapping(path: Path, kind: type) -> dict[str, Any]:
    """A JSON object of question id -> ``kind`` (predictions, no-answer probabilities)."""
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise DataError(str(path), "", "expected an object of question id → value")
    for key, value in raw.items():
        if not isinstance(value, kind) and not (kind is float and isinstance(value, int)):
            raise DataError(str(path), f"id {key}", f"expected a {kind.__name__}, got {value!r}")
    return dict(raw)
