"""Expect failing: attention_matches_torch, attention_mask, fully_masked_rows, causal_mask, multi_head_attention, multi_head_masks
Mistake: softmax over dim=-2, the queries, instead of dim=-1, the keys (the habit of
softmax(x, dim=0) on a column, or a transposed picture of the score matrix). Each key's
column sums to 1 instead of each query's row, so the outputs are no longer averages of v.
The reversal model still trains to about 87% (judged with torch's attention), near the
threshold, so that check is not counted on here.

Everything else comes from solutions/attention/attention.py.
"""  # noqa: E501

import math

import torch


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention of queries q over keys k and values v."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-2)
    if mask is not None:
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights
