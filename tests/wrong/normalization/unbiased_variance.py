"""Expect failing: batchnorm_train_forward
Mistake: batchnorm_forward normalises with x.var(dim=0), whose default is the unbiased
variance (divide by N - 1). nn.BatchNorm1d normalises with the biased one (divide by N) and
keeps the unbiased one only for its running average, so the outputs come out a little too
small, by a factor sqrt((N - 1) / N).

Everything else comes from solutions/normalization/normalization.py.
"""

import torch


def batchnorm_forward(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch normalization (normalised with the unbiased variance)."""
    if not training:
        out = gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta
        return out, running_mean, running_var
    mean = x.mean(dim=0)
    var = x.var(dim=0)
    out = gamma * (x - mean) / torch.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var
    return out, new_mean, new_var
