"""What the two Integrated Gradients scorers share (the QA reader's ``ig`` and the classifier's):
the ``[PAD]`` baseline, the embeddings layer attributed at, and the attribution itself — captum's
``LayerIntegratedGradients``, or gradient × (input − baseline) in one backward pass (``gxi``).

One algorithm here, as in captum's ``attr/_core``; each scorer only says what scalar to explain
(its ``forward``) and how token scores become sentence scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def embeddings_layer(model: Any) -> Any:
    """The embeddings layer (word + position + token type), where the authors attributed."""
    base = getattr(model, "base_model", model)
    layer = getattr(base, "embeddings", None)
    return layer if layer is not None else model.get_input_embeddings()


def pad_baseline(ids: Any, tokenizer: Any) -> Any:
    """``[PAD]`` everywhere except ``[CLS]``/``[SEP]`` (padding is ``[PAD]`` already): the
    sequence with its content removed, same length, same special structure."""
    import torch

    special = torch.zeros_like(ids, dtype=torch.bool)
    for token_id in {tokenizer.cls_token_id, tokenizer.sep_token_id} - {None}:
        special |= ids == token_id
    return torch.where(special, ids, torch.full_like(ids, tokenizer.pad_token_id))


def attribute(forward: Callable[..., Any], model: Any, ids: Any, baseline: Any,
              extra: tuple[Any, ...], *, mode: str, n_steps: int, method: str,
              internal_batch_size: int) -> tuple[Any, Any]:
    """Attributions at the embeddings ``(batch, tokens, hidden)`` and the convergence delta
    ``(batch,)`` of the scalar ``forward(ids, *extra)``.

    ``gxi`` is IG with one step at the input; captum's IG needs two or more, so that one is
    assembled from captum's layer gradient and the embeddings of input and baseline (``extra[0]``
    are the token-type ids both share)."""
    import torch
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    layer = embeddings_layer(model)
    if mode == "ig":
        return LayerIntegratedGradients(forward, layer).attribute(
            ids, baselines=baseline, additional_forward_args=extra, n_steps=n_steps,
            method=method, internal_batch_size=internal_batch_size,
            return_convergence_delta=True)
    grads = LayerGradientXActivation(forward, layer, multiply_by_inputs=False).attribute(
        ids, additional_forward_args=extra)  # (batch, tokens, hidden)
    with torch.no_grad():
        types = extra[0]
        diff = layer(input_ids=ids, token_type_ids=types) - layer(input_ids=baseline,
                                                                  token_type_ids=types)
        attributions = grads * diff
        delta = attributions.sum(dim=(1, 2)) - (forward(ids, *extra) - forward(baseline, *extra))
    return attributions, delta
