"""Expect failing: activations
Mistake: relu zeroes the negatives of the caller's tensor (x[x < 0] = 0) and returns it.
The values are right; the caller's x has lost its negative entries.

Everything else comes from solutions/activations_losses/functions.py.
"""

import torch


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(x, 0), elementwise, written into x."""
    x[x < 0] = 0
    return x
