"""A tokenizer without transformers: the model folder's ``tokenizer.json`` run by the
``tokenizers`` library, which is what a transformers fast tokenizer runs inside.

Importing transformers (and with it torch) takes seconds; a budget needs only token counts,
offsets and the number of special tokens. :class:`RustTokenizer` offers exactly the part of a fast
tokenizer's interface that :mod:`ids_extract.select.budget` and :mod:`ids_extract.select.cut` use,
with the same counts and offsets (tests/test_compress_cli.py checks them against transformers on
dev-v1.1 contexts). A model without a ``tokenizer.json`` gets the transformers tokenizer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..select.budget import check_room
from ..select.levels import Level, parse_budget, parse_level
from .hub import load_tokenizer, resolve_model, transformer_folder
from .openai_tokens import is_tiktoken, load_tiktoken

TOKENIZER_FILE = "tokenizer.json"


class RustTokenizer:
    """The budget's view of a fast tokenizer: ``tokenizer(texts, add_special_tokens=...,
    return_offsets_mapping=...)``, ``num_special_tokens_to_add(pair)`` and ``backend_tokenizer``
    (truncation and padding off, as a budget counts whole texts)."""

    def __init__(self, backend: Any) -> None:
        backend.no_truncation()
        backend.no_padding()
        self.backend_tokenizer = backend

    @classmethod
    def from_file(cls, path: str | Path) -> RustTokenizer:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(path)))

    def __call__(self, text: str | Sequence[str], add_special_tokens: bool = True,
                 return_offsets_mapping: bool = False, **_: Any) -> dict[str, Any]:
        """``input_ids`` (and ``offset_mapping``) of one text or a list of them, as a fast
        tokenizer returns them; other keyword arguments (masks, verbosity) are not needed."""
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        encodings = self.backend_tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": [e.ids for e in encodings]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encodings]
        return {k: v[0] for k, v in out.items()} if single else out

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return int(self.backend_tokenizer.num_special_tokens_to_add(pair))


@lru_cache(maxsize=8)
def load_light_tokenizer(name: str | None = None) -> Any:
    """The tokenizer a budget names (``None``: the default model's), without importing
    transformers when the model folder has a ``tokenizer.json``; ``tiktoken:ENCODING`` an
    OpenAI encoding (:mod:`.openai_tokens`)."""
    if is_tiktoken(name):
        assert name is not None
        return load_tiktoken(name)
    folder = Path(transformer_folder(resolve_model(name)))
    if (folder / TOKENIZER_FILE).is_file():
        return RustTokenizer.from_file(folder / TOKENIZER_FILE)
    return load_tokenizer(name)


@dataclass
class Tokenizers:
    """Which tokenizer counts: ``base`` every unit (statistics, ``ratio``/``max-ratio``
    levels), ``levels[str(level)]`` a ``tokens:L`` level's own (absent: ``base``)."""

    base: Any
    levels: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, levels: Sequence[Level], base: str | None = None) -> Tokenizers:
        """``base`` (None: the default model's) and every ``tokens:L@name`` level's tokenizer,
        loaded now by the one loader (:func:`load_light_tokenizer`): a name that cannot be
        loaded is a :class:`ConfigError` before any work, not after scoring."""
        names = {str(lv): lv.tokenizer or base for lv in levels if lv.kind == "tokens"}
        loaded: dict[str | None, Any] = {}
        for name in {*names.values(), base}:
            try:
                loaded[name] = load_light_tokenizer(name)
            except (OSError, ValueError) as err:
                what = f"tokenizer {name!r}" if name else "the default tokenizer"
                raise ConfigError(f"{what} cannot be loaded ({str(err).splitlines()[0]}); give "
                                  "a tokenizer folder, or a hub name with internet") from None
        return cls(loaded[base], {level: loaded[name] for level, name in names.items()})


def levels_with_tokenizers(specs: str | Sequence[str | Level], base: str | None = None, *,
                           budgets: bool = False, room_for: Sequence[str] | None = None,
                           texts: Sequence[str] | None = None
                           ) -> tuple[list[Level], Tokenizers]:
    """The levels named by ``specs`` (each a :class:`Level` or its text; ``budgets``: read as
    ``compress`` budgets, :func:`~ids_extract.select.levels.parse_budget`) and the tokenizers
    that count them: one path from a level's text to what counts it, for every entry point.
    With ``room_for`` (queries) each level's room is checked now, by its own tokenizer
    (:func:`~ids_extract.select.budget.check_room`; ``texts`` for ``max-ratio``)."""
    given = specs.split(",") if isinstance(specs, str) else list(specs)
    parse = parse_budget if budgets else parse_level
    levels = [s if isinstance(s, Level) else parse(s) for s in given
              if isinstance(s, Level) or s.strip()]
    if not levels:
        raise ConfigError("no levels given")
    if len({lv.name for lv in levels}) != len(levels):
        raise ConfigError(f"levels {specs!r}: a level is given twice")
    tokenizers = Tokenizers.load(levels, base)
    for level in levels if room_for is not None else []:
        check_room(level, room_for or [], tokenizers.levels.get(str(level), tokenizers.base),
                   texts=texts)
    return levels, tokenizers
