"""Expect failing: regression_losses
Mistake: mse and mae add up the errors with .sum() instead of averaging them with .mean().
Sum and mean differ only by the factor N, and both are called "the loss" in places,
but the result here is N times too large and the learning rate would have to depend on N.

Everything else comes from solutions/activations_losses/functions.py.
"""

import torch


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error: the mean over all elements of (pred - target)^2.

    pred, target: the same shape, floating -> a 0-d tensor of their dtype, on their device.
    """
    return ((pred - target) ** 2).sum()


def mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error: the mean over all elements of |pred - target|.

    pred, target: the same shape, floating -> a 0-d tensor of their dtype, on their device.
    """
    return (pred - target).abs().sum()
