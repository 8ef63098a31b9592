"""Expect failing: attention_mask, fully_masked_rows, causal_mask, multi_head_masks
Mistake: True in the mask is read as "blocked", the rule of nn.MultiheadAttention's masks
and of many tutorials, so the allowed keys get -inf and the forbidden ones the weight.
Without a mask it is right, so the unmasked checks and the reversal model still pass.

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
        scores = scores.masked_fill(mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(mask.all(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights
