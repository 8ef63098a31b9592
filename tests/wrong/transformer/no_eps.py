"""Expect failing: layer_norm
Mistake: eps is left out, (x - mean) / sqrt(var): a position whose features are all equal
divides 0 by 0 and comes out NaN, and a tiny variance is blown up. On random data the
difference is small (a few parts in a million), but the comparisons are in float64.

Everything else comes from solutions/transformer/transformer.py.
"""

import torch


def layer_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Layer normalization over the last axis, as torch.nn.LayerNorm(D, eps=eps)."""
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance) * weight + bias
