"""Expect failing: activation_gradients, gradients_at_kinks, activations_extreme_inputs
Mistake: relu_grad uses x >= 0, so the derivative at the kink x == 0 is 1 instead of 0.
The derivative is undefined exactly at 0, and >= looks as good as > until the results are
compared with torch, which takes 0 there.

Everything else comes from solutions/activations_losses/functions.py.
"""

import torch


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """d relu(x) / dx, elementwise: 1 where x > 0, else 0 (0 at the kink x == 0, as torch does).

    x: any shape, floating -> the same shape, dtype and device; values 0.0 and 1.0.
    """
    return (x >= 0).to(x.dtype)
