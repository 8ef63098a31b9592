"""Expect failing: batchnorm_running_statistics
Mistake: the running averages weigh the new batch by 1 - momentum and the old value by
momentum (0.9 new, 0.1 old), the convention of Keras's momentum=0.99 read with torch's
momentum=0.1. The running averages then follow the last batch almost entirely.

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
    """Batch normalization (momentum the weight of the old value)."""
    if not training:
        out = gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta
        return out, running_mean, running_var
    n = x.shape[0]
    mean = x.mean(dim=0)
    var = ((x - mean) ** 2).mean(dim=0)
    out = gamma * (x - mean) / torch.sqrt(var + eps) + beta
    new_mean = momentum * running_mean + (1 - momentum) * mean
    new_var = momentum * running_var + (1 - momentum) * var * n / (n - 1)
    return out, new_mean, new_var
