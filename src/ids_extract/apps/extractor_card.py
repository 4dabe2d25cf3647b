"""The model card ``README.md`` of a trained extractor folder: what it is, how to use it, what it
was trained on (with the file's sha256), its held-out figures per signal and fused (clean and with
distractors), the time and peak memory of every stage, and the package versions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..files import atomic_path
from ..models.runtime import cpu_flags
from ..pipeline.folder import package_versions
from ..pipeline.profiles import Targets
from .stages import read_state

COLUMNS = (("top1", "top-1"), ("top2", "top-2"), ("top3", "top-3"),
           ("stress_top1", "top-1 with distractor"), ("top1_loss", "loss (points)"),
           ("distractor_first", "distractor ranked first %"))


def write_card(out: Path, config: Any) -> Path:
    """Write ``out/README.md`` from the run's records (``stages.json``, the held-out report)."""
    state = read_state(out)
    report = json.loads((out / "heldout" / "report.json").read_text(encoding="utf-8"))
    split = state["split"].result if "split" in state else {}
    lines = [
        "# ids-extract trained extractor", "",
        "Ranks the sentences of a context by how likely they hold the answer to a question, "
        f"fusing the signals {', '.join(k for k in report['signals'] if k not in _fused(report))} "
        "with a learned fusion (logistic regression fitted on held-out training articles). "
        "Trained by `ids-extract train-extractor`.", "",
        "## Use it", "", "```bash",
        *usage(out, config.signals, list(state["profiles"].result) if "profiles" in state else []),
        "```", "", "```python", "from ids_extract import Extractor",
        f'ex = Extractor.from_pretrained("{out}", "tokens:128")', "```", "",
        "## Training data", "",
        f"- file: `{Path(split.get('train_file', config.train_file)).name}`, sha256 "
        f"`{split.get('train_sha256', '?')}`",
        f"- trained on {split.get('train_questions', '?')} questions of "
        f"{split.get('train_articles', '?')} articles; held out "
        f"{split.get('heldout_questions', '?')} questions of the last articles "
        f"({', '.join(split.get('heldout_articles', []))}), never trained on",
        f"- hard negatives: a distractor sentence inserted for {config.distractor_rate:.0%} of "
        "the training questions", "",
        "## Held-out figures", "",
        f"{report['heldout_questions']} held-out questions; the stress set gives "
        f"{report['with_distractor']} of them ({report['distractor_coverage_pct']} %) a "
        "distractor sentence (the question restated with other entities, numbers and key nouns, "
        "and a fake answer). Fused rows are out-of-fold (fusion fitted on the other articles, "
        f"{report['folds']} folds).", "",
        *_table(report["signals"]), "",
        "Learned z-score weights: " + ", ".join(f"{k} {v:+.3f}" for k, v in
                                                 report["weights"].items()), "",
        *_ablation(report.get("ablation", {})),
        *_objectives(report.get("objectives", {}), report.get("objective", "")),
        *_profiles(state["profiles"].result if "profiles" in state else {}),
        "## Training cost", "", "| stage | wall s | peak RSS MiB | peak GPU MiB |", "|---|---|---|---|",
        *[f"| {name} | {rec.wall_s:.0f} | {rec.peak_rss_mib:.0f} | "
          f"{'' if rec.peak_gpu_mib is None else f'{rec.peak_gpu_mib:.0f}'} |"
          for name, rec in state.items()],
        f"| all | {sum(r.wall_s for r in state.values()):.0f} | "
        f"{max((r.peak_rss_mib for r in state.values()), default=0):.0f} | |", "",
        "## Settings and packages", "", "```json",
        json.dumps({"config": {**asdict(config), "signals": list(config.signals)},
                    "packages": package_versions(),
                    "bf16_cpu": bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})}, indent=1),
        "```", ""]
    with atomic_path(out / "README.md") as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return out / "README.md"


def usage(out: Path, signals: Sequence[str], profiles: Sequence[str]) -> list[str]:
    """The commands the card suggests: only what this folder can do (``answer`` and ``explain``
    need its reader), one line per profile it has, in today's spelling (``tests/
    test_issue35.py`` parses every one)."""
    q, ctx = "--question 'Who led the Norse raiders?'", "--context-file ctx.txt"
    lines = [f"ids-extract extract dev.json --extractor {out} --out runs/dev",
             *[f"ids-extract extract dev.json --extractor {out} --profile {name} "
               f"--out runs/dev-{name}" for name in profiles],
             f"ids-extract compress questions.jsonl --extractor {out} --budget tokens:256"]
    if "reader" in signals:
        lines += [f"ids-extract answer --extractor {out} {q} {ctx}",
                  f"ids-extract explain --extractor {out} {q} {ctx} --out explain.html"]
    else:
        lines.append("# answer and explain read with the extractor's reader: this one was "
                     "trained without (add reader to its stages)")
    return lines


def _fused(report: dict[str, Any]) -> set[str]:
    return {k for k in report["signals"] if k.startswith("fused")}


def _table(rows: dict[str, dict[str, float]]) -> list[str]:
    head = "| signal | " + " | ".join(label for _, label in COLUMNS) + " |"
    rule = "|---" * (len(COLUMNS) + 1) + "|"
    return [head, rule, *[f"| {name} | " + " | ".join(f"{row[k]:.2f}" for k, _ in COLUMNS) + " |"
                          for name, row in rows.items()]]


def _ablation(rows: dict[str, dict[str, float]]) -> list[str]:
    if not rows:
        return []
    return ["Leave one signal out (learned fusion, out-of-fold):", "", *_table(rows), ""]


def _objectives(rows: dict[str, dict[str, float]], chosen: str) -> list[str]:
    if not rows:
        return []
    return [f"Fusion objectives (all signals, out-of-fold; this extractor's: {chosen}):", "",
            *_table(rows), ""]


def _profiles(chosen: dict[str, Any]) -> list[str]:
    """The named profiles (``profile=NAME``), chosen on the held-out articles."""
    if not chosen:
        return []
    rows = {f"{name}: {', '.join(p['signals'])}": p["heldout"] for name, p in chosen.items()}
    cost = "; ".join(f"{name} {1000 * p['seconds_per_question']:.2f} ms" for name, p in
                     chosen.items())
    missed = [f"- **`{name}` missed its targets** on the held-out articles: "
              + missed_targets(name) for name, p in chosen.items() if not p.get("targets_met", True)]
    return ["## Profiles", "", "Chosen on the held-out articles (out-of-fold), never on dev; "
            f"estimated scoring time per question: {cost}.", "", *_table(rows), "", *missed,
            *([""] if missed else [])]


def missed_targets(name: str) -> str:
    """What a profile that missed its targets was chosen as instead (the card, the log)."""
    t = Targets()
    rule = (f"no subset within {t.fast_cost:g}x the defaults' scoring cost put the distractor "
            f"first for at most {t.distractor_first:g} % of stressed questions"
            if name == "fast" else
            f"no subset put the distractor first for at most {t.distractor_first:g} % with a "
            f"stress loss of at most {t.stress_loss:g} points")
    return f"{rule}; it is the most accurate option there instead (never the untrained signals)."
