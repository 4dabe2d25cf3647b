"""``package-extractor``: a trained extractor folder made into the folder a package ships.

``train-extractor`` leaves torch weights (90 MB per MiniLM), checkpoints' leftovers, the training
data split and score caches. What users load is much less: each transformer as its **int8 ONNX
graph** (``model-int8.onnx``, with its tokenizer and config: what the scorers run on a CPU
anyway, :mod:`ids_extract.models.onnx`), the static vectors in int8 (a cosine does not see the
one scale it drops), the fusion files, the held-out report and frontier, the stage records, and
a card. ``extractor.json`` is written anew, so every model is recorded with the content hash of
what is shipped, and a changed file is refused on load as for any extractor.

Families without an int8 export (the reader) are copied as they are. The packaged folder scores
exactly as the source folder does with ``backend=auto`` on a CPU (the same int8 graphs).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import atomic_folder, sha256_file
from ..pipeline.pretrained import FILE, ExtractorSpec, load_spec, save_spec

#: the files of a trained folder that a packaged one keeps as they are (besides the models)
KEPT = ("fusion.json", "profiles", "heldout/report.json", "heldout/frontier.json",
        "stages.json", "README.md")


def package(source: str | Path, out: str | Path, *, command: str = "", trained_by: str = "",
            overwrite: bool = False) -> dict[str, Any]:
    """Write the shippable form of the extractor in ``source`` to ``out`` (see the module doc);
    what was written, model by model, with sizes in MB. ``command`` and ``trained_by``: how the
    packaging and the training were asked for, shown in the card (the command line gives its own
    commands; the settings themselves are always in ``extractor.json``)."""
    source, out = Path(source), Path(out)
    spec = load_spec(source)
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists; give overwrite=True to replace it")
    with atomic_folder(out) as tmp:
        sizes = {key: _model(spec, key, tmp) for key, ref in spec.models.items() if "path" in ref}
        for name in KEPT:
            _copy(source / name, tmp / name)
        packaged = {"from": str(source.resolve()), "command": command, "int8": True,
                    "trained_by": trained_by, "sizes_mb": sizes}
        save_spec(replace(spec, folder=tmp, info={**spec.info, "packaged": packaged}), tmp)
        _append_card(tmp, spec, packaged)
    return {"out": str(out), "models_mb": sizes, "total_mb": folder_mb(out)}


def folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 1)


def _family(spec: ExtractorSpec, key: str) -> str:
    """The scorer that reads model ``key`` (its family decides how it is exported)."""
    names = {s.name for s in spec.scorers if s.model == key}
    if spec.reader == key:
        names.add("reader")
    for family in ("cross", "cross-small", "dpr", "static", "reader", "ig"):
        if family in names:
            return "cross" if family == "cross-small" else family
    raise ConfigError(f"{spec.folder / FILE}: model {key!r} is read by no scorer")


def _model(spec: ExtractorSpec, key: str, out: Path) -> float:
    """Export model ``key`` into ``out`` (at its relative path); its size in MB."""
    src = Path(spec.model_path(key))
    dst = out / spec.models[key]["path"]
    family = _family(spec, key)
    if family == "cross":
        _cross(src, dst)
    elif family == "dpr":
        _dpr(src, dst)
    elif family == "static":
        _static(src, dst)
    else:  # no int8 export for this family: shipped as trained
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("checkpoints"))
    return folder_mb(dst)


def _cross(src: Path, dst: Path) -> None:
    from ..models.cross.folder import META_FILE, load_cross
    from ..models.onnx import write_int8

    cross = load_cross(str(src), "cpu", "torch", "fp32")
    write_int8(cross.model, cross.tokenizer, dst, "logits")
    shutil.copy2(src / META_FILE, dst / META_FILE)


def _dpr(src: Path, dst: Path) -> None:
    from transformers import AutoTokenizer

    from ..models.dpr.pair import CTX_DIR, META_FILE, QUESTION_DIR, inner_encoder, load_encoder
    from ..models.onnx import write_int8

    for kind, sub in (("question", QUESTION_DIR), ("ctx", CTX_DIR)):
        encoder = inner_encoder(load_encoder(kind, str(src / sub)))  # type: ignore[arg-type]
        tokenizer = AutoTokenizer.from_pretrained(str(src / sub))
        write_int8(encoder.bert_model, tokenizer, dst / sub)
    shutil.copy2(src / META_FILE, dst / META_FILE)


def _static(src: Path, dst: Path) -> None:
    """The vectors in int8 (model2vec's own quantization: one scale for the matrix, which a
    cosine of mean-pooled vectors does not see)."""
    from model2vec import StaticModel

    from ..models.static.folder import save_static

    model = StaticModel.from_pretrained(str(src), force_download=False, quantize_to="int8")
    save_static(model, dst, base=src.name)


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst)
    elif src.is_file():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _append_card(folder: Path, spec: ExtractorSpec, packaged: dict[str, Any]) -> None:
    """The trained folder's card, with how it was trained and packaged and what each shipped
    model is (path, size, content hash)."""
    card = folder / "README.md"
    text = card.read_text(encoding="utf-8") if card.is_file() else "# ids-extract extractor\n"
    saved = load_spec(folder, check=False)
    lines = ["", "## How this folder was made", "",
             "Trained by (see `extractor.json` → `info.config` for every setting):", "",
             "```bash", packaged["trained_by"] or "(not recorded)", "```", "",
             "Packaged (int8 ONNX graphs, int8 static vectors) by:", "", "```bash",
             packaged["command"] or "(not recorded)", "```", "",
             "| model | path | MB | content sha256 |", "|---|---|---|---|",
             *[f"| {key} | `{ref['path']}` | {packaged['sizes_mb'].get(key, '')} | "
               f"`{ref.get('sha256', '')}` |" for key, ref in saved.models.items()
               if "path" in ref],
             "", f"`extractor.json` sha256 `{sha256_file(folder / FILE)}` (a file that differs "
             "from its recorded hash is refused on load).", ""]
    card.write_text(text.rstrip("\n") + "\n" + "\n".join(lines), encoding="utf-8")
