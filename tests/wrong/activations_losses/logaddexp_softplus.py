"""Expect failing: elementary_operations_only
Mistake: binary_cross_entropy_with_logits takes the stable softplus ready-made from
torch.logaddexp(0, -z) instead of writing the docstring's stable form.
The values are right, so only the rule against ready-made versions catches it.

Everything else comes from solutions/activations_losses/functions.py.
"""

import torch


def binary_cross_entropy_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mean(softplus(z) - y * z), softplus from torch.logaddexp."""
    return (torch.logaddexp(torch.zeros_like(z), z) - y * z).mean()
