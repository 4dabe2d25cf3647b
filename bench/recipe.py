"""Two recipe choices of the shipped extractor, made on training data only (never dev):

1. **segmenter**: blingfire against pysbd, bm25 alone, on the whole training file
   (``train-v1.1-subset44.json``, ``--split eval`` so every question is ranked): top-1 and the
   answer kept at ``tokens:128`` and ``tokens:64``, and the wall time of each job.
2. **static base**: the static vectors distilled from all-MiniLM-L6-v2 against distilled from
   the trained dual encoder's passage side, each then fine-tuned the same way (``train-static``'s
   trainer, 3 epochs) on the training part of a ``train-extractor`` folder, scored alone on its
   held-out articles.

    python bench/recipe.py [--trained models/squad-en] [--parts segmenter,static]
    python bench/recipe.py --smoke

Writes ``bench/results/recipe.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ids_extract.apps.benchkit import Bench, add_smoke

B = Bench.of(__file__)


def segmenter(train: Path, limit: list[str]) -> dict[str, Any]:
    """bm25 with each segmenter over every question of the training file."""
    out = {}
    for name in ("pysbd", "blingfire"):
        row = B.extract(f"segmenter-{name}", train, "--split", "eval", "--scorers", "bm25",
                        "--segmenter", name, "--levels", "tokens:128,tokens:64", *limit)
        manifest = (B.work / f"segmenter-{name}" / "manifest.json").read_text(encoding="utf-8")
        levels = json.loads(manifest)["levels"]
        row["answer_kept_pct"] = {lv["name"]: lv["stats"]["retention_pct"] for lv in levels}
        out[name] = row
    return out


def static_base(trained: Path, epochs: int, limit: list[str]) -> dict[str, Any]:
    """Static vectors from MiniLM and from the trained dual encoder, scored alone on the
    held-out articles."""
    from ids_extract.models.dpr.pair import save_passage_bert
    from ids_extract.models.static.train import StaticTrainConfig, train_static
    from ids_extract.squad.read import load

    train = load(trained / "data" / "train.json")
    bases = {"minilm": None,
             "dpr": str(save_passage_bert(trained / "dpr", B.work / "dpr-passage"))}
    out: dict[str, Any] = {}
    for name, base in bases.items():
        folder = B.work / f"static-{name}"
        summary = train_static(train, folder, StaticTrainConfig(
            base=base, epochs=epochs, seed=42, segmenter="blingfire"), overwrite=True, quiet=True)
        row = B.extract(f"static-{name}-heldout", trained / "data" / "heldout.json", "--split",
                        "eval", "--scorers", "static", "--scorer-option",
                        f"static.model={folder}", "--segmenter", "blingfire", "--levels",
                        "tokens:128", *limit)
        out[name] = {"train_seconds": summary["seconds"], "heldout": row["recall"]["static"]}
    return out


def main() -> None:
    global B
    ap = add_smoke(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    ap.add_argument("--trained", type=Path, default=None, help="[default: models/squad-en]")
    ap.add_argument("--parts", default="segmenter,static")
    args = ap.parse_args()
    B = Bench.of(__file__, args.smoke)
    found: dict[str, Any] = {}
    parts = args.parts.split(",")
    limit = ["--limit", "40"] if args.smoke else []
    if "segmenter" in parts:
        found["segmenter"] = segmenter(B.squad_slice(B.train, 40) if args.smoke else B.train,
                                       limit)
    if "static" in parts and not args.smoke:  # needs a trained dual encoder
        found["static_base"] = static_base(args.trained or B.root / "models" / "squad-en", 3,
                                           limit)
    print(f"wrote {B.write_result('recipe.json', found)}")


if __name__ == "__main__":
    main()
