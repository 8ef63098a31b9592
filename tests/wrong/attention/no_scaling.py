"""Expect failing: attention_matches_torch, attention_mask, fully_masked_rows, causal_mask, multi_head_attention, multi_head_masks
Mistake: the scores are q @ k^T, never divided by sqrt(d) (the scaling looks like a detail).
Every softmax gets sharper than torch's, so weights and outputs differ everywhere; the
reversal model still trains, and torch's attention runs its weights well enough.

Everything else comes from solutions/attention/attention.py.
"""  # noqa: E501

import torch


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention of queries q over keys k and values v."""
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights
