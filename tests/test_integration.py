"""On a real slice of SQuAD dev with the real default models (skipped without ../shared)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ids_extract import Extractor, load
from ids_extract.pipeline.engine import extract_to_dir
from ids_extract.pipeline.validate import validate_dir

from .conftest import DEV

pytestmark = pytest.mark.skipif(not DEV.exists(), reason="../shared/data not present")


def test_dev_slice_bm25_sbert(tmp_path: Path) -> None:
    ex = Extractor(["bm25", "sbert"], "ratio:0.5,tokens:128,tokens:64", quiet=True,
                   scorer_options={"sbert": {"device": "cpu"}})
    extract_to_dir(ex, str(DEV), tmp_path, limit=150)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    recall = manifest["ranking"]["top_k_recall_pct"]
    assert manifest["ranking"]["answerable"] == 150
    assert recall["fused"]["top1"] >= 70 and recall["bm25"]["top3"] >= 90
    assert all(c.ok for c in validate_dir(tmp_path))
    levels = {lv["name"]: lv["stats"] for lv in manifest["levels"]}
    assert levels["D3-tokens64"]["kept_tokens"]["mean"] < levels["D2-tokens128"]["kept_tokens"][
        "mean"] <= 128
    assert levels["D1-ratio0.5"]["compression"]["p10"] >= 0.5
    original = {qa.id for _, _, qa in load(DEV).limit(150).iter_qas()}
    assert {qa.id for _, _, qa in load(tmp_path / "D2-tokens128.json").iter_qas()} == original
