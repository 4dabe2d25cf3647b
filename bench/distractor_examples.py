"""Before and after: 30 random dev-v1.1 questions (dev is allowed for display, never for
training) with the distractor of the old generator (commit ``ba120cc``: entities from other
articles) and of the current one (both kinds), written to ``bench/results/DISTRACTORS.md``
(the docs site's Distractors page).

The old generator is not kept in ``src/``: its two modules are read from git (``git show``) into a
temporary package, so this needs the repository's history. Pools come from the whole dev file,
as ``bench/extractor.py``'s stress set does; the draw of questions is seeded.

    python bench/distractor_examples.py [--n 30] [--seed 20] [--out bench/results/DISTRACTORS.md] [--smoke]

``--smoke``: 2 questions, pools from the first 300 dev questions, the page in the smoke folder.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from ids_extract.apps.benchkit import Bench, add_smoke
from ids_extract.files import atomic_path
from ids_extract.squad.distractors import Distractor, DistractorMaker
from ids_extract.squad.model import QA
from ids_extract.squad.read import load

OLD_COMMIT = "ba120cc"
OLD_MODULES = ("declarative", "distractors")


def old_generator(root: Path, folder: Path) -> ModuleType:
    """The old ``distractors`` module, from git into ``folder`` as package ``old_distractors``
    (its ``.model`` import pointed at the installed one), imported from there by location."""
    package = folder / "old_distractors"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name in OLD_MODULES:
        text = subprocess.run(["git", "show", f"{OLD_COMMIT}:src/ids_extract/squad/{name}.py"],
                              cwd=root, check=True, capture_output=True, text=True).stdout
        text = text.replace("from .model import", "from ids_extract.squad.model import")
        (package / f"{name}.py").write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_distractors", package / "__init__.py",
                                                  submodule_search_locations=[str(package)])
    assert spec is not None and spec.loader is not None
    sys.modules["old_distractors"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules["old_distractors"])
    return importlib.import_module("old_distractors.distractors")


def cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def shown(made: Distractor | None) -> str:
    return "*(none)*" if made is None else cell(made.text)


def table(picks: list[tuple[str, str, QA]],
          makers: dict[str, Callable[[QA, str, str], Distractor | None]]) -> list[str]:
    """One markdown section per question: its gold answer and each generator's distractor."""
    lines = []
    for n, (title, context, qa) in enumerate(picks, 1):
        lines += [f"**{n}. {cell(qa.question)}** (gold: *{cell(qa.answers[0].text)}*; "
                  f"{title.replace('_', ' ')})", "", "| generator | distractor |", "|---|---|"]
        for name, make in makers.items():
            made = make(qa, context, title)
            form = f" ({made.form})" if made is not None and name != "before" else ""
            lines.append(f"| {name}{form} | {shown(made)} |")
        lines.append("")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--seed", type=int, default=20, help="seed of the draw of questions")
    ap.add_argument("--out", type=Path, default=None, help="[default: bench/results/DISTRACTORS.md]")
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    dev = load(bench.dev).limit(300 if bench.smoke else None)
    if bench.smoke:
        args.n, args.out = 2, bench.results / "DISTRACTORS.md"
    args.out = args.out or bench.results / "DISTRACTORS.md"
    items = [(a.title, p.context, qa) for a, p, qa in dev.iter_qas()]
    picks = random.Random(args.seed).sample(items, args.n)
    question, answer = DistractorMaker(dev, 0), DistractorMaker(dev, 0, "answer-sentence")
    with tempfile.TemporaryDirectory() as tmp:
        old = old_generator(bench.root, Path(tmp)).DistractorMaker(dev, 0)
        makers = {"before": old.make, "after: question": question.make,
                  "after: answer-sentence": answer.make}
        body = table(picks, makers)
    head = ["# Distractors: before and after", "",
            f"{args.n} random questions of dev-v1.1 (seed {args.seed}; dev is used here for display "
            "only, never for training), each with the distractor of the old generator (commit "
            f"`{OLD_COMMIT}`: the question restated with names, numbers and a noun from other "
            "articles) and of the current one, both kinds: `question` (the default, the stress "
            "set's: swaps and a fake answer from the question's own article, the question "
            "restated by rule, or an article sentence perturbed where the rules fail) and "
            "`answer-sentence` (the answer's sentence with its answer and one entity swapped). "
            "Pools: all of dev, as in `bench/extractor.py`'s stress set. See "
            "`src/ids_extract/squad/distractors.py` for the method.", "",
            "Regenerate: `python bench/distractor_examples.py`.", ""]
    with atomic_path(args.out) as tmp_out:
        tmp_out.write_text("\n".join(head + body), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
