"""``train-extractor``: the trained extractor as one resumable pipeline of stages in one folder.

1. ``split``: hold out whole articles at the end of the training file (``heldout`` questions; one
   split, shared by every stage), written as ``data/train.json`` and ``data/heldout.json``;
2. ``dpr``, ``reader``, ``cross``: train the dual encoder, the reader and the cross-encoder on the
   rest, each with hard negatives: for ``distractor_rate`` of the questions, the question's
   distractor (:mod:`ids_extract.squad.stress`, made from the training part only) is inserted in
   its context (reader, cross-encoder) or added to its step's sentences (dual encoder);
3. ``score``: score the held-out questions, and their stress set, with every signal;
4. ``fuse``: fit the learned fusion there (clean and stressed questions together, so that a signal
   a distractor fools gets less weight) and measure it by cross-validation over whole articles;
5. ``card``: write ``extractor.json`` (:mod:`ids_extract.pipeline.pretrained`) and the model card
   ``README.md`` (:mod:`.extractor_card`).

Every stage's time and peak memory is recorded (:mod:`.stages`); re-running resumes at the first
unfinished stage, and a trainer killed half-way resumes from its last checkpoint.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ..files import fingerprint, folder_lock, sha256_file
from ..models.cross.folder import InputFormat
from ..models.cross.train import TrainConfig as CrossConfig
from ..models.cross.train import build_groups as cross_groups
from ..models.cross.train import train_cross
from ..models.dpr.train import TrainConfig as DprConfig
from ..models.dpr.train import build_groups as dpr_groups
from ..models.dpr.train import train_retriever
from ..models.hub import HUB_MINILM, model_id, resolve_model
from ..models.qa.features import ReaderConfig
from ..models.qa.train import TrainConfig as ReaderTrainConfig
from ..models.qa.train import train_reader
from ..models.runtime import pick_device
from ..pipeline.pretrained import ExtractorSpec, ScorerSpec, save_spec
from ..pipeline.profiles import Objective, Targets, cascade_of
from ..pipeline.robustness import distractor_units
from ..pipeline.selector import Selector
from ..scorers import options_from
from ..squad.model import SquadDataset
from ..squad.passages import multi_passage
from ..squad.read import load
from ..squad.split import hold_out_articles
from ..squad.stress import StressSet, chosen, mixed, stress_set
from ..squad.units import squad_units
from ..squad.write import write_squad
from . import heldout
from .extractor_card import write_card
from .extractor_config import REFERENCE, TRAINED, ExtractorTrainConfig
from .stages import Record, Stage, read_state, run_stages


class Pipeline:
    """The stages of one run in ``out`` (see the module doc)."""

    def __init__(self, config: ExtractorTrainConfig, out: str | Path, *, device: str = "auto",
                 quiet: bool = False, overwrite: bool = False,
                 keep_checkpoints: bool = False) -> None:
        self.config, self.out = config.check(), Path(out)
        pick_device(device)  # a GPU that is not there is refused before any work
        self.device, self.quiet, self.overwrite = device, quiet, overwrite
        self.keep_checkpoints = keep_checkpoints

    def stages(self) -> list[Stage]:
        """The stages of this run, in order, with the settings that make their keys."""
        c = self.config
        backbone = model_id(resolve_model(c.backbone))
        split = Stage("split", {"data": fingerprint(c.train_file), "heldout": c.heldout,
                                "limit": c.limit, "segmenter": c.segmenter}, self.split,
                      outputs=["data/train.json", "data/heldout.json"])
        hard = {"rate": c.distractor_rate, "seed": c.seed, "precision": c.precision}
        multi = ({"multi_passage": [c.multi_passage_rate, c.multi_passage_others]}
                 if c.multi_passage_rate else {})
        trainers = {
            "dpr": Stage("dpr", {**hard, "backbone": backbone, "epochs": c.dpr_epochs},
                         self.dpr, ["split"], ["dpr"]),
            "reader": Stage("reader", {**hard, "init": model_id(resolve_model(c.reader_init
                                                                              or c.backbone)),
                                       "epochs": c.reader_epochs, "length": c.reader_max_seq_length,
                                       "batch": c.reader_batch_size, "lr": c.reader_learning_rate},
                            self.reader, ["split"], ["reader"]),
            "cross": Stage("cross", {**hard, **multi, "backbone": backbone,
                                     "epochs": c.cross_epochs, "context": c.cross_context,
                                     "candidates": c.cross_candidates,
                                     "length": c.cross_max_length, "layers": c.cross_init_layers},
                           self.cross, ["split"], ["cross"]),
            "cross-small": Stage("cross-small", {**hard, **multi, "backbone": backbone,
                                                 "epochs": c.small_cross_epochs,
                                                 "candidates": self.small_candidates,
                                                 "length": c.small_cross_max_length,
                                                 "layers": c.small_cross_layers,
                                                 **({"distill_weight": c.distill_weight}
                                                    if self.distilled else {})},
                                 self.cross_small,
                                 ["split", *(["cross"] if self.distilled else [])],
                                 ["cross-small"]),
            "static": Stage("static", {"epochs": c.static_epochs, "seed": c.seed,
                                       "segmenter": c.segmenter, "base": c.static_base or
                                       backbone}, self.static,
                            ["split", *(["dpr"] if c.static_base == "dpr" else [])], ["static"]),
        }
        order = [s for s in TRAINED if s in c.signals]
        if c.static_base == "dpr":  # distilled from the trained dual encoder: after it
            order.remove("static")
            order.insert(order.index("dpr") + 1, "static")
        chosen_trainers = [trainers[s] for s in order]
        score = Stage("score", {"signals": list(c.signals), "sbert": c.sbert_model,
                                "ig_steps": c.ig_steps, "seed": c.seed,
                                "precision": c.precision},
                      self.score, ["split", *[t.name for t in chosen_trainers]])
        fuse = Stage("fuse", {"C": c.fusion_c, "cascade": self.cascade_config(),
                              "clean_weight": c.fusion_clean_weight,
                              "nonnegative": c.fusion_nonnegative,
                              "multi_weight": c.fusion_multi_weight},
                     self.fuse, ["score"], ["fusion.json"])
        profiles = Stage("profiles", {"C": c.fusion_c, "k": c.cascade_k,
                                      "depths": sorted({*c.profile_depths, c.cascade_k}),
                                      "clean_weight": c.fusion_clean_weight,
                                      "nonnegative": c.fusion_nonnegative,
                                      "multi_weight": c.fusion_multi_weight,
                                      "reference": list(REFERENCE),
                                      # the rule of pipeline.profiles.choose: each subset with
                                      # its learned fusion or its equal-weight sum
                                      "rule": "fusion per subset",
                                      "targets": asdict(Targets())},
                         self.profiles, ["score"], ["heldout/frontier.json"])
        card = Stage("card", {}, self.card, ["fuse", "profiles"], ["extractor.json", "README.md"])
        return [split, *chosen_trainers, score, fuse, profiles, card]

    def run(self) -> dict[str, Record]:
        """Run (or resume) every stage under the folder's lock (a second run into it is
        refused); the records of all of them (bad input leaves nothing behind: the lock removes
        a folder it made that nothing was written into)."""
        with folder_lock(self.out):
            return run_stages(self.out, self.stages(), overwrite=self.overwrite, quiet=self.quiet)

    # ------------------------------------------------------------------ data

    def split(self) -> dict[str, Any]:
        """Hold out the last whole articles; both parts written as SQuAD files, so every later
        stage (and a resumed run) reads the same split."""
        c = self.config
        rest, held = hold_out_articles(load(c.train_file).limit(c.limit), c.heldout)
        write_squad(rest, self.out / "data" / "train.json")
        write_squad(held, self.out / "data" / "heldout.json")
        return {"train_file": str(Path(c.train_file).resolve()),
                "train_sha256": sha256_file(c.train_file), "train_questions": rest.num_questions,
                "train_articles": len(rest.articles), "heldout_questions": held.num_questions,
                "heldout_articles": [a.title for a in held.articles]}

    @functools.cached_property
    def train_data(self) -> SquadDataset:
        return load(self.out / "data" / "train.json")

    @functools.cached_property
    def hard(self) -> tuple[StressSet, set[str]]:
        """The training part's stress set (made from the training part only) and the questions
        that get their distractor as a hard negative."""
        c = self.config
        stress = stress_set(self.train_data, seed=c.seed, segmenter=c.segmenter, quiet=self.quiet)
        return stress, chosen(stress, c.distractor_rate, c.seed)

    # ------------------------------------------------------------------ trainers

    def dpr(self) -> dict[str, Any]:
        """The dual encoder on the training part; the chosen questions' distractors join their
        step's sentences as negatives no question answers from."""
        c = self.config
        stress, ids = self.hard
        negatives = {q: [stress.inserted[q].distractor.text] for q in ids}
        groups, _ = dpr_groups(self.train_data, c.segmenter, self.quiet, negatives)
        config = DprConfig(train_file=str(self.out / "data" / "train.json"), backbone=c.backbone,
                           epochs=c.dpr_epochs, heldout_questions=0, seed=c.seed,
                           precision=c.precision, segmenter=c.segmenter, save_steps=100)
        summary = train_retriever(config, self.out / "dpr", device=self.device, quiet=self.quiet,
                                  overwrite=self.overwrite, keep_checkpoints=self.keep_checkpoints,
                                  groups=groups)
        return {"steps": summary.steps, "questions": summary.train_questions,
                "hard_negatives": len(negatives), "resumed_from": summary.resumed_from}

    def reader(self) -> dict[str, Any]:
        """The reader on every training question; the chosen ones read their context with the
        distractor inserted, so it learns not to answer from it."""
        c = self.config
        stress, ids = self.hard
        data = mixed(self.train_data, stress, ids)
        train_cfg = ReaderTrainConfig(epochs=c.reader_epochs, batch_size=c.reader_batch_size,
                                      learning_rate=c.reader_learning_rate, seed=c.seed,
                                      device=self.device, precision=c.precision, save_steps=100)
        summary = train_reader(data, c.reader_init or c.backbone, self.out / "reader",
                               ReaderConfig(max_seq_length=c.reader_max_seq_length), train_cfg,
                               overwrite=self.overwrite, quiet=self.quiet,
                               keep_checkpoints=self.keep_checkpoints)
        return {"steps": summary.steps, "features": summary.features, "questions": summary.examples,
                "with_distractor": len(ids), "resumed_from": summary.resumed_from}

    def cross(self) -> dict[str, Any]:
        """The cross-encoder on the training part's units, as the cascade will use it: each
        question scored on a few candidates (its answer unit, its distractor when it was chosen
        for one, then bm25's best others), each read as (question, sentence)."""
        c = self.config
        fmt = InputFormat(before=c.cross_context, after=c.cross_context,
                          max_length=c.cross_max_length)
        return self._cross("cross", fmt, c.cross_epochs, c.cross_init_layers)

    def cross_small(self) -> dict[str, Any]:
        """The small cross-encoder of the fast profiles: MiniLM's first layers, (question,
        sentence) in a few tokens. With ``cross`` trained too it is that model's student: each
        question's ``small_cross_candidates`` candidates carry the teacher's logits
        (:func:`~ids_extract.models.cross.train.teacher_logits`), cached in ``distill/``."""
        c = self.config
        groups = self.groups(self.small_candidates)
        if self.distilled:
            groups = self.taught(groups)
        return self._cross("cross-small", InputFormat(max_length=c.small_cross_max_length),
                           c.small_cross_epochs, c.small_cross_layers, groups)

    @property
    def distilled(self) -> bool:
        return "cross" in self.config.signals

    @property
    def small_candidates(self) -> int:
        c = self.config
        return c.small_cross_candidates if self.distilled else c.cross_candidates

    def taught(self, groups: list[Any]) -> list[Any]:
        """``groups`` with the trained cross-encoder's logits, computed once and kept in
        ``distill/targets.json`` (keyed by the teacher's content and the groups)."""
        from ..files import config_key, write_json
        from ..models.cross.train import teacher_logits
        from ..models.hub import content_hash

        path = self.out / "distill" / "targets.json"
        key = config_key({"teacher": content_hash(str(self.out / "cross")),
                          "groups": [[g.question, g.candidates] for g in groups]})
        if path.is_file():
            saved = json.loads(path.read_text(encoding="utf-8"))
            if saved.get("key") == key:
                return [replace(g, targets=t) for g, t in zip(groups, saved["targets"],
                                                               strict=True)]
        taught = teacher_logits(groups, self.out / "cross", device=self.device,
                                quiet=self.quiet)
        write_json({"key": key, "targets": [g.targets for g in taught]}, path)
        return taught

    def _cross(self, folder: str, fmt: InputFormat, epochs: float, layers: int | None,
               groups: list[Any] | None = None) -> dict[str, Any]:
        c = self.config
        groups = self.groups(c.cross_candidates) if groups is None else groups
        config = CrossConfig(epochs=epochs, seed=c.seed, precision=c.precision,
                             device=self.device, max_candidates=max(len(g.candidates)
                                                                    for g in groups),
                             init_layers=layers, distill_weight=c.distill_weight)
        summary = train_cross(groups, self.out / folder, backbone=c.backbone, fmt=fmt,
                              config=config, overwrite=self.overwrite, quiet=self.quiet,
                              keep_checkpoints=self.keep_checkpoints)
        return {"steps": summary.steps, "questions": summary.questions, "pairs": summary.pairs,
                "with_distractor": len(self.hard[1]), "multi_passage": len(self.multi_ids),
                "resumed_from": summary.resumed_from,
                "seconds_per_step": round(summary.wall_s / max(summary.steps, 1), 3)}

    @functools.cached_property
    def multi_ids(self) -> set[str]:
        """The questions read among other paragraphs of their article (``multi_passage_rate``
        of those without a distractor, drawn per question id)."""
        c = self.config
        hard = self.hard[1]
        return {qa.id for _, _, qa in self.train_data.iter_qas() if qa.id not in hard
                and random.Random(f"{c.seed}:{qa.id}:multi").random() < c.multi_passage_rate}

    @functools.cached_property
    def cross_data(self) -> tuple[Any, Any]:
        """The units the cross-encoders learn from (distractors inserted for the chosen share,
        a share of the rest read among several passages) and bm25's ranking of them."""
        c = self.config
        stress, ids = self.hard
        data = multi_passage(self.train_data, others=c.multi_passage_others, seed=c.seed,
                             ids=self.multi_ids) if self.multi_ids else self.train_data
        units = squad_units(mixed(data, stress, ids), "train", c.segmenter, quiet=self.quiet)
        scored = Selector.build(["bm25"]).score(units, quiet=self.quiet)
        return units, scored.rankings(["bm25"])

    @functools.lru_cache(maxsize=2)  # noqa: B019 (one Pipeline per run)
    def groups(self, candidates: int) -> list[Any]:
        """Each training question's candidates: its answer unit, its distractor when it was
        chosen for one, then bm25's best others (what the cascade hands a cross-encoder)."""
        c = self.config
        stress, ids = self.hard
        units, ranked = self.cross_data
        must = [u if qa.id in ids else None
                for u, qa in zip(distractor_units(units, stress), units.qas, strict=True)]
        return list(cross_groups(units, candidates, c.seed, ranked, must))

    def static(self) -> dict[str, Any]:
        """Static token vectors fine-tuned on the training part (``train-static``'s trainer:
        question against answer sentence, the context's other sentences and the distractor as
        negatives); seconds to minutes, so a killed run trains it again from the start."""
        from ..models.static.train import StaticTrainConfig, train_static

        c = self.config
        base = c.static_base or c.backbone
        if c.static_base == "dpr":  # distilled from the trained dual encoder's passage side
            from ..models.dpr.pair import save_passage_bert

            base = str(save_passage_bert(self.out / "dpr", self.out / "distill" / "dpr-passage"))
        config = StaticTrainConfig(base=base, epochs=c.static_epochs, seed=c.seed,
                                   segmenter=c.segmenter)
        summary = train_static(self.train_data, self.out / "static", config, overwrite=True,
                               quiet=self.quiet)
        return {k: summary[k] for k in ("examples", "steps", "seconds", "s_per_step")}

    def cascade_config(self) -> dict[str, Any] | None:
        """The cross-encoders read only the top ``cascade_k`` units of the other signals."""
        cascade = cascade_of(self.config.signals, self.config.cascade_k)
        return cascade.config() if cascade else None

    # ------------------------------------------------------------------ held-out

    def scorer_specs(self) -> tuple[list[ScorerSpec], dict[str, dict[str, str]]]:
        """The extractor's scorers and the models they name (paths relative to the folder)."""
        c = self.config
        models: dict[str, dict[str, str]] = {t: {"path": t} for t in TRAINED if t in c.signals}
        if "sbert" in c.signals:
            models["sbert"] = {"name": HUB_MINILM if c.sbert_model is None
                               else resolve_model(c.sbert_model)}
        specs = {"bm25": ScorerSpec("bm25"), "sbert": ScorerSpec("sbert", "sbert"),
                 "static": ScorerSpec("static", "static"), "dpr": ScorerSpec("dpr", "dpr"),
                 "reader": ScorerSpec("reader", "reader", {"precision": c.precision}),
                 "cross": ScorerSpec("cross", "cross"),
                 "cross-small": ScorerSpec("cross-small", "cross-small"),
                 # IG's options as any command hands them (the scorer declares what it reads)
                 "ig": ScorerSpec("ig", "reader", options_from(
                     ["ig"], {"ig_steps": c.ig_steps, "ig_target": "sum"})["ig"])}
        return [specs[s] for s in c.signals], models

    def spec(self) -> ExtractorSpec:
        scorers, models = self.scorer_specs()
        return ExtractorSpec(scorers, models, {"method": "learned", "file": "fusion.json"},
                             self.config.segmenter,
                             "reader" if "reader" in self.config.signals else None,
                             folder=self.out, cascade=self.cascade_config())

    def score(self) -> dict[str, Any]:
        return heldout.score(self.out, self.spec(), self.config.seed, self.config.train_file,
                             self.device, self.quiet)

    @property
    def objective(self) -> Objective:
        c = self.config
        return Objective(c.fusion_clean_weight, c.fusion_nonnegative, c.fusion_c,
                         c.fusion_multi_weight)

    def fuse(self) -> dict[str, Any]:
        return heldout.fuse(self.out, self.spec(), self.config.seed, self.config.train_file,
                            self.objective, self.config.cascade_k, self.device, self.quiet)

    def profiles(self) -> dict[str, Any]:
        """The named profiles, chosen on the held-out articles (``fast``: at most the defaults'
        cost; ``best``: the most accurate that holds the stress targets)."""
        c = self.config
        return heldout.profiles(self.out, self.spec(), c.seed, c.train_file, self.objective,
                                sorted({*c.profile_depths, c.cascade_k}), REFERENCE,
                                self.device, self.quiet)

    def card(self) -> dict[str, Any]:
        """``extractor.json`` with the profiles the ``profiles`` stage chose, and the card."""
        spec = self.spec()
        chosen = read_state(self.out)["profiles"].result
        spec.profiles = {name: {"scorers": p["signals"], "cascade": p["cascade"],
                                "fusion": ({"method": "learned",
                                            "file": f"profiles/{name}.fusion.json"}
                                           if p["fusion"] == "learned" else {"method": "weighted"}),
                                "heldout": p["heldout"], "targets_met": p["targets_met"],
                                "seconds_per_question": p["seconds_per_question"]}
                         for name, p in chosen.items()}
        spec.info = {"trained_with": "ids-extract train-extractor",
                     "config": {**asdict(self.config), "signals": list(self.config.signals)}}
        save_spec(spec, self.out)
        path = write_card(self.out, self.config)
        return {"card": str(path.relative_to(self.out))}


def summary_lines(records: dict[str, Record], out: Path) -> list[str]:
    """What a finished run tells its user: a warning per profile that missed its targets, then
    the fused held-out figures, the stage time and where the card is."""
    from .extractor_card import missed_targets

    lines = [f"warning: profile {name} ({','.join(p['signals'])}) missed its targets: "
             f"{missed_targets(name)}"
             for name, p in records["profiles"].result.items() if not p["targets_met"]]
    fused, total = records["fuse"].result, sum(r.wall_s for r in records.values())
    return [*lines, f"wrote {out}: held-out top-1 {fused['top1']:.2f} % (with a distractor "
                    f"{fused['stress_top1']:.2f} %, distractor first {fused['distractor_first']:.2f} "
                    f"%); stage time {total / 60:.1f} min; see {out / 'README.md'}"]
