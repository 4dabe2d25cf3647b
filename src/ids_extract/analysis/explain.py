"""``ids-extract explain``: why the IG scorer ranks a context's sentences as it does.

For one question and context (QA reader), or one text (classifier: :mod:`.explain_text`), it
writes a self-contained HTML page (no external files: the chart is embedded as a base64 PNG, and
also written beside the page) with

- the prediction (answer span, or class) and the sentence ranking;
- a sentence heat map (each sentence tinted by its IG score) and a token heat map per model
  window (each token tinted by its normalised attribution; red supports the prediction, blue
  opposes it);
- a bar chart per sentence of the IG score and the model's probabilities per sentence (the
  reader's start and end probability mass: the paper's Figure 3; for a classifier, the predicted
  class's probability when the sentence is read alone), with labelled axes and sentence numbers
  instead of overlapping text.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import defaults
from ..errors import ConfigError
from ..files import atomic_path
from ..scorers.ig import IGScorer
from ..scorers.reader import fill_missing, per_sentence, windows
from ..select.segment import split_sentences
from ..select.units import ScoringBatch

SIDE_COLOURS = ("#2980b9", "#27ae60", "#8e44ad")


@dataclass
class TokenWindow:
    tokens: list[str]
    scores: np.ndarray
    sentence_of: np.ndarray


@dataclass
class Explanation:
    """Everything the page shows for one question (or one text to classify): ``side`` holds
    the per-sentence probabilities drawn beside the IG scores, by name."""

    question: str
    sentences: list[str]
    sentence_scores: np.ndarray
    side: dict[str, np.ndarray]
    answer: str
    windows: list[TokenWindow] = field(default_factory=list)
    config: dict[str, object] = field(default_factory=dict)
    answer_name: str = "Predicted answer"

    @property
    def start_mass(self) -> np.ndarray:
        return self.side["start probability"]

    @property
    def end_mass(self) -> np.ndarray:
        return self.side["end probability"]


def explain(scorer: IGScorer, question: str, context: str,
            segmenter: str = defaults.SEGMENTER) -> Explanation:
    """Attribute one question over its whole context (windowed when too long)."""
    if not question.strip() or not context.strip():
        raise ConfigError("explain needs a non-empty question and context")
    sentences = [context[s:e] for s, e in split_sentences(context, segmenter)]
    win = windows(scorer.qa, ScoringBatch([sentences], [question], [0]), scorer.stride)
    atts = scorer.attribute_windows(win.inputs, [s >= 0 for s in win.sentence_of])
    n = len(sentences)
    per_win, starts, ends, shown = [], [], [], []
    best: tuple[float, str] = (-np.inf, "")
    for f, att in enumerate(atts):
        sent_of = win.sentence_of[f]
        per_win.append(per_sentence(att.combined(), sent_of, n, scorer.aggregation))
        starts.append(per_sentence(att.start_prob, sent_of, n, "sum"))
        ends.append(per_sentence(att.end_prob, sent_of, n, "sum"))
        tokens = scorer.qa.tokenizer.convert_ids_to_tokens(win.inputs[f]["input_ids"])
        shown.append(TokenWindow(tokens, att.combined(), sent_of))
        a, b = att.span
        confidence = float(att.start_prob[a] * att.end_prob[b])
        span_start, span_end = win.offsets[f][a], win.offsets[f][b]
        if confidence > best[0] and span_start is not None and span_end is not None:
            best = (confidence, context[span_start[0]: span_end[1]])
    with np.errstate(all="ignore"):
        scores = fill_missing(np.nanmean(np.vstack(per_win), axis=0))
    side = {"start probability": np.nan_to_num(np.nanmax(np.vstack(starts), axis=0)),
            "end probability": np.nan_to_num(np.nanmax(np.vstack(ends), axis=0))}
    return Explanation(question, sentences, scores, side, best[1], shown, scorer.config())


def bar_chart(exp: Explanation) -> bytes:
    """PNG: per sentence, IG score (left axis) and the ``side`` probabilities (right axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(1, len(exp.sentences) + 1)
    width = 0.8 / (1 + len(exp.side))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(x) + 2), 4.0), dpi=110)
    ax.bar(x - 0.4 + width / 2, exp.sentence_scores, width=width, color="#c0392b",
           label="IG score")
    ax.set_ylabel("IG sentence score (mean normalised attribution)")
    ax.axhline(0, color="black", linewidth=0.6)
    right = ax.twinx()
    for k, ((name, values), color) in enumerate(zip(exp.side.items(), SIDE_COLOURS,
                                                   strict=False)):
        right.bar(x - 0.4 + width * (k + 1.5), values, width=width, color=color, label=name)
    right.set_ylabel("model probability")
    right.set_ylim(0, 1)
    ax.set_xticks(x, [f"S{i}" for i in x])
    ax.set_xlabel("sentence")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    # below the axes, so that it never covers a bar
    fig.legend(handles, [str(h.get_label()) for h in handles], loc="lower center", ncol=3,
               fontsize=8, frameon=False)
    ax.set_title("Attribution and model probability per sentence")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _tint(value: float, scale: float) -> str:
    """Red for positive, blue for negative, opacity by magnitude."""
    alpha = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    rgb = "192,57,43" if value >= 0 else "41,128,185"
    return f"background: rgba({rgb},{alpha:.2f})"


def to_html(exp: Explanation, png: bytes) -> str:
    """The whole page as one self-contained HTML string (chart inlined as base64), so it can
    be mailed or opened anywhere without its neighbours."""
    esc = html.escape
    order = np.argsort(-exp.sentence_scores, kind="stable")
    s_scale = float(np.abs(exp.sentence_scores).max()) or 1.0
    sentences = "".join(
        f'<span class="s" style="{_tint(float(v), s_scale)}" title="S{i + 1}: {v:.4f}">'
        f"<sup>S{i + 1}</sup>{esc(text)}</span>"
        for i, (text, v) in enumerate(zip(exp.sentences, exp.sentence_scores, strict=True)))
    ranking = "".join(
        f"<tr><td>{r + 1}</td><td>S{i + 1}</td><td>{exp.sentence_scores[i]:.4f}</td>"
        + "".join(f"<td>{v[i]:.3f}</td>" for v in exp.side.values()) + "</tr>"
        for r, i in enumerate(order))
    side_heads = "".join(f"<th>{esc(name)}</th>" for name in exp.side)
    asked = f"<p><b>Question:</b> {esc(exp.question)}</p>" if exp.question else ""
    token_maps = []
    for w, win in enumerate(exp.windows):
        t_scale = float(np.abs(win.scores).max()) or 1.0
        spans = "".join(f'<span class="t" style="{_tint(float(v), t_scale)}" title="{v:.4f}">'
                        f"{esc(tok)}</span> " for tok, v in zip(win.tokens, win.scores,
                                                                strict=False))
        token_maps.append(f"<h3>Window {w + 1}</h3><p class='tokens'>{spans}</p>")
    chart = base64.b64encode(png).decode("ascii")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>IDS-Extract explanation</title>
<style>
body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; line-height: 1.6; }}
.s {{ padding: 0.1rem; border-radius: 3px; }} sup {{ color: #555; margin-right: 0.2rem; }}
.t {{ padding: 0 0.15rem; border-radius: 2px; font-family: monospace; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 0.2rem 0.6rem; }}
</style></head><body>
<h1>Why these sentences?</h1>
{asked}
<p><b>{esc(exp.answer_name)}:</b> {esc(exp.answer) or "<i>(none)</i>"}</p>
<h2>Sentence attribution</h2><p>{sentences}</p>
<table><tr><th>rank</th><th>sentence</th><th>IG score</th>{side_heads}</tr>{ranking}</table>
<h2>Per sentence: attribution and probability</h2>
<img alt="bar chart of attribution and probability per sentence" src="data:image/png;base64,{chart}">
<h2>Token attribution</h2>
<p>Red tokens push the model towards its prediction, blue ones away from it
(normalised attributions; hover for values).</p>
{''.join(token_maps)}
<h2>Settings</h2><pre>{esc(str(exp.config))}</pre>
</body></html>
"""


def write_explanation(exp: Explanation, out: str | Path) -> tuple[Path, Path]:
    """Write ``out`` (HTML) and the chart beside it (``<stem>.png``), both atomically."""
    html_path = Path(out)
    png_path = html_path.with_suffix(".png")
    png = bar_chart(exp)
    with atomic_path(png_path) as tmp:
        tmp.write_bytes(png)
    with atomic_path(html_path) as tmp:
        tmp.write_text(to_html(exp, png), encoding="utf-8")
    return html_path, png_path
