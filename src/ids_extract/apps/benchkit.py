"""What the benchmark scripts share, so that each ``bench/*.py`` is a thin configuration: where
they read and write (:class:`Bench`), a command timed in a process of its own (:func:`timed`),
where a figure was measured (:func:`machine`), a result written with the command that made it
(:meth:`Bench.write_result`), one cold ``ids-extract extract`` as a row (:meth:`Bench.extract`),
a child process's JSON answer (:meth:`Bench.child`), scores cached per scorer with their cost
(:func:`scores_for`) and top-k recall rows of scorers and fusions (:func:`recall`).

Every script has a smoke mode: tiny inputs (a few questions or texts, the cheapest scorers,
a step or two of training) and every file it writes in a temporary folder
(``$IDS_BENCH_SMOKE_DIR``, else a fresh one), never in ``bench/results/``; the children a script
would start for their own peak memory run in its process. ``tests/test_bench_smoke.py`` runs
them all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_path
from ..models.runtime import speed_flags
from ..pipeline.scoring import Scored
from ..pipeline.selector import Selector
from ..scorers.base import Scorer
from ..select.fusion import weighted
from ..select.stats import RankingStats
from ..select.units import Units
from ..squad.units import SquadUnits, answer_units

SMOKE_DIR = "IDS_BENCH_SMOKE_DIR"


def add_smoke(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The smoke flag every bench script has."""
    parser.add_argument("--smoke", action="store_true", help="tiny inputs, seconds; every file "
                        f"in ${SMOKE_DIR} or a temporary folder, never in bench/results")
    return parser


@dataclass
class Bench:
    """Where one bench script reads and writes. ``root`` is the repository (the script's
    folder's parent), the data are in ``../shared`` beside it; results go to
    ``bench/results`` and work files to ``bench/work/<name>``, both in a temporary folder under
    ``smoke``."""

    root: Path
    name: str
    smoke: bool
    results: Path
    work: Path

    @classmethod
    def of(cls, script: str | Path, smoke: bool = False) -> Bench:
        """The bench of ``script`` (its ``__file__``)."""
        root = Path(script).resolve().parents[1]
        name = Path(script).stem
        if not smoke:
            return cls(root, name, False, root / "bench" / "results", root / "bench" / "work" / name)
        base = Path(os.environ.get(SMOKE_DIR) or tempfile.mkdtemp(prefix="ids-bench-smoke-"))
        return cls(root, name, True, base / "results", base / "work" / name)

    @property
    def shared(self) -> Path:
        return self.root.parent / "shared"

    @property
    def dev(self) -> Path:
        return self.shared / "data" / "squad" / "dev-v1.1.json"

    @property
    def train(self) -> Path:
        return self.shared / "data" / "squad" / "train-v1.1-subset44.json"

    @property
    def reference(self) -> Path:
        """The reference pipeline the QA figures are compared with."""
        return self.shared / "bench" / "reference_pipeline.py"

    @property
    def cli(self) -> str:
        return str(Path(sys.executable).with_name("ids-extract"))

    def shown(self, path: Path) -> str:
        """A path as a result shows it: relative to the repository when inside it."""
        path = path.resolve()
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    def write_result(self, name: str, payload: dict[str, Any]) -> Path:
        """``results/<name>``: the command that made it (this script and its arguments), the
        machine, then ``payload``."""
        command = " ".join(["python", self.shown(Path(sys.argv[0])), *sys.argv[1:]])
        path = self.results / name
        with atomic_path(path) as tmp:  # indented: results are read in reviews and diffs
            tmp.write_text(json.dumps({"command": command, "machine": machine(), **payload},
                                      indent=1) + "\n", encoding="utf-8")
        return path

    def extract(self, name: str, source: Path, *args: str) -> dict[str, Any]:
        """One cold run of ``ids-extract extract`` into ``work/<name>`` (no cache), timed as a
        whole process: seconds, questions/s, peak RSS and the manifest's top-k recall."""
        out = self.work / name
        shutil.rmtree(out, ignore_errors=True)
        seconds, _, rss = timed([self.cli, "extract", str(source), "--out", str(out), "--quiet",
                                 *args])
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        questions, recall = manifest["input"]["questions"], manifest["ranking"]["top_k_recall_pct"]
        row = {"seconds": round(seconds, 2), "questions": questions,
               "questions_per_s": round(questions / seconds, 2), "peak_rss_mib": rss,
               "top1": {k: v["top1"] for k, v in recall.items()}, "recall": recall}
        print(f"{name:<28}{seconds:>8.1f} s{row['questions_per_s']:>9.1f} q/s{rss:>7} MiB  "
              f"top1 {row['top1']}", flush=True)
        return row

    def child(self, cmd: Sequence[str], here: Callable[[], Any]) -> Any:
        """The JSON a child process prints last (``cmd``: it runs apart so that its peak memory
        is its own); under ``smoke``, ``here()`` in this process instead (no second start-up)."""
        if self.smoke:
            return json.loads(json.dumps(here()))
        return child_json(cmd)

    def tiny_models(self) -> dict[str, Path]:
        """Models of a smoke run, built once in the work folder from configs (seconds): a
        WordPiece tokenizer trained on the first dev paragraphs, a 2-layer 32-wide BERT
        (``encoder``), it as a sentence-transformers folder (``sbert``) and with a QA head
        (``qa``)."""
        from transformers import BertForQuestionAnswering, BertModel

        from ..squad.read import load

        folder = self.work / "tiny-models"
        found = {k: folder / k for k in ("tokenizer", "encoder", "sbert", "qa")}
        if all(p.is_dir() for p in found.values()):
            return found
        dev = load(self.dev).limit(200)
        texts = [p.context for a in dev.articles for p in a.paragraphs]
        texts += [qa.question for _, _, qa in dev.iter_qas()]
        tiny_tokenizer(texts, found["tokenizer"])
        tiny_bert(BertModel, found["tokenizer"], found["encoder"])
        tiny_sbert(found["encoder"], found["sbert"])
        tiny_bert(BertForQuestionAnswering, found["tokenizer"], found["qa"])
        return found

    def tiny_extractor(self) -> Path:
        """A ``train-extractor`` folder of a smoke run, made without training (seconds): bm25
        and a tiny reader behind a cascade, weighted fusion, and held-out questions (a slice of
        the training file, which is then its whole training file) where train-extractor keeps
        them."""
        from ..pipeline.pretrained import FILE, ExtractorSpec, ScorerSpec, save_spec
        from ..squad.read import load
        from ..squad.write import write_squad

        folder = self.work / "tiny-extractor"
        if (folder / FILE).is_file():
            return folder
        shutil.copytree(self.tiny_models()["qa"], folder / "reader", dirs_exist_ok=True)
        train = self.squad_slice(self.train, 12, articles=6)  # folds are of whole articles
        write_squad(load(train).limit(48), folder / "data" / "heldout.json")
        save_spec(ExtractorSpec([ScorerSpec("bm25"), ScorerSpec("reader", "reader",
                                                                {"device": "cpu"})],
                                models={"reader": {"path": "reader"}}, reader="reader",
                                cascade={"k": 2, "expensive": ["reader"]},
                                info={"config": {"seed": 0, "train_file": str(train)}}), folder)
        return folder

    def squad_slice(self, source: Path, questions: int, articles: int | None = None) -> Path:
        """The first ``questions`` questions of a SQuAD file (with ``articles``: of each of its
        first ``articles`` articles), written to the work folder."""
        from ..squad.model import SquadDataset
        from ..squad.read import load
        from ..squad.write import write_squad

        path = self.work / f"{source.stem}-first{questions}{f'x{articles}' if articles else ''}.json"
        if not path.exists():
            data = load(source)
            if articles is not None:
                data = SquadDataset(data.version, [
                    SquadDataset(data.version, [a]).limit(questions).articles[0]
                    for a in data.articles[:articles]])
            write_squad(data.limit(None if articles else questions), path)
        return path


def timed(cmd: Sequence[str], **kwargs: Any) -> tuple[float, str, int]:
    """Wall seconds, stdout and peak RSS (MiB) of that one command; a RuntimeError with its
    stderr when it fails. Bytecode caching is left on (as on a user's machine), so a warm-up
    run of each program makes later runs skip compiling the libraries' sources."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, text=True, env=env, **kwargs)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return seconds, stdout, usage.ru_maxrss // 1024


def child_json(cmd: Sequence[str]) -> Any:
    """Run ``cmd`` (a child that prints its answer as JSON on its last line) and read it."""
    done = subprocess.run(list(cmd), check=True, stdout=subprocess.PIPE, text=True)  # stderr: shown
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    """Where a figure was measured: cores, platform, and the CPU flags that decide speed."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": sys.version.split()[0], "processor": platform.processor(),
            "cpu_flags": speed_flags()}


def scores_for(units: Units, scorer: Scorer, folder: Path) -> tuple[list[np.ndarray], float]:
    """One scorer over every item, cached in ``folder`` by its config (every option that can
    change a score, models by content) and the units; the seconds the scoring took (0 for a
    cache written before they were recorded)."""
    scored = Selector.build([scorer]).score(units, cache=folder)
    return scored.per_scorer[scorer.name], scored.seconds[scorer.name] or 0.0


def recall(units: SquadUnits, per_scorer: dict[str, list[np.ndarray]], combo: Sequence[str],
           weights: dict[str, float] | None = None) -> dict[str, float]:
    """Top-k recall of one scorer, or of the z-score fusion of several (equal weights unless
    given), ranked as the driver ranks (:meth:`Scored.rankings`: ties broken by the scorers'
    own z-scores in the order given, then by position)."""
    chosen = {n: per_scorer[n] for n in combo}
    given = weights or dict.fromkeys(combo, 1.0)  # a weight may be 0 here (a grid search)
    fused = [weighted({n: v[q] for n, v in chosen.items()}, given) for q in range(len(units))]
    orders = Scored(chosen, fused).rankings(combo)
    return RankingStats.of_rankings(answer_units(units), {"x": orders}).recall_pct["x"]


def tiny_tokenizer(texts: Sequence[str], out: Path, vocab_size: int = 400) -> Path:
    """A lower-casing WordPiece tokenizer trained on ``texts``, saved as a fast BERT tokenizer."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizerFast  # type: ignore[attr-defined]

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(list(texts) * 5, trainer)
    fast = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                             cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    fast.save_pretrained(out)
    return out


def tiny_bert(model_class: Any, tokenizer_dir: Path, out: Path) -> Path:
    """A 2-layer, 32-wide BERT of ``model_class`` (random but seeded weights) and the tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    model_class(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def tiny_sbert(encoder_dir: Path, out: Path) -> Path:
    """A BERT folder with mean pooling, saved as a sentence-transformers folder."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    word = Transformer(str(encoder_dir), max_seq_length=128)
    pooling = Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(out))
    return out
