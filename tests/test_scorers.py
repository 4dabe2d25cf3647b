from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ids_extract.errors import ConfigError
from ids_extract.scorers import ScoringBatch, build_scorer
from ids_extract.scorers.bm25 import tokenize
from ids_extract.select.fusion import parse_weights, ranking, weighted, zscore

SENTENCES = ["Paris is the capital of France.", "It has 2 million people.",
             "The Seine flows through Paris.", "X marks the spot."]


def test_bm25_tokens_keep_numbers_and_single_letters() -> None:
    assert tokenize("X marks 2 spots, a B-52.") == ["x", "marks", "2", "spots", "a", "b", "52"]


def test_bm25_ranks_the_matching_sentence_first() -> None:
    batch = ScoringBatch([SENTENCES, ["Nothing here.", "Nor here."]],
                         ["How many people? 2 million", "What marks X?", "zebra"], [0, 0, 1])
    scores = build_scorer("bm25").score(batch)
    assert [s.shape for s in scores] == [(4,), (4,), (2,)]
    assert int(np.argmax(scores[0])) == 1
    assert int(np.argmax(scores[1])) == 3
    assert not scores[2].any()  # no shared term: all zero, no error


def test_bm25_matches_the_okapi_formula() -> None:
    docs = [["a", "b"], ["b", "c", "c"]]
    batch = ScoringBatch([[" ".join(d) for d in docs]], ["c"], [0])
    got = build_scorer("bm25", k1=1.5, b=0.75).score(batch)[0]
    avg = 2.5
    idf = np.log(1 + (2 - 1 + 0.5) / (1 + 0.5))
    expected = idf * 2 / (2 + 1.5 * (1 - 0.75 + 0.75 * 3 / avg))
    assert got[0] == 0 and got[1] == pytest.approx(expected, rel=1e-5)


def test_sbert_scores_are_cosines_and_contexts_encoded_once(tiny_sbert_dir: Path) -> None:
    scorer: Any = build_scorer("sbert", model=str(tiny_sbert_dir), device="cpu")
    calls: list[list[str]] = []
    real = scorer.encode
    scorer.encode = lambda texts: calls.append(list(texts)) or real(texts)
    batch = ScoringBatch([SENTENCES, ["Rollo led them."]],
                         ["Where is Paris?", "Where is Paris?", "Who led?"], [0, 0, 1])
    scores = scorer.score(batch)
    assert [s.shape for s in scores] == [(4,), (4,), (1,)]
    assert np.allclose(scores[0], scores[1])
    assert all(-1.0001 <= v <= 1.0001 for s in scores for v in s)
    assert calls[0] == SENTENCES + ["Rollo led them."]  # each sentence once
    assert calls[1] == ["Where is Paris?", "Who led?"]  # each distinct question once
    # the same batches as the scorer's calls: int8 ONNX (the default) quantizes activations per
    # batch, so another batch composition may move the last digits
    emb = real(SENTENCES + ["Rollo led them."])[:4]
    q = real(["Where is Paris?", "Who led?"])[0]
    assert np.allclose(scores[0], emb @ q, atol=1e-5)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)


def test_unknown_scorer_and_option() -> None:
    with pytest.raises(ConfigError, match="unknown scorer"):
        build_scorer("tfidf")
    with pytest.raises(ConfigError, match="bm25"):
        build_scorer("bm25", colour="red")


def test_fusion_standardises_then_weights() -> None:
    a, b = np.array([1.0, 2.0, 3.0]), np.array([300.0, 100.0, 200.0])
    assert np.allclose(zscore(a), [-1.2247, 0, 1.2247], atol=1e-4)
    assert not zscore(np.array([5.0, 5.0])).any() and not zscore(np.array([1.0])).any()
    fused = weighted({"a": a, "b": b}, {"a": 1.0, "b": 0.5})
    assert np.allclose(fused, zscore(a) + 0.5 * zscore(b))
    assert ranking(np.array([1.0, 3.0, 3.0, 0.0])).tolist() == [1, 2, 0, 3]
    assert parse_weights("sbert=2", ["bm25", "sbert"]) == {"bm25": 1.0, "sbert": 2.0}
    assert parse_weights("1,0.5", ["bm25", "sbert"]) == {"bm25": 1.0, "sbert": 0.5}
    for bad in ["1", "dpr=1", "a,b"]:
        with pytest.raises(ConfigError):
            parse_weights(bad, ["bm25", "sbert"])


def test_onnx_backend_matches_torch_and_int8_stays_close(tiny_sbert_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("IDS_EXTRACT_HOME", str(tmp_path))
    batch = ScoringBatch([SENTENCES], ["Where is Paris?", "How many people?"], [0, 0])
    torch_scores = build_scorer("sbert", model=str(tiny_sbert_dir), backend="torch",
                                precision="fp32").score(batch)
    default = build_scorer("sbert", model=str(tiny_sbert_dir), device="cpu")
    assert (default.config()["backend"], default.config()["precision"]) == ("onnx", "int8")
    onnx = build_scorer("sbert", model=str(tiny_sbert_dir), backend="onnx", precision="fp32")
    assert onnx.config()["backend"] == "onnx" and onnx.config()["precision"] == "fp32"
    for got, want in zip(onnx.score(batch), torch_scores, strict=True):
        assert np.allclose(got, want, atol=1e-5)
    assert len(list(tmp_path.glob("onnx/*/model-fused.onnx"))) == 1  # exported once, cached
    int8 = build_scorer("sbert", model=str(tiny_sbert_dir), backend="onnx", precision="int8")
    for got, want in zip(int8.score(batch), torch_scores, strict=True):
        assert np.allclose(got, want, atol=0.1)
    # only the graphs that are loaded stay in the cache (not the plain export they came from)
    kept = sorted(p.name for p in tmp_path.glob("onnx/*/*.onnx"))
    assert kept == ["model-fused.onnx", "model-int8.onnx"]
    assert len(list(tmp_path.glob("onnx/*/model-int8.onnx"))) == 1
    with pytest.raises(ConfigError, match="needs `backend` onnx"):
        build_scorer("sbert", model=str(tiny_sbert_dir), backend="torch", precision="int8")


def test_onnx_threads_give_the_same_vectors_as_one_at_a_time(tiny_sbert_dir: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches run on several threads land in their own rows: the result equals the sequential
    one bit for bit (int8 quantizes per batch, so only the batching may change numbers)."""
    pytest.importorskip("onnxruntime")
    from sentence_transformers import SentenceTransformer

    from ids_extract.models.onnx import OnnxEncoder

    monkeypatch.setenv("IDS_EXTRACT_HOME", str(tmp_path))
    st = SentenceTransformer(str(tiny_sbert_dir), device="cpu")
    texts = [f"{s} {i}" * (1 + i % 4) for i, s in enumerate(SENTENCES * 8)]
    one = OnnxEncoder.of_sentence_transformer(st, quantize=True, threads=1)
    many = OnnxEncoder.of_sentence_transformer(st, quantize=True, threads=3)
    assert (one.workers, many.workers) == (1, 3)
    sequential, threaded = one.encode(texts, batch_size=2), many.encode(texts, batch_size=2)
    assert sequential.shape == (len(texts), st[0].auto_model.config.hidden_size)
    assert np.array_equal(sequential, threaded)
    assert np.allclose(np.linalg.norm(threaded, axis=1), 1.0, atol=1e-5)
    assert one.encode([]).shape[0] == 0
