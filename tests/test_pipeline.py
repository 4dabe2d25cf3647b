"""The pipeline end to end where the review found no test: SQuAD v2.0 in and out, scoring split
over chunks, every input format through the streaming engine, ``--weights``, option errors before
any work, the kept indices of a level, and models identified by content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from ids_extract import Extractor
from ids_extract.cli import app
from ids_extract.files import write_jsonl
from ids_extract.pipeline.engine import extract_to_dir
from ids_extract.pipeline.validate import validate_dir
from ids_extract.scorers.bm25 import BM25Scorer
from ids_extract.select.join import join as compress
from ids_extract.squad.read import load
from ids_extract.squad.write import to_rows, write_parquet

from .conftest import CONTEXT2, squad_dict

runner = CliRunner()


def sbert(model: Path) -> dict[str, Any]:
    return {"sbert": {"model": str(model), "device": "cpu", "precision": "fp32"}}


def v2_dict() -> dict[str, Any]:
    """The tiny file as SQuAD v2.0: one question about Paris has no answer, with a plausible one."""
    raw = squad_dict()
    raw["version"] = "v2.0"
    start = CONTEXT2.index("Seine")
    raw["data"][1]["paragraphs"][0]["qas"].append(
        {"id": "q7", "question": "What river flows through Rome?", "answers": [],
         "is_impossible": True, "plausible_answers": [{"text": "Seine", "answer_start": start}]})
    return raw


def test_squad_v2_through_extract_end_to_end(tmp_path: Path) -> None:
    source = tmp_path / "v2.json"
    source.write_text(json.dumps(v2_dict()))
    out = tmp_path / "out"
    res = runner.invoke(app, ["extract", str(source), "--out", str(out), "--scorers", "bm25",
                              "--levels", "top-k:1,ratio:1", "--quiet"])
    assert res.exit_code == 0, res.output
    raw = json.loads((out / "D2-ratio1.0.json").read_text())
    assert raw["version"] == "v2.0"
    qas = {qa["id"]: qa for a in raw["data"] for p in a["paragraphs"] for qa in p["qas"]}
    assert qas["q7"]["is_impossible"] is True and qas["q7"]["answers"] == []
    context = next(p["context"] for a in raw["data"] for p in a["paragraphs"]
                   if p["qas"][0]["id"] == "q7")
    plausible = qas["q7"]["plausible_answers"][0]
    assert context[plausible["answer_start"]:][:5] == "Seine"  # remapped like an answer
    assert all(qa["is_impossible"] is False and qa["answers"] for i, qa in qas.items() if i != "q7")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input"]["version"] == "v2.0"
    assert manifest["levels"][1]["stats"]["answerable"] == 6  # q7 is not counted as answerable
    assert all(c.ok for c in validate_dir(out))


def test_scoring_split_over_many_chunks_gives_the_same_scores(squad_file: Path,
                                                              tiny_sbert_dir: Path) -> None:
    dataset = load(squad_file)

    def scored(chunk_size: int) -> Any:
        ex = Extractor(["bm25", "sbert"], "top-k:1", scorer_options=sbert(tiny_sbert_dir),
                       chunk_size=chunk_size, quiet=True)
        units = ex.to_units(dataset)
        assert len(list(units.batches(chunk_size))) == (1 if chunk_size > 100 else 2)
        return ex.score(units)

    whole, split = scored(4096), scored(1)
    for name in ("bm25", "sbert"):
        for a, b in zip(whole.per_scorer[name], split.per_scorer[name], strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(whole.fused, split.fused, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_every_input_format_streams_to_the_same_bytes(squad_file: Path, tmp_path: Path) -> None:
    dataset = load(squad_file)
    rows = to_rows(dataset)
    write_jsonl(rows, tmp_path / "in.jsonl")
    write_parquet(dataset, tmp_path / "in.parquet")
    import datasets

    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "in-hf"))
    sources = {"json": squad_file, "jsonl": tmp_path / "in.jsonl",
               "parquet": tmp_path / "in.parquet", "hf": tmp_path / "in-hf"}
    outputs = {}
    for name, source in sources.items():
        ex = Extractor(["bm25"], "top-k:1,ratio:0.5", quiet=True)
        extract_to_dir(ex, str(source), tmp_path / f"out-{name}", shard_size=1,
                       hf_split="train")
        outputs[name] = [(tmp_path / f"out-{name}" / f).read_bytes()
                         for f in ("D1-top-k1.json", "D2-ratio0.5.json")]
    assert len(outputs["json"][0]) > 100
    assert outputs["jsonl"] == outputs["parquet"] == outputs["hf"] == outputs["json"]


def test_weights_end_to_end(squad_file: Path, tmp_path: Path, tiny_sbert_dir: Path) -> None:
    """``--weights bm25=1,sbert=1e-9`` ranks by bm25 alone: the kept sentence is bm25's best
    wherever bm25 has a single best one."""
    out = tmp_path / "w"
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(out), "--levels", "top-k:1",
                              "--sbert-model", str(tiny_sbert_dir), "--device", "cpu",
                              "--precision", "fp32", "--weights", "bm25=1,sbert=1e-9", "--quiet"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["fusion"] == {"method": "weighted",
                                            "weights": {"bm25": 1.0, "sbert": 1e-9}}
    ex = Extractor([BM25Scorer()], "top-k:1", quiet=True)
    units = ex.to_units(load(squad_file))
    scores = ex.score(units).per_scorer["bm25"]
    kept = {qa.id: p.context for _, p, qa in load(out / "D1-top-k1.json").iter_qas()}
    checked = 0
    for q, qa in enumerate(units.qas):
        s = scores[q]
        if (s == s.max()).sum() == 1:
            best = units.unit_texts(units.owner[q])[int(np.argmax(s))]
            assert kept[qa.id] == best, qa.id
            checked += 1
    assert checked >= 4
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(tmp_path / "x"),
                              "--scorers", "bm25", "--weights", "sbert=1"])
    assert res.exit_code == 2 and "unknown scorer 'sbert'" in res.output


def test_unknown_segmenter_fails_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "never"
    # the input does not even exist: the option is checked first, so that is not what is said
    res = runner.invoke(app, ["extract", str(tmp_path / "missing.json"), "--out", str(out),
                              "--scorers", "bm25", "--segmenter", "foo"])
    assert res.exit_code == 2
    assert "foo" in res.output and "segmenter" in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_a_level_reports_the_kept_sentences_of_every_question(squad_file: Path) -> None:
    dataset = load(squad_file)
    ex = Extractor(["bm25"], "top-k:2,tokens:24", quiet=True)
    units = ex.to_units(dataset)
    result = ex.select_all(dataset, units, ex.score(units))
    for level in result.levels:
        contexts = [p.context for p in level.dataset.paragraphs()]
        assert len(level.kept) == len(units) == len(contexts)
        for q, kept in enumerate(level.kept):
            doc = units.owner[q]
            assert kept == sorted(set(kept)) and kept
            spans = level.spans(units, q)  # a unit cut to the budget is narrowed
            assert compress(units.texts[doc], spans, kept).context == contexts[q]
    assert all(len(k) == 2 for k in result.levels[0].kept if len(k) > 1)


def _perturb(sbert_dir: Path) -> None:
    """New weights in the same folder (same name, same config): what a retrained model is."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(sbert_dir), device="cpu")
    import torch

    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    model.save(str(sbert_dir))


def test_new_weights_in_a_folder_of_the_same_name_are_scored_again(
        squad_file: Path, tmp_path: Path, tiny_sbert_dir: Path) -> None:
    model = tmp_path / "my-sbert"
    shutil.copytree(tiny_sbert_dir, model)
    out = tmp_path / "out"
    args = ["extract", str(squad_file), "--out", str(out), "--levels", "top-k:1",
            "--sbert-model", str(model), "--device", "cpu", "--precision", "fp32", "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    first = json.loads((out / "manifest.json").read_text())["config"]["scorers"][1]["model"]
    old_cache, old_scores = _sbert_cache(out)
    _perturb(model)
    res = runner.invoke(app, args)  # not silently "already written" with the old scores
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    second = json.loads((out / "manifest.json").read_text())["config"]["scorers"][1]["model"]
    assert first["name"] == second["name"] and first["name"].endswith("my-sbert")
    assert first["sha256"] != second["sha256"]
    new_cache, new_scores = _sbert_cache(out)
    assert new_cache != old_cache and not old_cache.exists()  # scored again, under a new key
    assert not np.allclose(old_scores, new_scores)


def _sbert_cache(out: Path) -> tuple[Path, np.ndarray]:
    (cache,) = sorted((out / ".cache").glob("shards-*"))
    with np.load(next(cache.glob("shard-*.npz"))) as z:
        return cache, z["scorer:sbert"]


@pytest.mark.parametrize(("args", "message"), [
    (["--scorers", "bm25,sbert", "--weights", "bm25=nan"], "must be positive numbers"),
    (["--scorers", "bm25,sbert", "--weights", "1,0"], "weight of 'sbert' is 0.0"),
    (["--scorers", "bm25,sbert", "--weights", "bm25=-1"], "must be positive numbers"),
    (["--scorers", "bm25,bm25"], "bm25 given twice"),
    (["--scorers", "bm25", "--device", "cuda:7"], "device 'cuda:7'"),
    (["--scorers", "bm25", "--limit", "-1"], "--limit"),
    (["--scorers", "bm25", "--levels", "tokens:64@no-such-tokenizer-here"],
     "no-such-tokenizer-here: not a local folder"),
])
def test_option_mistakes_are_one_line_before_any_work(squad_file: Path, tmp_path: Path,
                                                      args: list[str], message: str) -> None:
    out = tmp_path / "never"
    res = runner.invoke(app, ["extract", str(squad_file), "--out", str(out), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()


class _Broken(BM25Scorer):
    """A custom scorer with a bug: ``mode`` says which."""

    name = "broken"

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def score(self, batch: Any) -> list[np.ndarray]:
        good = super().score(batch)
        if self.mode == "count":
            return good[:-1]
        if self.mode == "shape":
            return [g[:-1] for g in good]
        return [np.full_like(g, np.nan) for g in good]


@pytest.mark.parametrize(("mode", "message"), [
    ("count", "returned 5 score arrays for a batch of 6 items"),
    ("shape", "returned scores of shape"),
    ("nan", "returned NaN or infinite scores"),
])
def test_a_custom_scorers_bad_output_is_named(squad_file: Path, mode: str, message: str) -> None:
    from ids_extract.errors import ScorerError

    with pytest.raises(ScorerError, match=f"scorer 'broken' {message}"):
        Extractor([_Broken(mode)], "top-k:1", quiet=True).run(load(squad_file))


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_writes(
        squad_file: Path, tmp_path: Path) -> None:
    from ids_extract.errors import ConfigError
    from ids_extract.files import folder_lock

    out = tmp_path / "busy"
    with folder_lock(out), pytest.raises(ConfigError, match="being written by another"):
        # the lock is what a first run holds while it writes
        extract_to_dir(Extractor(["bm25"], "top-k:1", quiet=True), str(squad_file), out)
    assert not out.exists()  # the folder the lock made is gone again: nothing was written
    # a lock file left by a run that died (kill -9) holds no lock: the next run goes on
    out.mkdir()
    (out / ".lock").write_text("pid 999999")
    extract_to_dir(Extractor(["bm25"], "top-k:1", quiet=True), str(squad_file), out)
    assert (out / "D1-top-k1.json").exists()
