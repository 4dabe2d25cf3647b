"""``ids-extract explain`` for a text classifier: which sentences made it choose its class.

The text is cut into units as ``extract-texts`` cuts it, read whole in the classifier's windows,
and attributed with the classifier ``ig`` scorer for the class it predicts (the mean logits of
its windows). Beside each sentence's IG score the page shows the predicted class's probability
when that sentence alone is read (the ``alone`` signal), so the two explanations can be compared
sentence by sentence. The page itself is :mod:`.explain`'s.
"""

from __future__ import annotations

from .. import defaults
from ..errors import ConfigError
from ..models.classifier.features import encode
from ..models.classifier.predict import text_logits
from ..models.runtime import softmax
from ..scorers.cls_ig import ClassifierIGScorer, unit_of_tokens
from ..scorers.ig import _nanmean
from ..scorers.reader import fill_missing, per_sentence
from ..select.pieces import split_text
from .explain import Explanation, TokenWindow


def explain_text(scorer: ClassifierIGScorer, text: str, unit: str = "sentence",
                 segmenter: str = defaults.SEGMENTER) -> Explanation:
    """Attribute one text's predicted class over all of it (windowed when too long)."""
    if not text.strip():
        raise ConfigError("explain needs a non-empty text")
    clf = scorer.clf
    units = [text[s:e] for s, e in split_text(text, unit, segmenter)]
    logits, _ = text_logits(clf, [text], "windows")  # (1, classes)
    target = int(logits[0].argmax())
    probs = softmax(logits)[0]
    enc = encode(clf.tokenizer, [text], clf.config, "windows", offsets=True)
    tokens = scorer.attribute(enc.inputs, [target] * len(enc.inputs))
    per_window, shown = [], []
    for f, scores in enumerate(tokens):
        unit_of = unit_of_tokens(enc.offsets[f], units)
        per_window.append(per_sentence(scores, unit_of, len(units), scorer.aggregation))
        shown.append(TokenWindow(clf.tokenizer.convert_ids_to_tokens(enc.inputs[f]["input_ids"]),
                                 scores, unit_of))
    alone, _ = text_logits(clf, [u.strip() or u for u in units], "head")  # (units, classes)
    name = clf.labels[target]
    side = {f"P({name}), sentence alone": softmax(alone)[:, target]}
    return Explanation("", units, fill_missing(_nanmean(per_window)), side,
                       f"{name} (p = {probs[target]:.3f}; "
                       + ", ".join(f"{c} {p:.3f}" for c, p in zip(clf.labels, probs, strict=True))
                       + ")", shown, scorer.config(), answer_name="Predicted class")

