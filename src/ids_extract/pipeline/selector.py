"""How units are scored, as one object: the scorers, their fusion, the cascade and the segmenter.

Built once per configuration (:meth:`Selector.build` from names and options, or
:meth:`Selector.from_pretrained` from a ``train-extractor`` folder) and then reused: its scorers
hold their loaded models, so ``compress`` keeps one per configuration, and the extractors and
benches hand one to the driver (:mod:`.driver`). Its :meth:`config` is what the scores depend on
(the score cache's key and the manifest's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import defaults
from ..errors import ConfigError
from ..progress import Meter
from ..scorers import Scorer, build_scorer
from ..select.cascade import Cascade
from ..select.fusion import Fusion, WeightedFusion, parse_weights
from ..select.learned import LearnedFusion
from ..select.segment import check_segmenter
from ..select.units import Units
from .scoring import Scored, score_cached, score_units

if TYPE_CHECKING:
    from .pretrained import LoadedExtractor

FUSIONS: tuple[str, ...] = ("weighted", "learned")


@dataclass
class Selector:
    """Scorers (each once), their fusion, an optional cascade over them, and the segmenter that
    cuts texts into the units they score."""

    scorers: list[Scorer]
    fusion: Fusion
    cascade: Cascade | None = None
    segmenter: str = defaults.SEGMENTER
    #: the trained extractor it was loaded from: its name (a shipped one's) or folder, the
    #: sha256 of its ``extractor.json`` (which holds every model's content hash) and the profile
    origin: dict[str, Any] | None = None

    @classmethod
    def build(cls, scorers: Sequence[str | Scorer], *, task: str = "qa",
              options: Mapping[str, Mapping[str, Any]] | None = None,
              weights: Mapping[str, float] | str | None = None, fusion: str = "weighted",
              fusion_model: Any = None, cascade: Cascade | int | None = None,
              segmenter: str = defaults.SEGMENTER) -> Selector:
        """Scorers by name (built with ``options[name]``) or given built; ``weights`` for the
        weighted fusion, or ``fusion="learned"`` with a model; ``cascade`` a :class:`Cascade` or
        its k (every scorer that is not cheap reads only the cheap ones' top k units). Every
        problem is a :class:`ConfigError` here, before any work."""
        segmenter = check_segmenter(segmenter)
        given = options or {}
        built = [s if isinstance(s, Scorer) else build_scorer(s, task=task, **given.get(s, {}))
                 for s in scorers]
        if not built:
            raise ConfigError("no scorers given")
        names = [s.name for s in built]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"scorer {', '.join(twice)} given twice: each scorer once")
        fuser = _fusion(fusion, fusion_model, weights, names)
        if isinstance(cascade, int):
            cascade = Cascade.over(cascade, names, [s.cheap for s in built])
        elif cascade is not None:
            cascade = cascade.check(names)
        return cls(built, fuser, cascade, segmenter)

    @classmethod
    def from_pretrained(cls, where: str | Path | LoadedExtractor, device: str | None = None,
                        profile: str | None = None, *, cascade_k: int | None = None) -> Selector:
        """The selector of a ``train-extractor`` folder (or of an ``extractor.json``, or of a
        loaded :class:`~.trained.TrainedExtractor`, whose :meth:`~.trained.TrainedExtractor.
        selector` this is): its scorers with their models (checked by content hash), fusion,
        cascade and segmenter; or those of one of its ``profile``s (``fast``, ``best``: chosen
        on held-out articles). ``cascade_k``: when it has no cascade of its own, the scorers
        that are not cheap read only the cheap ones' top ``cascade_k`` units (as ``compress``
        does with its own scorers)."""
        from .pretrained import load_spec, origin_of, verify

        if isinstance(where, str | Path):
            spec = load_spec(where, check=False).profile(profile)
            verify(spec)  # the models this profile reads
        else:
            where.check(profile)
            spec = where.spec.profile(profile)
        learned = spec.fusion_model()
        built = cls.build(spec.scorer_names(), options=spec.scorer_options(device),
                          fusion="learned" if learned is not None else "weighted",
                          fusion_model=learned, weights=spec.fusion.get("weights"),
                          cascade=Cascade.from_config(spec.cascade), segmenter=spec.segmenter)
        if built.cascade is None and cascade_k:
            cheap = [s.cheap for s in built.scorers]
            built.cascade = Cascade.over(cascade_k, built.names, cheap)
        built.origin = origin_of(str(where), spec, profile)
        return built

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scorers]

    def config(self) -> dict[str, Any]:
        """What the scores depend on: segmenter, every scorer's config (model content hashes
        included), the fusion and the cascade when there is one."""
        return {"segmenter": self.segmenter, "scorers": [s.config() for s in self.scorers],
                "fusion": self.fusion.config(),
                **({"cascade": self.cascade.config()} if self.cascade else {}),
                **({"extractor": self.origin} if self.origin else {})}

    def score(self, units: Units, *, cache: Path | None = None, chunk_size: int = 4096,
              quiet: bool = True, meter: Meter | None = None) -> Scored:
        """Every scorer over the units, then fused: in one pass of batches of whole documents
        (:func:`.scoring.score_units`: the engines, which keep whole passes per shard), or,
        with ``cache``, one scorer at a time, each kept in that folder on its own
        (:func:`.scoring.score_cached`: held-out scoring and the benches)."""
        if cache is not None:
            return score_cached(units, self.scorers, self.fusion, cache, cascade=self.cascade,
                                quiet=quiet)
        return score_units(units, self.scorers, self.fusion, chunk_size=chunk_size, quiet=quiet,
                           meter=meter, cascade=self.cascade)


def _fusion(method: str, model: Any, weights: Mapping[str, float] | str | None,
            names: Sequence[str]) -> Fusion:
    """``weighted`` (z-scores and weights) or ``learned`` (a :class:`LearnedFusion`, a path or a
    name); the learned model must have been fitted on scorers that are all given."""
    if method not in FUSIONS:
        raise ConfigError(f"fusion {method!r}: choose from {', '.join(FUSIONS)}")
    if method == "weighted":
        if model is not None:
            raise ConfigError("a fusion model is only used with fusion='learned'")
        given = (parse_weights(weights, names) if isinstance(weights, str) or weights is None
                 else {n: float(weights.get(n, 1.0)) for n in names})
        return WeightedFusion(names, given)
    if model is None:
        raise ConfigError("fusion='learned' needs a fusion model (`fusion_model` PATH or NAME, "
                          "from 'ids-extract fit-fusion')")
    learned = model if isinstance(model, LearnedFusion) else LearnedFusion.load(model)
    missing = [n for n in learned.scorers if n not in names]
    if missing:
        raise ConfigError(f"the learned fusion was fitted on scorers {learned.scorers}: add "
                          f"{missing} to the scorers")
    return learned
