"""``train-extractor`` end to end on tiny models: the stages, a killed run that resumes at the
first unfinished stage, ``extractor.json`` with content hashes (a changed model is refused),
``Extractor.from_pretrained`` and ``--extractor`` in extract, answer and explain."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ids_extract import Extractor, load
from ids_extract.apps.extractor_config import ExtractorTrainConfig
from ids_extract.apps.stages import read_state
from ids_extract.apps.train_extractor import Pipeline
from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.pipeline.pretrained import load_spec

from .conftest import CONTEXT, people_dataset

STAGES = ["split", "static", "dpr", "reader", "cross", "cross-small", "score", "fuse", "profiles",
          "card"]
SIGNALS = ["bm25", "sbert", "static", "dpr", "reader", "cross", "cross-small"]


def options(tiny_encoder_dir: Path, tiny_sbert_dir: Path) -> list[str]:
    """CLI options of a tiny run: one held-out article, tiny models, a few steps each."""
    return ["--heldout", "6", "--init", str(tiny_encoder_dir), "--sbert-model",
            str(tiny_sbert_dir), "--set", "reader_max_seq_length=64", "--device", "cpu",
            "--precision", "fp32", "--stages", ",".join(SIGNALS), "--quiet"]


def config(train: Path, tiny_encoder_dir: Path, tiny_sbert_dir: Path,
           **kw: Any) -> ExtractorTrainConfig:
    return ExtractorTrainConfig(train_file=str(train), heldout=6, backbone=str(tiny_encoder_dir),
                                sbert_model=str(tiny_sbert_dir), reader_max_seq_length=64,
                                precision="fp32", **kw)


@pytest.fixture(scope="module")
def extractor_dir(tiny_encoder_dir: Path, tiny_sbert_dir: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ids_extract.squad.write import write_squad

    root = tmp_path_factory.mktemp("extractor")
    write_squad(people_dataset(), root / "people.json")
    out = root / "ex"
    Pipeline(config(root / "people.json", tiny_encoder_dir, tiny_sbert_dir), out, device="cpu",
             quiet=True).run()
    return out


def test_every_stage_runs_and_the_folder_is_complete(extractor_dir: Path) -> None:
    state = read_state(extractor_dir)
    assert list(state) == STAGES
    assert all(r.wall_s >= 0 and r.peak_rss_mib > 0 for r in state.values())
    assert state["split"].result["heldout_articles"] == ["Carl_Gauss"]
    for name in ("extractor.json", "README.md", "fusion.json", "heldout/report.json",
                 "dpr/ids_extract_dpr.json", "reader/reader.json", "cross/ids_extract_cross.json"):
        assert (extractor_dir / name).is_file(), name
    report = json.loads((extractor_dir / "heldout" / "report.json").read_text())
    assert set(report["signals"]) >= {"bm25", "sbert", "dpr", "reader", "cross"}
    assert report["heldout_questions"] == 6 and report["with_distractor"] >= 1
    card = (extractor_dir / "README.md").read_text()
    for needle in ("sha256", "Held-out figures", "top-1 with distractor", "| reader |",
                   "peak RSS", "transformers"):
        assert needle in card


def test_spec_round_trip_names_models_by_path_and_hash(extractor_dir: Path) -> None:
    spec = load_spec(extractor_dir)
    assert spec.scorer_names() == SIGNALS
    assert spec.models["reader"]["path"] == "reader" and len(spec.models["reader"]["sha256"]) == 64
    assert spec.reader_path() == str((extractor_dir / "reader").resolve())
    ex = Extractor.from_pretrained(extractor_dir, "top-k:1", device="cpu", quiet=True)
    assert ex.config()["fusion"]["method"] == "learned"
    assert [s.name for s in ex.scorers] == spec.scorer_names()
    result = ex.run(load(extractor_dir / "data" / "heldout.json"))
    assert result.levels[0].stats.summary["questions"] == 6


def test_a_changed_model_or_fusion_is_refused(extractor_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ex"
    shutil.copytree(extractor_dir, copy)
    load_spec(copy)                                  # a copy elsewhere is the same extractor
    config_file = copy / "cross" / "config.json"
    config_file.write_text(config_file.read_text() + "\n")
    with pytest.raises(ConfigError, match="'cross'.*changed"):
        load_spec(copy)
    shutil.copytree(extractor_dir / "cross", copy / "cross", dirs_exist_ok=True)
    fusion = json.loads((copy / "fusion.json").read_text())
    fusion["intercept"] += 1
    (copy / "fusion.json").write_text(json.dumps(fusion))
    with pytest.raises(ConfigError, match="fusion file .* changed"):
        Extractor.from_pretrained(copy)


def test_rerun_skips_every_stage_and_other_settings_are_refused(
        extractor_dir: Path, tiny_encoder_dir: Path, tiny_sbert_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    train = extractor_dir.parent / "people.json"
    before = (extractor_dir / "stages.json").read_text()
    for stage in STAGES:
        monkeypatch.setattr(Pipeline, stage.replace("-", "_"),
                            lambda self, s=stage: pytest.fail(f"{s} ran again"))
    Pipeline(config(train, tiny_encoder_dir, tiny_sbert_dir), extractor_dir, device="cpu",
             quiet=True).run()
    assert (extractor_dir / "stages.json").read_text() == before
    with pytest.raises(ConfigError, match="fuse.*other settings"):
        Pipeline(config(train, tiny_encoder_dir, tiny_sbert_dir, fusion_c=0.5), extractor_dir,
                 device="cpu", quiet=True).run()


def test_a_killed_run_resumes_at_the_first_unfinished_stage(
        people_file: Path, tiny_encoder_dir: Path, tiny_sbert_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "ids_extract", "train-extractor", str(people_file), "--out",
           str(out), *options(tiny_encoder_dir, tiny_sbert_dir)]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while "split" not in read_state(out) if (out / "stages.json").exists() else True:
        assert proc.poll() is None and time.time() < deadline, "run ended before it was killed"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = read_state(out)
    assert "split" in killed and "card" not in killed and not (out / "extractor.json").exists()
    monkeypatch.setattr(Pipeline, "split", lambda self: pytest.fail("split ran again"))
    result = CliRunner().invoke(app, ["train-extractor", str(people_file), "--out", str(out),
                                      *options(tiny_encoder_dir, tiny_sbert_dir)])
    assert result.exit_code == 0, result.output
    state = read_state(out)
    assert list(state) == STAGES and state["split"] == killed["split"]
    assert all(state[s] == killed[s] for s in killed)      # finished stages were kept
    load_spec(out)


def test_cli_extract_with_extractor(extractor_dir: Path, squad_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["extract", str(squad_file), "--extractor", str(extractor_dir),
                                      "--out", str(out), "--levels", "top-k:2", "--device",
                                      "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["fusion"]["method"] == "learned"
    assert set(manifest["ranking"]["top_k_recall_pct"]) == {*SIGNALS, "fused"}
    clash = CliRunner().invoke(app, ["extract", str(squad_file), "--extractor",
                                     str(extractor_dir), "--scorers", "bm25", "--out",
                                     str(tmp_path / "x")])
    assert clash.exit_code == 2 and "leave out --scorers" in clash.output
    assert not (tmp_path / "x").exists()


def test_cli_answer_and_explain_with_extractor(extractor_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["answer", "--extractor", str(extractor_dir), "--question",
                                      "Who led the Norse raiders?", "--context", CONTEXT,
                                      "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    answered = json.loads(result.output)
    assert CONTEXT[answered["start"]:answered["end"]] == answered["answer"]
    assert answered["kept"]
    page = tmp_path / "why.html"
    result = CliRunner().invoke(app, ["explain", "--extractor", str(extractor_dir), "-q",
                                      "Who led the Norse raiders?", "--context", CONTEXT,
                                      "--ig-steps", "2", "--device", "cpu", "-o", str(page)])
    assert result.exit_code == 0, result.output  # -q QUESTION: the old spelling, one release
    assert "-q QUESTION is deprecated" in result.output
    assert page.is_file() and page.with_suffix(".png").is_file()
    both = CliRunner().invoke(app, ["explain", "--extractor", str(extractor_dir), "-m",
                                    str(extractor_dir / "reader"), "-q", "Q?", "--context", "C."])
    assert both.exit_code == 2


def test_a_hand_written_profile_of_local_folders_loads(tiny_qa_dir: Path, tiny_sbert_dir: Path,
                                                       squad_file: Path, tmp_path: Path) -> None:
    profile = {"format": "ids-extract-extractor/1", "segmenter": "pysbd",
               "models": {"reader": {"name": str(tiny_qa_dir)}, "sbert": {"name": str(tiny_sbert_dir)}},
               "scorers": [{"name": "bm25"}, {"name": "sbert", "model": "sbert"},
                           {"name": "reader", "model": "reader"}],
               "fusion": {"method": "weighted", "weights": {"bm25": 1, "sbert": 0.5, "reader": 2}},
               "reader": "reader"}
    path = tmp_path / "public.json"
    path.write_text(json.dumps(profile))
    ex = Extractor.from_pretrained(path, "top-k:1", device="cpu", quiet=True)
    assert ex.config()["fusion"] == {"method": "weighted",
                                     "weights": {"bm25": 1.0, "sbert": 0.5, "reader": 2.0}}
    assert ex.run(load(squad_file)).levels[0].stats.summary["questions"] == 6
    bad = dict(profile, scorers=[{"name": "reader", "model": "nope"}])
    path.write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match="'nope'"):
        load_spec(path)


def test_bad_options_exit_2_before_any_work(people_file: Path, tmp_path: Path) -> None:
    for extra, message in ((["--stages", "bm25,magic"], "choose from"),
                           (["--stages", "bm25,ig"], "add reader"),
                           (["--distractor-rate", "2"], "share in"),
                           (["--set", "cross_max_lenght=96"], "NAME one of"),
                           (["--set", "cascade_k"], "give NAME=VALUE"),
                           (["--set", "cascade_k=0"], "cascade_k must be >= 1")):
        out = tmp_path / "x"
        result = CliRunner().invoke(app, ["train-extractor", str(people_file), "--out", str(out),
                                          *extra])
        assert result.exit_code == 2 and message in result.output, result.output
        assert not out.exists()
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": '
                      '"abc", "qas": [{"id": "q", "question": "?", "answers": [{"text": "zz", '
                      '"answer_start": 0}]}]}]}]}')
    result = CliRunner().invoke(app, ["train-extractor", str(broken), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "broken.json" in result.output and "question id q" in result.output
    assert not (tmp_path / "b").exists()
    dev = tmp_path / "dev-v1.1.json"
    shutil.copy(people_file, dev)
    result = CliRunner().invoke(app, ["train-extractor", str(dev), "--out", str(tmp_path / "y")])
    assert result.exit_code == 2 and "never on dev" in result.output


def test_profiles_are_chosen_from_the_frontier_and_load_by_name(extractor_dir: Path,
                                                                tmp_path: Path) -> None:
    from ids_extract.pipeline.pretrained import save_spec
    from ids_extract.pipeline.profiles import cascade_of, subsets

    frontier = json.loads((extractor_dir / "heldout" / "frontier.json").read_text())
    # a subset with a cross-encoder and something cheap to rank with: once per cascade depth
    depths = (2, 3, 4)
    assert len(frontier["candidates"]) == sum(len({cascade_of(s, d) for d in depths})
                                              for s in subsets(SIGNALS))
    assert set(frontier["timings"]) == set(SIGNALS) and frontier["reference"] == ["bm25", "sbert"]
    rows: dict[tuple[str, ...], list[Any]] = {}
    for c in frontier["candidates"]:
        rows.setdefault(tuple(c["signals"]), []).append(c["cascade"])
    assert sorted(r["k"] for r in rows[("bm25", "cross")]) == [2, 3, 4]
    assert rows[("cross",)] == [None]  # nothing cheap to rank with first
    spec = load_spec(extractor_dir)
    assert set(spec.profiles) == set(frontier["chosen"])
    copy = tmp_path / "ex"
    shutil.copytree(extractor_dir, copy)
    spec = load_spec(copy)
    spec.profiles["mine"] = {"scorers": ["bm25", "cross-small"], "fusion": {"method": "weighted"},
                             "cascade": {"k": 2, "expensive": ["cross-small"]}}
    save_spec(spec, copy)
    ex = Extractor.from_pretrained(copy, "top-k:1", device="cpu", quiet=True, profile="mine")
    assert [s.name for s in ex.scorers] == ["bm25", "cross-small"]
    assert ex.cascade is not None and ex.cascade.k == 2
    assert ex.run(load(copy / "data" / "heldout.json")).levels[0].stats.summary["questions"] == 6
    with pytest.raises(ConfigError, match="no profile 'nope'.*mine"):
        Extractor.from_pretrained(copy, profile="nope")


def test_compress_and_the_adapters_use_a_trained_extractor_and_its_profiles(
        extractor_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """compress(extractor=, profile=), compress --extractor --profile and the adapters' fields
    give what the profile's own selector gives; what would contradict the folder is refused."""
    from ids_extract import compress
    from ids_extract.apps.compress import pretrained_selector
    from ids_extract.integrations import CompressSettings
    from ids_extract.pipeline.pretrained import save_spec
    from ids_extract.pipeline.selector import Selector

    spec = load_spec(extractor_dir)
    name = next(iter(spec.profiles))
    budget, question = "tokens:40", "Who did Alice marry?"
    whole = compress(question, CONTEXT, budget, extractor=extractor_dir, device="cpu")
    prof = compress(question, CONTEXT, budget, extractor=extractor_dir, profile=name,
                    device="cpu")
    assert whole.tokens <= 40 and prof.tokens <= 40 and prof.kept
    chosen = Selector.from_pretrained(extractor_dir, "cpu", name)
    assert [s.name for s in chosen.scorers] == spec.profiles[name]["scorers"]
    # a profile without a cascade of its own gets compress's: what is not cheap reads the top k
    spec.profiles["plain"] = {"scorers": ["bm25", "dpr"], "fusion": {"method": "weighted"},
                              "cascade": None}
    copy = tmp_path / "ex"
    shutil.copytree(extractor_dir, copy)
    save_spec(spec, copy)
    plain = pretrained_selector(str(copy.resolve()), "plain", "cpu", 3)
    assert plain.cascade is not None and plain.cascade.k == 3
    assert list(plain.cascade.expensive) == ["dpr"]
    assert pretrained_selector(str(copy.resolve()), "plain", "cpu", None).cascade is None
    with pytest.raises(ConfigError, match="leave out `scorers`"):
        compress(question, CONTEXT, budget, extractor=extractor_dir, scorers=["bm25"])
    from ids_extract.pipeline import pretrained

    with monkeypatch.context() as m:  # where no extractor ships, a profile alone names nothing
        m.setattr(pretrained, "SHIPPED", tmp_path / "none")
        with pytest.raises(ConfigError, match="give extractor="):
            compress(question, CONTEXT, budget, profile=name)
    with pytest.raises(ConfigError, match="no profile 'nope'"):
        CompressSettings(extractor=str(extractor_dir), profile="nope")
    settings = CompressSettings(budget=budget, extractor=str(extractor_dir), profile=name)
    [kept] = settings.kept(question, [CONTEXT])
    assert kept.text.strip() == prof.text.strip()  # one passage: what compress keeps
    langchain = pytest.importorskip("langchain_core.documents")
    from ids_extract.integrations.langchain import IdsCompressor

    [doc] = IdsCompressor(budget=budget, extractor=str(extractor_dir), profile=name
                          ).compress_documents([langchain.Document(page_content=CONTEXT)],
                                               question)
    assert doc.page_content.strip() == prof.text.strip()
    schema = pytest.importorskip("llama_index.core.schema")
    from ids_extract.integrations.llama_index import IdsPostprocessor

    [node] = IdsPostprocessor(budget=budget, extractor=str(extractor_dir), profile=name
                              ).postprocess_nodes([schema.NodeWithScore(
                                  node=schema.TextNode(text=CONTEXT))], query_str=question)
    assert node.node.get_content().strip() == prof.text.strip()
    requests = tmp_path / "q.jsonl"
    requests.write_text(json.dumps({"id": "a", "question": question, "context": CONTEXT}) + "\n")
    result = CliRunner().invoke(app, ["compress", str(requests), "--budget", budget,
                                      "--extractor", str(extractor_dir), "--profile", name,
                                      "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["text"] == prof.text
    result = CliRunner().invoke(app, ["compress", str(requests), "--extractor",
                                      str(extractor_dir), "--scorers", "bm25"])
    assert result.exit_code != 0 and "leave out --scorers" in result.output
    result = CliRunner().invoke(app, ["compress", str(requests), "--extractor",
                                      str(extractor_dir), "--segmenter", "blingfire"])
    assert result.exit_code != 0 and "leave out --segmenter" in result.output


def test_the_small_cross_encoder_is_distilled_from_the_big_one(extractor_dir: Path) -> None:
    """With cross trained, cross-small learns its logits: the teacher's targets are cached with
    one list per training question, each as long as the question's candidates."""
    targets = json.loads((extractor_dir / "distill" / "targets.json").read_text())
    assert targets["key"] and len(targets["targets"]) > 0
    assert all(len(t) >= 2 and all(isinstance(x, float) for x in t) for t in targets["targets"])
    state = read_state(extractor_dir)
    assert state["cross-small"].result["questions"] == len(targets["targets"])
    assert state["cross"].result["multi_passage"] >= 0


def test_listwise_distillation_loss() -> None:
    """Distillation: zero KL when the student already orders the candidates as the teacher
    does; a student that inverts the teacher pays more; without targets it is the plain
    cross-entropy of the answer."""
    import torch

    from ids_extract.models.cross.train import listwise_loss

    sizes, answer = torch.tensor([3, 2]), torch.tensor([0, 1])
    teacher = torch.tensor([2.0, 0.0, -1.0, -1.0, 1.0])
    same = listwise_loss(teacher.clone(), sizes, answer, teacher, distill_weight=1.0)
    inverted = listwise_loss(-teacher, sizes, answer, teacher, distill_weight=1.0)
    assert float(same) == pytest.approx(0.0, abs=1e-6) and float(inverted) > 1.0
    plain = listwise_loss(teacher, sizes, answer)
    ce = torch.nn.functional.cross_entropy(torch.tensor([[2.0, 0.0, -1.0], [-1.0, 1.0, -1e9]]),
                                           answer)
    assert float(plain) == pytest.approx(float(ce), rel=1e-5)


def test_multi_passage_for_some_questions_only() -> None:
    from ids_extract.squad.passages import multi_passage

    data = people_dataset()
    ids = [qa.id for _, _, qa in data.iter_qas()]
    chosen = set(ids[::2])
    mixed = multi_passage(data, others=2, seed=0, ids=chosen)
    assert sorted(qa.id for _, _, qa in mixed.iter_qas()) == sorted(ids)
    for _, p, qa in mixed.iter_qas():
        for a in qa.answers:
            assert p.context[a.answer_start:a.answer_start + len(a.text)] == a.text
        own = next(pp.context for _, pp, q in data.iter_qas() if q.id == qa.id)
        assert (p.context != own) == (qa.id in chosen and len(p.context) > len(own))


def test_a_packaged_extractor_ships_int8_graphs_that_score_as_the_trained_one(
        extractor_dir: Path, squad_file: Path, tmp_path: Path) -> None:
    """package-extractor: no torch weights for cross, cross-small and dpr (int8 graphs), static
    in int8; the same scores as the trained folder with backend auto on a CPU (the same int8
    graphs) for the transformers, the same ranking from static; hashes of what is shipped, and a
    changed file refused."""
    import numpy as np

    from ids_extract.apps.package_extractor import package
    from ids_extract.pipeline.selector import Selector
    from ids_extract.squad.units import squad_units

    out = tmp_path / "shipped"
    from ids_extract.cli.train import training_command

    trained_by = training_command(load_spec(extractor_dir).info["config"])
    result = package(extractor_dir, out, command="ids-extract package-extractor X --out Y",
                     trained_by=trained_by)
    for sub in ("cross", "cross-small", "dpr/question_encoder", "dpr/ctx_encoder"):
        assert (out / sub / "model-int8.onnx").is_file(), sub
        assert not list((out / sub).glob("*.safetensors")), sub
    assert result["total_mb"] > 0 and set(result["models_mb"]) >= {"cross", "dpr", "static"}
    card = (out / "README.md").read_text()
    assert "ids-extract train-extractor people.json" in card and "package-extractor" in card
    assert "--set reader_max_seq_length=64" in card  # a setting without a flag of its own
    spec = load_spec(out)
    assert spec.info["packaged"]["int8"] and spec.models["cross"]["sha256"] != load_spec(
        extractor_dir).models["cross"]["sha256"]
    units = squad_units(load(squad_file).limit(8), "eval", spec.segmenter)
    def every_unit(folder: Path) -> dict[str, list[np.ndarray]]:  # no cascade: all units read
        return Selector.build(Selector.from_pretrained(folder).scorers).score(units).per_scorer

    got, want = every_unit(out), every_unit(extractor_dir)
    for name in ("dpr", "cross", "cross-small"):
        for x, y in zip(got[name], want[name], strict=True):
            np.testing.assert_allclose(x, y, atol=1e-5)
    for x, y in zip(got["static"], want["static"], strict=True):
        np.testing.assert_allclose(x, y, atol=0.05)
    onnx = out / "cross" / "model-int8.onnx"
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    with pytest.raises(ConfigError, match="changed"):
        load_spec(out)


def test_with_no_scorers_chosen_every_entry_point_uses_the_shipped_extractor(
        extractor_dir: Path, squad_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped extractor (here: the tiny one, shipped under the default's name) is what
    extract, compress(), the compress command and both adapters use when given no scorers nor
    anything an extractor decides; its fast profile; the manifest names it with the sha256 of
    its extractor.json. Any scorer choice is the scorers' path (the paper's bm25,sbert unless
    named), and a profile alone picks one of the shipped extractor's."""
    from ids_extract import compress
    from ids_extract.apps.compress import pretrained_selector, selector_for
    from ids_extract.files import sha256_file
    from ids_extract.integrations import CompressSettings
    from ids_extract.pipeline import pretrained
    from ids_extract.select.cascade import DEFAULT_K

    shipped = tmp_path / "shipped"
    shutil.copytree(extractor_dir, shipped / "squad-en")
    monkeypatch.setattr(pretrained, "SHIPPED", shipped)
    pretrained_selector.cache_clear()
    selector_for.cache_clear()
    fast = load_spec("squad-en").profiles["fast"]["scorers"]
    out = tmp_path / "D"
    result = CliRunner().invoke(app, ["extract", str(squad_file), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "manifest.json").read_text())["config"]
    assert config["extractor"] == {"name": "squad-en", "profile": "fast", "sha256": sha256_file(
        shipped / "squad-en" / "extractor.json")}
    assert [s["name"] for s in config["scorers"]] == fast
    result = CliRunner().invoke(app, ["extract", str(squad_file), "--out", str(tmp_path / "B"),
                                      "--profile", "best", "-q"])
    assert result.exit_code == 0, result.output
    best = json.loads((tmp_path / "B" / "manifest.json").read_text())["config"]
    assert best["extractor"]["profile"] == "best"
    paper = tmp_path / "P"
    result = CliRunner().invoke(app, ["extract", str(squad_file), "--out", str(paper), "-q",
                                      "--scorers", "bm25", "--segmenter", "pysbd"])
    assert result.exit_code == 0, result.output
    assert "extractor" not in json.loads((paper / "manifest.json").read_text())["config"]
    question = "Where did Carl Gauss work?"
    plain = compress(question, CONTEXT, "tokens:40", device="cpu")
    used = pretrained_selector(str((shipped / "squad-en").resolve()), "fast", "cpu", DEFAULT_K)
    assert [s.name for s in used.scorers] == fast and used.origin["name"] == "squad-en"
    assert plain.kept
    assert selector_for.cache_info().currsize == 0  # no scorers were built for it
    compress(question, CONTEXT, "tokens:40", scorers=["bm25"])
    assert selector_for.cache_info().currsize == 1
    settings = CompressSettings(budget="tokens:40")
    assert (settings.extractor, settings.profile) == ("squad-en", "fast")
    assert CompressSettings(budget="tokens:40", scorers=("bm25",)).extractor is None
    requests = tmp_path / "q.jsonl"
    requests.write_text(json.dumps({"id": "a", "question": question, "context": CONTEXT}) + "\n")
    result = CliRunner().invoke(app, ["compress", str(requests), "--budget", "tokens:40"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["text"] == plain.text


def test_set_gives_any_setting_by_its_field() -> None:
    from ids_extract.apps.extractor_config import settings

    got = settings(["cross_max_length=96", "profile_depths=[2,3]", "static_base=dpr",
                    "fusion_nonnegative=true", "cross_init_layers=null"])
    assert got == {"cross_max_length": 96, "profile_depths": (2, 3), "static_base": "dpr",
                   "fusion_nonnegative": True, "cross_init_layers": None}
    config = ExtractorTrainConfig(train_file="t.json", **got)
    assert config.cross_max_length == 96 and config.profile_depths == (2, 3)
