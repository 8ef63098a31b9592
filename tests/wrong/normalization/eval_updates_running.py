"""Expect failing: batchnorm_eval
Mistake: batchnorm_forward normalises with the running averages in evaluation mode, as it
should, but still moves them towards the batch's statistics, as if every forward pass were a
training step. Evaluating on a test set would then change the model.

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
    """Batch normalization (running averages updated in evaluation mode too)."""
    n = x.shape[0]
    mean = x.mean(dim=0)
    var = ((x - mean) ** 2).mean(dim=0)
    new_mean = (1 - momentum) * running_mean + momentum * mean
    unbiased = var * n / (n - 1) if n > 1 else var
    new_var = (1 - momentum) * running_var + momentum * unbiased
    if not training:
        out = gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta
        return out, new_mean, new_var
    out = gamma * (x - mean) / torch.sqrt(var + eps) + beta
    return out, new_mean, new_var
