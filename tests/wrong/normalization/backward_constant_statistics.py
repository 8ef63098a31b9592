"""Expect failing: batchnorm_backward
Mistake: batchnorm_backward treats the batch's mean and variance as constants and returns
dx = dout * gamma / sqrt(var + eps). Both statistics depend on every row of x, so the two
correction terms (the paths through the mean and through the variance) are missing.

Everything else comes from solutions/normalization/normalization.py.
"""

import torch


def batchnorm_backward(
    dout: torch.Tensor, x: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of batch normalization (mean and variance taken as constants)."""
    mean = x.mean(dim=0)
    var = ((x - mean) ** 2).mean(dim=0)
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return dout * gamma * inv_std, (dout * xhat).sum(dim=0), dout.sum(dim=0)
