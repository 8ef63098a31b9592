"""Expect failing: written_by_hand
Mistake: the weights are computed by hand, but the output comes from torch's
F.scaled_dot_product_attention, the very function the checks compare with. The values are
right, so only the rule that the attention is written by hand catches it.

Everything else comes from solutions/attention/attention.py.
"""

import math

import torch
import torch.nn.functional as F


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention of queries q over keys k and values v."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    output = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    if mask is not None:
        empty = ~mask.any(dim=-1, keepdim=True)
        weights = weights.masked_fill(empty, 0.0)
        output = torch.where(empty, 0.0, output)
    return output, weights
