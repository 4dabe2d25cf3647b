"""What ``split-texts`` and ``evaluate-classifier`` run, as configurations (every default declared
here once; the command line reads them), each into a folder of the one output-folder engine
(:func:`.folder.write_folder`): the same run again is done already, another input or other
settings in the folder are refused unless ``overwrite``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, check_limit
from ..files import check_out, fingerprint
from ..tabular import hf_split_for
from ..textcls.model import Columns, TextDataset
from .folder import MANIFEST, RunSummary, file_entry, package_versions, write_folder

SPLIT_FORMAT = "ids-extract-split/1"
PARTS = ("train", "dev")


@dataclass
class TextColumns:
    """Where a classification file keeps its text, label and id."""

    text_column: str = "text"
    label_column: str = "label"
    id_column: str | None = None
    hf_split: str | None = None

    @property
    def columns(self) -> Columns:
        return Columns(self.text_column, self.label_column, self.id_column)



@dataclass
class SplitJob(TextColumns):
    """``split-texts``: text ``i`` goes to dev when ``i % every == offset``; both parts keep the
    input's format and columns."""

    every: int = 5
    offset: int = 0
    overwrite: bool = False

    def run(self, source: str, out: Path) -> RunSummary:
        """Write ``train`` and ``dev`` into ``out`` (the entries say where, how many texts and
        which labels); a split of another input or other settings there is refused unless
        ``overwrite``, and so are parts a version without a manifest left."""
        from ..textcls.read import load
        from ..textcls.write import target_name, write_like

        if self.every < 2 or not 0 <= self.offset < self.every:
            raise ConfigError("`every` must be at least 2 and `offset` between 0 and every - 1")
        check_out(out)
        data = load(source, columns=self.columns, hf_split=hf_split_for(self.hf_split, True),
                    labels="optional")
        parts = dict(zip(PARTS, data.split_every(self.every, self.offset), strict=True))
        unlisted = [n for n in PARTS if (out / target_name(data, n)).exists()]
        if unlisted and not (out / MANIFEST).exists() and not self.overwrite:
            raise ConfigError(f"{out} holds {', '.join(unlisted)} of an unknown split; use "
                              "`overwrite` to replace them, or choose another `out`")
        manifest = {"format": SPLIT_FORMAT,
                    "input": {"path": data.source, "sha256": fingerprint(source),
                              "texts": len(data), "limit": None},
                    "config": {"every": self.every, "offset": self.offset,
                               "columns": asdict(data.columns)},
                    "packages": package_versions(), "outputs": []}

        def produce(todo: list[str]) -> dict[str, dict[str, Any]]:
            """Write the parts of ``todo`` in the input's format."""
            return {n: {"name": n, "texts": len(parts[n]), "labels": parts[n].label_counts(),
                        "files": {data.format: file_entry(write_like(
                            parts[n], parts[n].texts, out / target_name(parts[n], n)))}}
                    for n in todo}

        return write_folder(out, manifest, list(PARTS), produce, overwrite=self.overwrite,
                            key="outputs")


@dataclass
class ClassifierEvalJob(TextColumns):
    """``evaluate-classifier``: accuracy, macro-F1, the per-class table, the predictions and a
    confusion matrix, in a folder (``MODEL/eval-<data>`` unless named)."""

    mode: str | None = None
    limit: int | None = None
    batch_size: int = 32
    device: str = "auto"
    precision: str = "auto"
    overwrite: bool = False
    quiet: bool = False

    def folder(self, model: Path, data: str, out: Path | None) -> Path:
        """``out``, or ``MODEL/eval-<data name>`` (``-windows`` added for a windowed reading)."""
        return out or model / f"eval-{Path(data).stem}{'-windows' if self.mode == 'windows' else ''}"

    def run(self, model: Path, data: str, out: Path) -> tuple[dict[str, Any], RunSummary]:
        """Score the classifier on ``data`` into ``out`` (the same evaluation again is read
        back); option errors come before the model is loaded."""
        from ..models.classifier.features import MODES
        from ..models.classifier.folder import load_classifier
        from ..textcls.read import load
        from .classify_output import evaluate_to_dir

        if self.mode is not None and self.mode not in MODES:
            raise ConfigError(f"`mode` {self.mode!r}: choose from {', '.join(MODES)}")
        check_out(out)
        check_limit(self.limit, "texts")
        texts: TextDataset = load(data, columns=self.columns,
                                  hf_split=hf_split_for(self.hf_split, False)).limit(self.limit)
        clf = load_classifier(str(model), self.device, self.precision)
        return evaluate_to_dir(clf, texts, data, out, mode=self.mode, batch_size=self.batch_size,
                               limit=self.limit, overwrite=self.overwrite, quiet=self.quiet)
