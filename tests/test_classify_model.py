"""The classifier: what it reads of a text (head, head+tail, windows), its folder, one run per
folder (skip, refuse, overwrite), seeds, smaller sizes, and averaged window logits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ids_extract.errors import ConfigError
from ids_extract.models.classifier.features import ClassifierConfig, encode
from ids_extract.models.classifier.folder import load_classifier, read_meta
from ids_extract.models.classifier.predict import feature_logits, predict, text_logits
from ids_extract.models.classifier.train import train_classifier
from ids_extract.models.training import TrainConfig
from ids_extract.textcls import load

from .conftest import CONTEXT, cls_rows, write_rows

FAST = TrainConfig(max_steps=2, batch_size=4, learning_rate=1e-3, precision="fp32", device="cpu",
                   save_steps=1)


def _tokenizer(folder: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder)


def test_reading_modes(tiny_tokenizer_dir: Path) -> None:
    tok = _tokenizer(tiny_tokenizer_dir)
    full = tok(CONTEXT)["input_ids"]
    assert len(full) > 40
    head = encode(tok, [CONTEXT], ClassifierConfig(24, "head")).inputs[0]["input_ids"]
    assert head == full[:23] + [full[-1]]
    cfg = ClassifierConfig(24, "headtail", head_ratio=0.25)
    both = encode(tok, [CONTEXT], cfg).inputs[0]["input_ids"]
    assert len(both) == 24
    assert both[:7] == full[:7] and both[7:] == full[-17:]  # [CLS] + 6 head, 16 tail + [SEP]
    windows = encode(tok, [CONTEXT, "Paris."], ClassifierConfig(24, "windows", overlap=4),
                     offsets=True)
    first = [i for i, t in enumerate(windows.text_index) if t == 0]
    assert len(first) > 1 and windows.text_index[-1] == 1
    seen = {o for f in first for o in windows.offsets[f] if o is not None}
    assert len(seen) == len(full) - 2  # every token of the text is in some window
    for f in first:
        for o, i in zip(windows.offsets[f], windows.inputs[f]["input_ids"], strict=True):
            if o is not None and i != tok.unk_token_id:
                assert tok.convert_ids_to_tokens(i).lstrip("#") in CONTEXT[o[0]:o[1]].lower()


def test_bad_reading_settings() -> None:
    for bad in (ClassifierConfig(128, "tail"), ClassifierConfig(3), ClassifierConfig(64,
                head_ratio=1.5), ClassifierConfig(64, "windows", overlap=62)):
        with pytest.raises(ConfigError):
            bad.check()


def test_folder_records_the_run_and_predicts(tiny_classifier_dir: Path) -> None:
    meta = read_meta(tiny_classifier_dir)
    assert meta["labels"] == ["normans", "paris"]
    assert meta["classifier"]["max_seq_length"] == 32 and meta["summary"]["steps"] == 3
    assert meta["run_config"]["init"]["sha256"] != "hub"
    assert not (tiny_classifier_dir / "checkpoints").exists()
    clf = load_classifier(str(tiny_classifier_dir), "cpu")
    texts = [r["text"] for r in cls_rows()]
    found = predict(clf, texts)
    assert set(found.labels) <= set(clf.labels) and found.probs.shape == (8, 2)
    assert np.allclose(found.probs.sum(axis=1), 1)


def test_windows_average_the_window_logits(tiny_classifier_dir: Path) -> None:
    clf = load_classifier(str(tiny_classifier_dir), "cpu")
    text = CONTEXT + " " + CONTEXT
    enc = encode(clf.tokenizer, [text], clf.config, "windows")
    per_window = feature_logits(clf, enc.inputs)
    assert per_window.shape[0] > 1
    mean, counts = text_logits(clf, [text], "windows")
    assert counts.tolist() == [per_window.shape[0]]
    assert np.allclose(mean[0], per_window.mean(axis=0), atol=1e-5)
    head, _ = text_logits(clf, [text], "head")
    assert np.allclose(head[0], per_window[0], atol=1e-5)  # the head is the first window


def test_one_run_per_folder(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    data = load(write_rows(tmp_path / "t.jsonl", cls_rows()))
    out = tmp_path / "m"
    cfg = ClassifierConfig(32, "headtail")
    first = train_classifier(data, str(tiny_encoder_dir), out, cfg, FAST, quiet=True)
    assert not first.skipped and first.steps == 2 and first.features == 8
    weights = (out / "model.safetensors").read_bytes()
    again = train_classifier(data, str(tiny_encoder_dir), out, cfg, FAST, quiet=True)
    assert again.skipped and (out / "model.safetensors").read_bytes() == weights
    with pytest.raises(ConfigError, match="mode: \"headtail\" -> \"head\""):
        train_classifier(data, str(tiny_encoder_dir), out, ClassifierConfig(32, "head"), FAST,
                         quiet=True)
    redone = train_classifier(data, str(tiny_encoder_dir), out, ClassifierConfig(32, "head"), FAST,
                              quiet=True, overwrite=True)
    assert not redone.skipped and read_meta(out)["classifier"]["mode"] == "head"


def test_seed_windows_and_smaller_backbone(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    data = load(write_rows(tmp_path / "t.jsonl", cls_rows()))
    cfg = ClassifierConfig(16, "windows", overlap=4, init_layers=1)
    a = train_classifier(data, str(tiny_encoder_dir), tmp_path / "a", cfg, FAST, quiet=True)
    train_classifier(data, str(tiny_encoder_dir), tmp_path / "b", cfg, FAST, quiet=True)
    assert a.features > len(data)  # one training feature per window
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == \
        (tmp_path / "b" / "model.safetensors").read_bytes()  # same seed, same weights
    config = json.loads((tmp_path / "a" / "config.json").read_text(encoding="utf-8"))
    assert config["num_hidden_layers"] == 1
    assert read_meta(tmp_path / "a")["classifier"]["init_layers"] == 1


def test_refusals(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a text classifier"):
        load_classifier(str(tiny_encoder_dir), "cpu")
    one = load(write_rows(tmp_path / "one.jsonl", [{"id": "a", "text": "x y", "label": "z"}]))
    with pytest.raises(ConfigError, match="one label only"):
        train_classifier(one, str(tiny_encoder_dir), tmp_path / "m", ClassifierConfig(), FAST)
    unlabelled = load(write_rows(tmp_path / "u.jsonl", [{"id": "a", "text": "x y"}]),
                      labels="optional")
    with pytest.raises(ConfigError, match="needs a label"):
        train_classifier(unlabelled, str(tiny_encoder_dir), tmp_path / "m", ClassifierConfig(),
                         FAST)
