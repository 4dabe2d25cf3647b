"""The extractor that ships with the package (``squad-en``, issue 32): it is there after the
install, its files are what its card and ``extractor.json`` record, a changed file is refused,
and the defaults use it (the monkeypatched variants of the default are in
``tests/test_train_extractor.py``; these read the real shipped folder)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ids_extract import compress
from ids_extract.errors import ConfigError
from ids_extract.models.hub import content_hash
from ids_extract.pipeline.pretrained import (
    DEFAULT_EXTRACTOR,
    DEFAULT_PROFILE,
    FILE,
    load_spec,
    shipped_extractors,
)

from .conftest import CONTEXT


@pytest.fixture(scope="module")
def folder() -> Path:
    found = shipped_extractors()
    assert DEFAULT_EXTRACTOR in found, f"the package ships {sorted(found)}, not squad-en"
    return found[DEFAULT_EXTRACTOR]


def card_hashes(folder: Path) -> dict[str, tuple[str, str]]:
    """The card's table of models: key -> (path, content sha256)."""
    rows = re.findall(r"^\| (\S+) \| `([^`]+)` \| [\d.]* \| `([0-9a-f]{64})` \|$",
                      (folder / "README.md").read_text(encoding="utf-8"), flags=re.M)
    return {key: (path, sha) for key, path, sha in rows}


def test_the_default_extractor_ships_within_100_mb(folder: Path) -> None:
    spec = load_spec(DEFAULT_EXTRACTOR)  # every recorded hash checked on load
    assert spec.folder.resolve() == folder.resolve()
    assert {"fast", "best"} <= set(spec.profiles) and DEFAULT_PROFILE == "fast"
    assert spec.info["packaged"]["int8"]
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size <= 100e6, f"{size / 1e6:.1f} MB"
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert re.search(r"train-v1\.1-subset44\.json`, sha256 `[0-9a-f]{64}`", card)  # its data


def test_the_files_are_what_the_card_records(folder: Path) -> None:
    spec = load_spec(folder, check=False)
    card = card_hashes(folder)
    models = {k: r for k, r in spec.models.items() if "path" in r}
    assert set(card) == set(models) and models
    for key, (path, sha) in card.items():
        assert path == models[key]["path"] and sha == models[key]["sha256"], key
        assert content_hash(str(folder / path)) == sha, f"{key}: {path} differs from its card"
    assert "ids-extract train-extractor" in (folder / "README.md").read_text(encoding="utf-8")


def test_a_changed_shipped_file_is_refused(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "squad-en"
    shutil.copytree(folder, copy)
    load_spec(copy)  # a copy elsewhere is the same extractor
    key, (path, _) = sorted(card_hashes(copy).items())[0]
    target = copy / path
    model = target if target.is_file() else sorted(p for p in target.rglob("*.onnx")
                                                   or target.rglob("*") if p.is_file())[0]
    with model.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ConfigError, match=f"'{key}'.*changed"):
        load_spec(copy)
    (copy / FILE).write_text((folder / FILE).read_text(encoding="utf-8") + " ", encoding="utf-8")
    with pytest.raises(ConfigError):  # still refused: the model is still changed
        load_spec(copy)


def test_compress_uses_it_with_no_argument() -> None:
    from ids_extract.apps.compress import pretrained_selector, selector_for

    selector_for.cache_clear()
    question = "Who led the Norse raiders?"
    plain = compress(question, CONTEXT, "tokens:128")
    named = compress(question, CONTEXT, "tokens:128", extractor=DEFAULT_EXTRACTOR,
                     profile=DEFAULT_PROFILE)
    assert plain == named and plain.kept and "Rollo" in plain.text
    assert selector_for.cache_info().currsize == 0  # no scorers of its own were built
    assert pretrained_selector.cache_info().currsize >= 1


def test_a_profile_checks_only_the_models_it_reads(folder: Path, tmp_path: Path) -> None:
    """The fast profile reads no sbert: a different installed MiniLM (its recorded hash no
    longer matching) must not refuse the default; the whole extractor, which reads it, is."""
    import json

    from ids_extract.pipeline.selector import Selector

    copy = tmp_path / "squad-en"
    shutil.copytree(folder, copy)
    raw = json.loads((copy / FILE).read_text(encoding="utf-8"))
    raw["models"]["sbert"]["sha256"] = "0" * 64
    (copy / FILE).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match="'sbert'.*changed"):
        load_spec(copy)
    fast = Selector.from_pretrained(copy, "cpu", DEFAULT_PROFILE)
    assert "sbert" not in [s.name for s in fast.scorers]
    with pytest.raises(ConfigError, match="'sbert'.*changed"):
        Selector.from_pretrained(copy, "cpu", None)
