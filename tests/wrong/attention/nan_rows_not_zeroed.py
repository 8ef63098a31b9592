"""Expect failing: fully_masked_rows
Mistake: masked scores become -inf and that is all: a query row whose mask allows no key
is softmax of all -inf, 0/0, and comes out NaN (as in nn.MultiheadAttention). Every row
with at least one allowed key is right, so only the check with empty rows fails.

Everything else comes from solutions/attention/attention.py.
"""

import math

import torch


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention of queries q over keys k and values v."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
