"""Expect failing: attention_matches_torch, attention_mask, attention_float32, fully_masked_rows, causal_mask
Mistake: the queries are scaled in place (q /= sqrt(d)) before the scores are taken. The
weights and the output are right, but the caller's q is changed: a second call with the same
q (or the model's next layer reading it) sees queries divided by sqrt(d) once more.

Everything else comes from solutions/attention/attention.py.
"""  # noqa: E501

import math

import torch


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention of queries q over keys k and values v."""
    q /= math.sqrt(q.shape[-1])
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights
