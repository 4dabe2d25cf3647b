"""The classification extractor on the selection core: budgets kept, units in order, markup
dropped, texts that fit left alone; the output folder in the input's format, its manifest, and
resuming (scores cached per shard, finished levels skipped, another config refused)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from ids_extract.errors import ConfigError
from ids_extract.models.hub import load_tokenizer
from ids_extract.pipeline.classify import TextExtractor
from ids_extract.pipeline.classify_output import extract_texts_to_dir
from ids_extract.scorers.base import Scorer, ScoringBatch
from ids_extract.select.budget import count_tokens
from ids_extract.textcls import load

from .conftest import cls_rows, write_rows


class Counting(Scorer):
    """Longest unit first, counting the units it scored (to see what a resumed run redoes)."""

    name = "counting"
    calls: ClassVar[list[int]] = []

    def score(self, batch: ScoringBatch) -> list[np.ndarray]:
        self.calls.append(sum(len(c) for c in batch.contexts))
        return [np.array([len(u) for u in batch.contexts[c]], dtype=float) for c in batch.owner]


def test_levels_on_texts(cls_file: Path, tiny_tokenizer_dir: Path) -> None:
    data = load(cls_file)
    tok = load_tokenizer(str(tiny_tokenizer_dir))
    ex = TextExtractor(["lead"], f"tokens:24@{tiny_tokenizer_dir},top-k:1,ratio:1",
                       stats_tokenizer=str(tiny_tokenizer_dir), quiet=True)
    tokens, top1, whole = ex.run(data)
    units = ex.to_units(data)
    for q, kept in enumerate(tokens.kept):
        assert kept == sorted(kept)
        assert not any(units.fillers[q][i] for i in kept)  # markup never kept in a cut text
        assert count_tokens([tokens.texts[q]], tok)[0] <= 22 or len(kept) == 1
        assert tokens.texts[q].startswith(data.texts[q][:20])  # lead: the head of the text
    assert all(len(k) == 1 for k in top1.kept) and top1.texts[0] == units.unit_texts(0)[0]
    assert whole.texts == data.texts and whole.stats["unchanged_pct"] == 100.0
    assert tokens.stats["kept_tokens"]["mean"] <= 22 and tokens.stats["texts"] == 8
    assert 0 < tokens.stats["compression"]["mean"] < 1


def test_fillers_rank_last_and_threshold_skips_them(cls_file: Path) -> None:
    data = load(cls_file)
    ex = TextExtractor(["headtail"], "threshold:0.0,top-k:3", quiet=True)
    units = ex.to_units(data)
    q = next(i for i, f in enumerate(units.fillers) if any(f))
    everything, three = ex.run(data)
    assert everything.texts[q] == data.texts[q]  # all kept: the markup stays in place
    assert "<br" not in three.texts[q]


def test_options_refused_before_any_work() -> None:
    for bad in ({"levels": "tokens:0"}, {"split": "test"}, {"unit": "word"},
                {"segmenter": "nltk"}, {"scorers": []}, {"scorers": ["lead", "lead"]},
                {"scorers": ["lead"], "weights": "1,2"}, {"scorers": ["bm25"]}):
        with pytest.raises(ConfigError):
            TextExtractor(**{"scorers": ["lead"], **bad})  # type: ignore[arg-type]


def test_output_folder_and_resume(cls_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    Counting.calls.clear()
    ex = TextExtractor([Counting(), "lead"], "tokens:32,ratio:0.5", quiet=True)
    summary = extract_texts_to_dir(ex, str(cls_file), out, shard_size=3)
    assert summary.written == ["D1-tokens32", "D2-ratio0.5"] and len(Counting.calls) == 3
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"]["texts"] == 8 and len(manifest["input"]["sha256"]) == 64
    assert manifest["config"]["scorers"][1] == {"name": "lead"}
    assert manifest["input"]["labels"] == {"normans": 4, "paris": 4}
    level = load(out / "D2-ratio0.5.jsonl")
    original = [json.loads(line) for line in cls_file.read_text(encoding="utf-8").splitlines()]
    rows = [json.loads(line) for line in (out / "D2-ratio0.5.jsonl").read_text().splitlines()]
    assert [(r["id"], r["label"], r["source"]) for r in rows] == \
        [(r["id"], r["label"], r["source"]) for r in original]
    assert all(len(a) < len(b) for a, b in zip(level.texts, load(cls_file).texts, strict=True))
    first = (out / "D1-tokens32.jsonl").read_bytes()

    (out / "D1-tokens32.jsonl").unlink()  # an interrupted run: one level missing
    again = extract_texts_to_dir(ex, str(cls_file), out, shard_size=3)
    assert again.written == ["D1-tokens32"] and again.skipped == ["D2-ratio0.5"]
    assert len(Counting.calls) == 3  # scores came from the cache
    assert (out / "D1-tokens32.jsonl").read_bytes() == first

    other = TextExtractor([Counting(), "lead"], "tokens:32,ratio:0.5", quiet=True, weights="2,1")
    with pytest.raises(ConfigError, match="`overwrite`"):
        extract_texts_to_dir(other, str(cls_file), out, shard_size=3)
    extract_texts_to_dir(other, str(cls_file), out, shard_size=3, overwrite=True)
    assert len(Counting.calls) == 6  # another fusion: scored again


def test_csv_in_csv_out_and_limit(tmp_path: Path) -> None:
    import csv

    source = tmp_path / "t.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["label", "text", "id", "source"])
        writer.writeheader()
        writer.writerows(cls_rows())
    ex = TextExtractor(["lead"], "top-k:1", quiet=True)
    extract_texts_to_dir(ex, str(source), tmp_path / "o", limit=3)
    lines = (tmp_path / "o" / "D1-top-k1.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "label,text,id,source" and len(lines) == 4
    assert load(tmp_path / "o" / "D1-top-k1.csv").ids == ["n0", "p0", "n1"]


def test_train_split_needs_labels(tmp_path: Path) -> None:
    source = write_rows(tmp_path / "u.jsonl", [{"id": "a", "text": "One. Two."}])
    ex = TextExtractor(["lead"], "top-k:1", split="train", quiet=True)
    from ids_extract.errors import DataError

    with pytest.raises(DataError, match="missing label"):
        extract_texts_to_dir(ex, str(source), tmp_path / "o")
    assert not (tmp_path / "o").exists()
    extract_texts_to_dir(TextExtractor(["lead"], "top-k:1", quiet=True), str(source),
                         tmp_path / "o")
    assert load(tmp_path / "o" / "D1-top-k1.jsonl", labels="optional").texts == ["One. "]
