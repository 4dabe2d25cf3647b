"""The dpr scorer: DPR pairs built from a tiny BERT, save/load round trip, refusal of folders that
would load with random weights, score shapes and order, and its place in fusion and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ids_extract import Extractor, load
from ids_extract.cli import app
from ids_extract.errors import ConfigError
from ids_extract.models.dpr.pair import (
    CTX_DIR,
    META_FILE,
    QUESTION_DIR,
    dpr_pair_from_bert,
    passage_pairs,
    resolve_pair,
)
from ids_extract.models.hub import transformer_folder
from ids_extract.scorers import ScoringBatch, build_scorer
from ids_extract.scorers.dpr import DPRScorer

SENTENCES = ["Paris is the capital of France. ", "It has 2 million people. ",
             "The Seine flows through Paris. ", "X marks the spot."]


def save_pair(backbone: Path, out: Path, pooling: str | None = "mean",
              passage_context: int | None = None) -> Path:
    """A DPR pair folder made from a backbone, as the trainer writes it (without training)."""
    q, c, tok = dpr_pair_from_bert(str(backbone))
    for name, enc in ((QUESTION_DIR, q), (CTX_DIR, c)):
        enc.save_pretrained(out / name)
        tok.save_pretrained(out / name)
    if pooling:
        meta: dict[str, object] = {"pooling": pooling}
        if passage_context is not None:
            meta["passage_context"] = passage_context
        (out / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def pair_dir(tiny_sbert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_pair(tiny_sbert_dir, tmp_path_factory.mktemp("dpr-pair"))


def scorer(pair: Path, **kw: object) -> DPRScorer:
    return DPRScorer(model=str(pair), device="cpu", precision="fp32", **kw)  # type: ignore[arg-type]


def test_conversion_copies_every_bert_weight(tiny_sbert_dir: Path) -> None:
    import torch
    from transformers import BertModel

    bert = BertModel.from_pretrained(transformer_folder(str(tiny_sbert_dir)), add_pooling_layer=False)
    q, c, _ = dpr_pair_from_bert(str(tiny_sbert_dir))
    reference = bert.state_dict()
    for inner in (q.question_encoder.bert_model, c.ctx_encoder.bert_model):
        state = inner.state_dict()
        assert state.keys() == reference.keys()
        assert all(torch.equal(state[k], reference[k]) for k in reference)
    # the two encoders are separate copies: training one must not move the other
    assert (q.question_encoder.bert_model.embeddings.word_embeddings.weight.data_ptr()
            != c.ctx_encoder.bert_model.embeddings.word_embeddings.weight.data_ptr())


def test_round_trip_scores_equal_in_memory_encoders(tiny_sbert_dir: Path, pair_dir: Path) -> None:
    """Scores of the saved-and-reloaded pair equal the dot products of the in-memory encoders with
    masked mean pooling (computed here by hand)."""
    import torch

    q, c, tok = dpr_pair_from_bert(str(tiny_sbert_dir))
    q.eval(), c.eval()                        # freshly built modules are in training mode

    def mean_embed(model: object, inner: str, texts: list[str]) -> np.ndarray:
        enc = tok(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            hidden = getattr(model, inner)(**enc, return_dict=True).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        return ((hidden * mask).sum(1) / mask.sum(1)).numpy()

    question = "What river flows through Paris?"
    expected = mean_embed(c, "ctx_encoder", SENTENCES) @ mean_embed(q, "question_encoder", [question])[0]
    got = scorer(pair_dir).score(ScoringBatch([SENTENCES], [question], [0]))[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_scores_have_the_shape_and_order_of_each_context(pair_dir: Path) -> None:
    s = scorer(pair_dir)
    contexts = [SENTENCES, SENTENCES[::-1][:3], ["One sentence only."]]
    questions = ["Where is Paris?", "What marks the spot?", "How many people?", "Anything?"]
    out = s.score(ScoringBatch(contexts, questions, [0, 1, 0, 2]))
    assert [len(o) for o in out] == [4, 3, 4, 1]
    # every score is E_Q(question) . E_P(sentence) of that question's own context, in its order
    q_emb = s.encode_questions(questions)
    for q, c in enumerate([0, 1, 0, 2]):
        np.testing.assert_allclose(out[q], s.encode_passages(list(contexts[c])) @ q_emb[q],
                                   rtol=1e-4, atol=1e-4)
    # reversing a context reverses its scores
    reversed_out = s.score(ScoringBatch([SENTENCES[::-1]], ["Where is Paris?"], [0]))[0]
    np.testing.assert_allclose(reversed_out, out[0][::-1], rtol=1e-4, atol=1e-4)


def test_question_and_passage_encoders_differ_after_training_like_change(pair_dir: Path,
                                                                        tmp_path: Path) -> None:
    """The scorer really uses two encoders: changing only the ctx encoder changes the scores but
    not the question vectors."""
    import shutil

    from transformers import DPRContextEncoder

    changed = tmp_path / "pair"
    shutil.copytree(pair_dir, changed)
    ctx = DPRContextEncoder.from_pretrained(changed / CTX_DIR)
    ctx.ctx_encoder.bert_model.encoder.layer[0].intermediate.dense.weight.data.mul_(3.0)
    ctx.save_pretrained(changed / CTX_DIR)
    a, b = scorer(pair_dir), scorer(changed)
    np.testing.assert_allclose(a.encode_questions(["Why?"]), b.encode_questions(["Why?"]), atol=1e-6)
    assert not np.allclose(a.encode_passages(SENTENCES), b.encode_passages(SENTENCES), atol=1e-3)


def test_refuses_a_plain_bert_folder(tiny_sbert_dir: Path) -> None:
    bert = transformer_folder(str(tiny_sbert_dir))
    s = DPRScorer(question_model=bert, ctx_model=bert, device="cpu")
    with pytest.raises(ConfigError, match="plain 'bert' model"):
        s.score(ScoringBatch([SENTENCES], ["Where?"], [0]))


def test_refuses_swapped_encoders(pair_dir: Path) -> None:
    s = DPRScorer(question_model=str(pair_dir / CTX_DIR), ctx_model=str(pair_dir / QUESTION_DIR),
                  device="cpu")
    with pytest.raises(ConfigError, match="weights are not in the checkpoint"):
        s.score(ScoringBatch([SENTENCES], ["Where?"], [0]))


def test_pair_resolution(pair_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    q, c, pooling = resolve_pair(str(pair_dir))
    assert (Path(q).name, Path(c).name, pooling) == (QUESTION_DIR, CTX_DIR, "mean")
    # offline, a hub pair is refused at once, with the reason
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="not a local folder, and the hub is switched off"):
        resolve_pair("facebook/dpr-single-nq-base")
    # with the hub reachable, the public pairs resolve to their two encoders
    from ids_extract.models import hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "_hub_reachable", lambda: True)
    assert resolve_pair("facebook/dpr-single-nq-base") == (
        "facebook/dpr-question_encoder-single-nq-base", "facebook/dpr-ctx_encoder-single-nq-base",
        "cls")
    assert resolve_pair("facebook/dpr-question_encoder-multiset-base")[1] == \
        "facebook/dpr-ctx_encoder-multiset-base"
    with pytest.raises(ConfigError, match="needs a model"):
        build_scorer("dpr")
    with pytest.raises(ConfigError, match="not a DPR pair folder"):
        resolve_pair(str(tmp_path))
    with pytest.raises(ConfigError, match="not a DPR hub name"):
        resolve_pair("someone/bert-base")


def test_plain_dpr_checkpoint_uses_cls_pooling(tiny_sbert_dir: Path, tmp_path: Path) -> None:
    pair = save_pair(tiny_sbert_dir, tmp_path / "plain", pooling=None)
    s = scorer(pair)
    assert s.pooling == "cls"
    mean = scorer(save_pair(tiny_sbert_dir, tmp_path / "mean"))
    assert not np.allclose(s.encode_passages(SENTENCES), mean.encode_passages(SENTENCES))


def test_dpr_joins_fusion_in_the_extractor(pair_dir: Path, squad_file: Path) -> None:
    ex = Extractor([build_scorer("bm25"), scorer(pair_dir)], "top-k:1", quiet=True)
    result = ex.run(load(squad_file))
    recall = result.ranking.recall_pct
    assert {"bm25", "dpr", "fused"} <= set(recall)
    assert ex.config()["fusion"]["weights"] == {"bm25": 1.0, "dpr": 1.0}
    assert result.levels[0].dataset.num_questions == 6


def test_cli_extract_with_dpr(pair_dir: Path, squad_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(app, ["extract", str(squad_file), "--out", str(out), "--scorers",
                               "bm25,dpr", "--dpr-model", str(pair_dir), "--levels", "top-k:2",
                               "--precision", "fp32", "--quiet"])
    assert done.exit_code == 0, done.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["config"]["scorers"]] == ["bm25", "dpr"]
    missing = runner.invoke(app, ["extract", str(squad_file), "--out", str(tmp_path / "x"),
                                  "--scorers", "bm25,dpr", "--quiet"])
    assert missing.exit_code == 2
    assert "--dpr-model" in missing.output
    assert not (tmp_path / "x").exists()


def test_passage_pairs_give_each_sentence_the_ones_before_it() -> None:
    assert passage_pairs(["A.", "B.", "C."], 1) == [("A.", ""), ("B.", "A."), ("C.", "B.")]
    assert passage_pairs(["A.", "B.", "C."], 2)[2] == ("C.", "A. B.")


def test_passage_context_pair_encodes_each_sentence_with_the_one_before(
        tiny_sbert_dir: Path, pair_dir: Path, tmp_path: Path) -> None:
    """A pair trained with passage_context 1 (recorded in its metadata) scores a sentence by the
    encoding of (sentence, previous sentence) as two segments, so the same sentence scores
    differently after different sentences; without context, the same weights ignore them."""
    import torch

    ctx_pair = save_pair(tiny_sbert_dir, tmp_path / "ctx-pair", passage_context=1)
    with_ctx, plain = scorer(ctx_pair), scorer(pair_dir)
    assert with_ctx.passage_context == 1 and plain.passage_context == 0
    assert with_ctx.config()["passage_context"] == 1
    question = "Where is Paris?"
    got = with_ctx.score(ScoringBatch([SENTENCES], [question], [0]))[0]
    # by hand: the ctx encoder on tokenizer(sentence, previous) pairs, masked mean pooling
    _, c, tok = dpr_pair_from_bert(str(tiny_sbert_dir))
    c.eval()
    enc = tok(SENTENCES, ["", *SENTENCES[:-1]], padding=True, return_tensors="pt")
    assert (enc["token_type_ids"] == 1).any()
    with torch.no_grad():
        hidden = c.ctx_encoder(**enc, return_dict=True).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    expected = ((hidden * mask).sum(1) / mask.sum(1)).numpy() @ with_ctx.encode_questions([question])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # the last sentence after another sentence scores differently; without context it does not
    moved = [SENTENCES[0], SENTENCES[3]]
    a = with_ctx.score(ScoringBatch([moved], [question], [0]))[0][1]
    assert abs(a - got[3]) > 1e-4
    b = plain.score(ScoringBatch([moved], [question], [0]))[0][1]
    c_plain = plain.score(ScoringBatch([SENTENCES], [question], [0]))[0][3]
    assert abs(b - c_plain) < 1e-4


def test_onnx_runtime_gives_the_torch_scores(pair_dir: Path, tiny_sbert_dir: Path,
                                              tmp_path: Path) -> None:
    from ids_extract.errors import ConfigError
    from ids_extract.select.units import ScoringBatch

    batch = ScoringBatch([SENTENCES], ["What river flows through Paris?", "How many people?"],
                         [0, 0])
    torch_ = scorer(pair_dir, backend="torch")
    onnx32 = scorer(pair_dir, backend="onnx")
    int8 = DPRScorer(model=str(pair_dir), device="cpu")  # auto: int8 ONNX Runtime on a CPU
    assert (torch_.backend, onnx32.backend, int8.backend) == ("torch", "onnx", "onnx")
    assert int8.precision == "int8" and int8.config()["backend"] == "onnx"
    assert "backend" not in torch_.config()
    for a, b in zip(torch_.score(batch), onnx32.score(batch), strict=True):
        assert np.allclose(a, b, atol=1e-4)
    for a, b in zip(torch_.score(batch), int8.score(batch), strict=True):
        assert np.corrcoef(a, b)[0, 1] > 0.9
    context = save_pair(tiny_sbert_dir, tmp_path / "ctx", passage_context=1)
    assert DPRScorer(model=str(context), device="cpu").backend == "torch"  # two segments
    with pytest.raises(ConfigError, match="mean-pooled pair without passage context"):
        DPRScorer(model=str(context), device="cpu", backend="onnx")
