"""Latency of ``ids_extract.compress`` for one request at a time, on CPU, the way a RAG pipeline
calls it: inputs of about 1k, 4k and 16k tokens (consecutive dev-v1.1 paragraphs of one article
joined, with a question about one of them) and one 50,000-word context, budget ``tokens:256``,
models loaded once and warmed up; for each profile (the default bm25+sbert, ``--fast``
bm25+static with pysbd or blingfire sentences, bm25 alone). Also where the time goes
(segmentation, each scorer, token counting, the cut: cProfile's cumulative times) and the
start-up of one ``ids-extract compress`` process.

    python bench/compress.py [--requests 30] [--profiles default,fast,fast-blingfire,bm25]
                             [--long-repeats 3] [--extractor DIR [--extractor-requests 10]]
                             [--smoke]

With ``--extractor DIR`` (a ``train-extractor`` folder), also each of its profiles
(``extractor:fast``, ``extractor:best``, …) through ``compress(..., extractor=DIR, profile=…)``,
``--extractor-requests`` requests per size.

Reports p50/p95 milliseconds per request, whether the budget held for every request (it must),
the mean tokens under the budget, and how often the answer's sentence was kept. Writes
``bench/results/compress.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ids_extract.apps.benchkit import Bench, add_smoke, timed

SIZES = (1000, 4000, 16000)
LONG_WORDS = 50_000
#: profile -> (scorers, segmenter); blingfire needs the [fast] extra
PROFILES = {"default": (("bm25", "sbert"), "pysbd"), "fast": (("bm25", "static"), "pysbd"),
            "fast-blingfire": (("bm25", "static"), "blingfire"), "bm25": (("bm25",), "pysbd")}
#: where the time of a request goes: function name (file suffix, name) -> stage
STAGES = {("select/segment.py", "split_sentences"): "segment",
          ("scorers/bm25.py", "score"): "bm25",
          ("scorers/base.py", "score"): "encoder (sbert or static)",
          ("select/budget.py", "count_tokens"): "tokens", ("select/cut.py", "cut_span"): "cut"}


def requests(dev: Path, n: int, size: int) -> list[dict[str, Any]]:
    """``n`` inputs of about ``size`` tokens: a question's paragraph with the paragraphs of its
    article around it, and the answer's text (to check it survived)."""
    from ids_extract import load
    from ids_extract.models.tokenizer import load_light_tokenizer
    from ids_extract.select.budget import count_tokens

    tok = load_light_tokenizer(None)
    articles = load(dev).articles
    out = []
    rng = np.random.default_rng(size)
    while len(out) < n:
        art = articles[int(rng.integers(len(articles)))]
        i = int(rng.integers(len(art.paragraphs)))
        qa = art.paragraphs[i].qas[0]
        passages = [art.paragraphs[i].context]
        for step in range(1, len(art.paragraphs) * 4):
            if int(count_tokens(["\n\n".join(passages)], tok)[0]) >= size:
                break
            j = (i + step) % len(art.paragraphs)  # the article's paragraphs, repeated if short
            passages.append(art.paragraphs[j].context)
        out.append({"question": qa.question, "passages": passages, "answer": qa.answers[0].text,
                    "tokens": int(count_tokens(["\n\n".join(passages)], tok)[0])})
    return out


def long_request(dev: Path) -> dict[str, Any]:
    """One context of 50,000 words (dev paragraphs in order, one string) and a question about
    its first paragraph."""
    from ids_extract import load

    paragraphs = [p for a in load(dev).articles for p in a.paragraphs]
    parts, words = [], 0
    for p in paragraphs:
        parts.append(p.context)
        words += len(p.context.split())
        if words >= LONG_WORDS:
            break
    qa = paragraphs[0].qas[0]
    return {"question": qa.question, "passages": "\n\n".join(parts), "answer": qa.answers[0].text,
            "words": words}


def latency(batch: list[dict[str, Any]], run: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """p50/p95 ms of ``run`` over the requests, the budget check and the answers kept."""
    times, under, held, kept = [], [], True, 0
    for r in batch:
        start = time.perf_counter()
        out = run(r)
        times.append(1000 * (time.perf_counter() - start))
        held &= out.tokens <= out.limit
        under.append(out.under)
        kept += r["answer"] in out.text
    ms = np.array(times)
    return {"requests": len(batch), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "max_ms": round(float(ms.max()), 1), "budget_never_exceeded": bool(held),
            "under_mean": round(float(np.mean(under)), 1),
            "answer_kept_pct": round(100 * kept / len(batch), 1)}


def stages(run: Callable[[], Any]) -> dict[str, float]:
    """Seconds spent in each stage of one call (cProfile cumulative times; the rest is
    selection and joining)."""
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.runcall(run)
    total = time.perf_counter() - start
    found: dict[str, float] = {"total": round(total, 3)}
    for (file, _, name), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        for (suffix, fn), stage in STAGES.items():
            if file.endswith(suffix) and name == fn:
                found[stage] = round(found.get(stage, 0.0) + row[3], 3)
    return found


def startup(cli: str, runs: int) -> dict[str, Any]:
    """Wall seconds of a whole ``ids-extract compress --scorers bm25`` process on one request
    (bytecode compiled by a first run, as on a user's machine after the first call); none
    timed when ``runs`` is 0."""
    if runs < 1:
        return {"runs": 0}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "one.jsonl"
        src.write_text(json.dumps({"question": "Who led the Norse raiders?", "context":
                                   "The Normans came from Normandy. Rollo led the raiders."})
                       + "\n")
        cmd = [cli, "compress", str(src), "--scorers", "bm25", "--budget", "tokens:32"]
        timed(cmd)
        seconds = sorted(timed(cmd)[0] for _ in range(runs))
    return {"command": "ids-extract compress one.jsonl --scorers bm25 --budget tokens:32",
            "runs": runs, "median_s": round(seconds[len(seconds) // 2], 2),
            "max_s": round(seconds[-1], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--budget", default="tokens:256")
    ap.add_argument("--profiles", default=",".join(PROFILES))
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--long-repeats", type=int, default=3, help="50,000-word runs (0: none)")
    ap.add_argument("--startup-runs", type=int, default=5)
    ap.add_argument("--result", default="compress.json")
    ap.add_argument("--extractor", type=Path, default=None, help="a train-extractor folder: "
                    "its profiles too")
    ap.add_argument("--extractor-requests", type=int, default=10)
    args = add_smoke(ap).parse_args()
    bench = Bench.of(__file__, args.smoke)
    if bench.smoke:  # two 1k-token requests, bm25 alone, one start-up
        vars(args).update(requests=2, sizes="1000", profiles="bm25", long_repeats=0,
                          startup_runs=1)
    from ids_extract import compress

    payload: dict[str, Any] = {"budget": args.budget,
                               "startup": startup(bench.cli, args.startup_runs)}
    print("start-up", payload["startup"], flush=True)
    batches = {int(s): requests(bench.dev, args.requests, int(s)) for s in args.sizes.split(",")}
    long = long_request(bench.dev) if args.long_repeats else None
    runs = {p: {"scorers": PROFILES[p][0], "segmenter": PROFILES[p][1]}
            for p in args.profiles.split(",")}
    if args.extractor is not None:
        from ids_extract.pipeline.pretrained import load_spec

        for name in load_spec(args.extractor).profiles:
            runs[f"extractor:{name}"] = {"extractor": args.extractor, "profile": name}
    for profile, how in runs.items():
        def run(r: dict[str, Any], how: dict[str, Any] = how) -> Any:
            return compress(r["question"], r["passages"], args.budget, **how)

        for r in requests(bench.dev, 2, 1000):  # load the models, export/distil once, warm up
            run(r)
        rows: dict[str, Any] = {k: (",".join(v) if k == "scorers" else str(v))
                                for k, v in how.items()}
        if "extractor" in how:  # the scorers the profile runs
            from ids_extract.apps.compress import pretrained_selector
            from ids_extract.pipeline.pretrained import resolve_extractor

            rows["scorers"] = ",".join(s.name for s in pretrained_selector(  # a shipped name too
                str(resolve_extractor(args.extractor).resolve()), how["profile"], None).scorers)
        for size, full in batches.items():
            batch = full[:args.extractor_requests] if "extractor" in how else full
            rows[f"{size} tokens"] = latency(batch, run)
            rows[f"{size} tokens"]["input_tokens_mean"] = round(float(np.mean(
                [r["tokens"] for r in batch])), 1)
            print(profile, size, rows[f"{size} tokens"], flush=True)
        rows["stages_1000_tokens_s"] = stages(lambda: run(batches[min(batches)][0]))
        if long is not None:
            run(long)  # the segmenter's patterns compiled once: later calls are warm
            rows[f"{LONG_WORDS} words"] = latency([long] * args.long_repeats, run)
            rows[f"{LONG_WORDS} words"]["words"] = long["words"]
            rows["stages_50000_words_s"] = stages(lambda: run(long))
            print(profile, "50k words", rows[f"{LONG_WORDS} words"],
                  rows["stages_50000_words_s"], flush=True)
        payload[profile] = rows
    print("wrote", bench.write_result(args.result, payload))


if __name__ == "__main__":
    main()
