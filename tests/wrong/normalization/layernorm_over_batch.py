"""Expect failing: layernorm_forward, layernorm_gradients
Mistake: layernorm_forward takes its statistics over dim 0, the batch axis, which is batch
normalization again. Layer norm normalises each example over its own features (dim=-1).

Everything else comes from solutions/normalization/normalization.py.
"""

import torch


def layernorm_forward(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Layer normalization (over the wrong axis)."""
    mean = x.mean(dim=0, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=0, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta
