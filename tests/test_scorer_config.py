"""The score cache's key is safe by construction: a scorer's ``config()`` (the key of every score
cache, and the manifest's record) is derived from its declared options (scorers/base.py), so an
option a scorer forgets to record still changes the key.

For **every registered scorer of both tasks**, each declared option that is not ``runtime``
(device, batch sizes) is changed alone, and the key must change; a new option without an entry in
``CHANGES`` fails here until it has one. Tiny models built from configs; a model is changed by a
copy whose config file is written differently (its content hash changes).
"""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ids_extract.files import config_key
from ids_extract.scorers import TASKS, build_scorer, scorer_class
from ids_extract.scorers.base import Scorer, ScoringBatch, declared_options

from .test_dpr import save_pair

#: DPR's two encoders given apart (then ``model`` is not read)
ENCODERS = {"model": None, "question_model": "{pair}/question_encoder",
            "ctx_model": "{pair}/ctx_encoder"}
#: (task, scorer) -> (the options every build starts from, {option: changed value, or
#: (options the change needs, changed value)}); "{x}" names a model folder of ``models``
CHANGES: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {
    ("qa", "bm25"): ({}, {"k1": 1.2, "b": 0.5, "method": "robertson", "stopwords": "en"}),
    ("qa", "sbert"): ({"model": "{sbert}", "precision": "fp32", "backend": "torch"},
                      {"model": "{sbert2}", "max_seq_length": 32, "precision": "bf16",
                       "backend": "onnx"}),
    ("qa", "dpr"): ({"model": "{pair}", "precision": "fp32"},
                    {"model": "{pair2}", "precision": "bf16", "max_question_length": 16,
                     "max_passage_length": 32, "backend": "torch",
                     "question_model": (ENCODERS, "{pair2}/question_encoder"),
                     "ctx_model": (ENCODERS, "{pair2}/ctx_encoder")}),
    ("qa", "ig"): ({"model": "{qa}"},
                   {"model": "{qa2}", "n_steps": 4, "method": "riemann_trapezoid",
                    "target": "start", "aggregation": "max", "mode": "gxi",
                    "max_seq_length": 64, "stride": 16, "cascade": "bm25",
                    "cascade_margin": ({"cascade": "bm25"}, 1.0), "precision": "bf16"}),
    ("qa", "reader"): ({"model": "{qa}"}, {"model": "{qa2}", "max_seq_length": 64, "stride": 16,
                                           "precision": "bf16"}),
    ("qa", "cross"): ({"model": "{cross}", "precision": "fp32", "backend": "torch"},
                      {"model": "{cross2}", "precision": "bf16", "backend": "onnx"}),
    ("qa", "cross-small"): ({"model": "{cross}", "precision": "fp32", "backend": "torch"},
                            {"model": "{cross2}", "precision": "bf16", "backend": "onnx"}),
    ("qa", "static"): ({"model": "{sbert}"}, {"model": "{sbert2}"}),
    ("text", "ig"): ({"model": "{clf}"},
                     {"model": "{clf2}", "n_steps": 4, "method": "riemann_left", "mode": "gxi",
                      "aggregation": "sum", "target": "predicted", "precision": "bf16",
                      "overlap": 8}),
    ("text", "alone"): ({"model": "{clf}"},
                        {"model": "{clf2}", "precision": "bf16", "target": "any"}),
    ("text", "label"): ({"labels": ["pos", "neg"], "model": "{sbert}", "precision": "fp32"},
                        {"labels": ["pos", "neg", "mixed"], "descriptions": "pos=great|good",
                         "model": "{sbert2}", "precision": "bf16", "mode": "max"}),
    ("text", "lead"): ({}, {}),
    ("text", "headtail"): ({}, {"head_ratio": 0.5}),
}


def rewritten(folder: Path, out: Path) -> Path:
    """A copy of a model folder whose config files are written with other white space: the same
    model, other bytes, so another content hash (another model for every cache)."""
    shutil.copytree(folder, out)
    for path in out.rglob("config.json"):
        path.write_text(json.dumps(json.loads(path.read_text()), indent=3), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def models(tiny_sbert_dir: Path, tiny_qa_dir: Path, tiny_classifier_dir: Path,
           tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from ids_extract.models.cross.folder import InputFormat, from_backbone, save_cross

    root = tmp_path_factory.mktemp("config-models")
    model, tokenizer = from_backbone(str(tiny_encoder_dir))
    save_cross(model, tokenizer, root / "cross", InputFormat(1, 1, 64), {})
    found = {"sbert": tiny_sbert_dir, "qa": tiny_qa_dir, "clf": tiny_classifier_dir,
             "cross": root / "cross", "pair": save_pair(tiny_sbert_dir, root / "pair")}
    for name, folder in list(found.items()):
        found[f"{name}2"] = rewritten(folder, root / f"{name}2")
    return {k: str(v) for k, v in found.items()}


def filled(options: dict[str, Any], models: dict[str, str]) -> dict[str, Any]:
    return {k: v.format(**models) if isinstance(v, str) else v for k, v in options.items()}


def key_of(task: str, name: str, options: dict[str, Any]) -> str:
    return config_key(build_scorer(name, task=task, device="cpu", **options).config()
                      if "device" in inspect.signature(scorer_class(name, task)).parameters
                      else build_scorer(name, task=task, **options).config())


@pytest.mark.parametrize("task,name", [(t, n) for t, reg in TASKS.items() for n in reg])
def test_every_declared_option_changes_the_cache_key(task: str, name: str, models: dict[str, str],
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDS_EXTRACT_HOME", str(tmp_path / "home"))  # static distils here
    cls = scorer_class(name, task)
    assert (task, name) in CHANGES, f"scorer {task}/{name}: add how to change its options"
    base, changes = CHANGES[(task, name)]
    options = [o for o in declared_options(cls) if o not in cls.runtime]  # type: ignore[attr-defined]
    assert sorted(changes) == sorted(options), f"{task}/{name}: every declared option once"
    for option, change in changes.items():
        needs, value = change if isinstance(change, tuple) else ({}, change)
        start = filled({**base, **needs}, models)
        changed = filled({**start, option: value}, models)
        assert key_of(task, name, start) != key_of(task, name, changed), \
            f"{task}/{name}: changing {option} alone leaves the score cache's key unchanged"


class Forgetful(Scorer):
    """A plug-in scorer that overrides nothing about its config."""

    name = "forgetful"

    def __init__(self, scale: float = 1.0, device: str = "cpu") -> None:
        self.scale = scale

    def score(self, batch: ScoringBatch) -> list[Any]:
        return [[self.scale] * len(batch.contexts[c]) for c in batch.owner]


class Declared(Forgetful):
    """The same, declaring that ``device`` changes no score."""

    runtime = frozenset({"device"})


@pytest.mark.parametrize("make,device_counts", [(Forgetful, True), (Declared, False)])
def test_a_scorer_that_records_nothing_still_keys_every_option(
        make: Callable[..., Scorer], device_counts: bool) -> None:
    assert make(scale=2.0).config() == {"name": "forgetful", "scale": 2.0,
                                        **({"device": "cpu"} if device_counts else {})}
    assert make().config() != make(scale=2.0).config()
    assert (make().config() != make(device="cuda").config()) == device_counts
    with pytest.raises(TypeError):
        make(colour="red")


def test_existing_configs_keep_their_values() -> None:
    """Old score caches and manifests stay valid: the derived configs are the ones the scorers
    wrote before (order included: the manifest shows it)."""
    assert build_scorer("bm25").config() == {"name": "bm25", "k1": 1.5, "b": 0.75,
                                             "method": "lucene", "stopwords": None}
    assert list(build_scorer("bm25", k1=1.2).config()) == ["name", "k1", "b", "method",
                                                           "stopwords"]
    assert build_scorer("lead", task="text").config() == {"name": "lead"}
    assert build_scorer("headtail", task="text").config() == {"name": "headtail",
                                                              "head_ratio": 0.25}
