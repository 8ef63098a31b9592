"""Expect failing: activation_gradients, activations_extreme_inputs
Mistake: sigmoid_grad returns sigmoid(x) itself instead of s * (1 - s).
The derivative of exp(x) is exp(x), and the sigmoid is built from exp, so it is tempting
to think the sigmoid is its own derivative too.

Everything else comes from solutions/activations_losses/functions.py.
"""

import torch


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """d sigmoid(x) / dx, elementwise: s * (1 - s) with s = sigmoid(x).

    x: any shape, floating -> the same shape, dtype and device.
    """
    return sigmoid(x)
