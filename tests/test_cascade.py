"""The retrieve-then-rerank cascade: cheap scorers rank every unit, an expensive one reads only
each item's top-k, the units it did not read fall below the ones it did (and keep the cheap
order among themselves), and the extractor, its config and the cross-encoder's training groups
follow the same rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ids_extract import load
from ids_extract.errors import ConfigError
from ids_extract.models.cross.train import build_groups
from ids_extract.pipeline.extractor import Extractor
from ids_extract.pipeline.scoring import score_units
from ids_extract.scorers import Scorer, ScoringBatch, build_scorer
from ids_extract.select.cascade import Cascade, candidates, masked
from ids_extract.select.fusion import WeightedFusion
from ids_extract.select.units import Units
from ids_extract.squad.units import squad_units


class Position(Scorer):
    """Cheap: the earlier the unit, the higher."""

    name = "position"  # type: ignore[misc]

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        return [-np.arange(len(batch.contexts[c]), dtype=float) for c in batch.owner]


class Recorder(Scorer):
    """Expensive: prefers later units, and records which units it was asked about."""

    name = "recorder"  # type: ignore[misc]

    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        assert batch.candidates is not None
        self.seen += [sorted(int(i) for i in c) for c in batch.candidates]
        return [np.arange(len(batch.contexts[c]), dtype=float) for c in batch.owner]


def units() -> Units:
    text = "One. Two. Three. Four. Five."
    spans = [(0, 5), (5, 10), (10, 17), (17, 23), (23, 28)]
    return Units([text, text], [spans, spans], [0, 1], ["q1", "q2"])


def test_candidates_are_the_cheap_top_k_and_the_rest_fall_below_them() -> None:
    cheap = {"a": [np.array([0.0, 3.0, 1.0, 2.0])], "b": [np.array([0.0, 3.0, 1.0, 2.0])]}
    assert candidates(cheap, 2)[0].tolist() == [1, 3]
    out = masked(np.array([9.0, 5.0, 9.0, 4.0]), np.array([1, 3]))
    assert out[1] == 5.0 and out[3] == 4.0
    assert out[0] == out[2] < 4.0  # the unread units: one value, below every read one
    assert masked(np.array([1.0, 2.0]), np.array([0, 1])).tolist() == [1.0, 2.0]


def test_score_units_hands_the_expensive_scorer_only_the_top_k() -> None:
    rec = Recorder()
    cascade = Cascade(2, ("recorder",))
    scored = score_units(units(), [rec, Position()], WeightedFusion(["recorder", "position"]),
                         cascade=cascade)
    assert rec.seen == [[0, 1], [0, 1]]  # position's top 2, for each item
    for q in range(2):
        ranked = scored.rankings(["recorder", "position"])[q].tolist()
        assert set(ranked[:2]) == {0, 1}  # what the expensive scorer read comes first
        assert ranked[2:] == [2, 3, 4]    # the rest keep the cheap order


def test_cascade_refuses_what_cannot_work() -> None:
    with pytest.raises(ConfigError, match="k 0"):
        Cascade(0, ("x",)).check(["x", "y"])
    with pytest.raises(ConfigError, match="not among"):
        Cascade(2, ("cross",)).check(["bm25"])
    with pytest.raises(ConfigError, match="cheap"):
        Cascade(2, ("bm25",)).check(["bm25"])
    assert Cascade.from_config(Cascade(3, ("cross",)).config()) == Cascade(3, ("cross",))
    assert Cascade.from_config(None) is None


def test_the_extractor_records_its_cascade_and_the_expensive_scorer_reads_less(
        squad_file: Path) -> None:
    rec = Recorder()
    ex = Extractor([build_scorer("bm25"), rec], "top-k:1", cascade=Cascade(1, ("recorder",)),
                   quiet=True)
    assert ex.config()["cascade"] == {"k": 1, "expensive": ["recorder"]}
    assert "cascade" in ex.scoring_config()  # another k is another score cache
    data = load(squad_file)
    ex.score(ex.to_units(data))
    assert rec.seen and all(len(c) == 1 for c in rec.seen)
    assert "cascade" not in Extractor(["bm25"], "top-k:1", quiet=True).config()


def test_cross_groups_hold_the_answer_the_distractor_and_the_best_ranked(
        squad_file: Path) -> None:
    u = squad_units(load(squad_file), "train")
    answers = [next(i for i, (s, e) in enumerate(u.spans[p]) if s <= qa.answers[0].answer_start < e)
               for p, qa in zip(u.owner, u.qas, strict=True)]
    ranked = [list(range(len(u.spans[p])))[::-1] for p in u.owner]  # last unit best
    must = [0 if a != 0 else None for a in answers]
    groups = build_groups(u, 3, ranked=ranked, must=must)
    for g, a, m, r in zip(groups, answers, must, ranked, strict=True):
        assert g.candidates[g.label] == a
        if m is not None:
            assert m in g.candidates
        best_other = next(i for i in r if i not in (a, m))
        assert best_other in g.candidates
        assert len(g.candidates) <= 3


def test_compress_lets_sbert_read_only_the_cascade_s_sentences(tiny_sbert_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    from ids_extract.apps.compress import compress
    from ids_extract.scorers.sbert import SBERTScorer

    read: list[int] = []
    original = SBERTScorer.encode_passages

    def counting(self: SBERTScorer, texts: list[str]) -> np.ndarray:
        read.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(SBERTScorer, "encode_passages", counting)
    text = " ".join(f"Sentence number {i} talks about topic {i % 7}." for i in range(40))
    sbert = {"model": str(tiny_sbert_dir), "backend": "torch"}
    full = compress("What about topic 3?", text, "tokens:64", cascade_k=None, sbert=sbert)
    assert read[-1] == 40
    wide = compress("What about topic 3?", text, "tokens:64", cascade_k=40, sbert=sbert)
    assert wide.text == full.text  # k covering every sentence changes nothing
    short = compress("What about topic 3?", text, "tokens:64", cascade_k=5, sbert=sbert)
    assert read[-1] == 5 and short.tokens <= 64
