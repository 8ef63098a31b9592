"""Expect failing: layer_norm
Mistake: the variance comes from torch.var with its default, unbiased=True, so it is
divided by D - 1 instead of D: every normalized value is sqrt((D - 1) / D) of what it should
be. Training works about as well with it, so only the exact comparisons fail.

Everything else comes from solutions/transformer/transformer.py.
"""

import torch


def layer_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Layer normalization over the last axis, as torch.nn.LayerNorm(D, eps=eps)."""
    mean = x.mean(dim=-1, keepdim=True)
    variance = x.var(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance + eps) * weight + bias
