"""Expect failing: attention_float32
Mistake: attention converts q, k and v to float64 "for accuracy" and returns float64 results
whatever the inputs' dtype. Every float64 check passes; float32 inputs, the dtype models
train in, come back as float64 instead of in q's dtype.

Everything else comes from solutions/attention/attention.py.
"""

import math

import torch


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention of queries q over keys k and values v."""
    q, k, v = q.double(), k.double(), v.double()
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights
