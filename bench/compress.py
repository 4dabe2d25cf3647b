"""Latency of ``ids_extract.compress`` for one request at a time, on CPU: inputs of about 1k, 4k
and 16k tokens (consecutive dev-v1.1 paragraphs of one article joined, with a question about one
of them), budget ``tokens:256``, default scorers and encoder (models loaded once, warmed up).

    python bench/compress.py [--requests 30]

Reports p50/p95 milliseconds per request, whether the budget held for every request (it must),
the mean tokens under the budget, and how often the answer's sentence was kept. Writes
``bench/results/compress.json``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from _common import DEV, write_result

SIZES = (1000, 4000, 16000)


def requests(n: int, size: int) -> list[dict[str, Any]]:
    """``n`` inputs of about ``size`` tokens: a question's paragraph with the paragraphs of its
    article around it, and the answer's text (to check it survived)."""
    from ids_extract import load
    from ids_extract.models.hub import load_tokenizer
    from ids_extract.select.budget import count_tokens

    tok = load_tokenizer(None)
    articles = load(DEV).articles
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--budget", default="tokens:256")
    args = ap.parse_args()
    from ids_extract import compress

    warm = requests(2, 1000)
    for r in warm:
        compress(r["question"], r["passages"], args.budget)
    rows = {}
    for size in SIZES:
        batch = requests(args.requests, size)
        times, under, held, kept = [], [], True, 0
        for r in batch:
            start = time.perf_counter()
            out = compress(r["question"], r["passages"], args.budget)
            times.append(1000 * (time.perf_counter() - start))
            held &= out.tokens <= out.limit
            under.append(out.under)
            kept += r["answer"] in out.text
        ms = np.array(times)
        rows[f"{size} tokens"] = {
            "requests": len(batch), "input_tokens_mean": round(float(np.mean(
                [r["tokens"] for r in batch])), 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "budget_never_exceeded": bool(held), "under_mean": round(float(np.mean(under)), 1),
            "answer_kept_pct": round(100 * kept / len(batch), 1)}
        print(size, rows[f"{size} tokens"], flush=True)
    print("wrote", write_result("compress.json", {"budget": args.budget,
                                                  "scorers": "bm25,sbert (defaults)",
                                                  "latency": rows}))


if __name__ == "__main__":
    main()
