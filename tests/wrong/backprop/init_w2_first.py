"""Expect failing: init_params
Mistake: W2 is drawn before W1. The scales are right, but the weights are not the ones the
docstring fixes (one generator, W1 first), which later exercises rely on.

Everything else comes from solutions/backprop/mlp.py.
"""

import math

import torch


def init_params(D: int, H: int, C: int, seed: int) -> Params:
    """W2 drawn first, then W1."""
    generator = torch.Generator().manual_seed(seed)
    W2 = torch.randn(H, C, generator=generator, dtype=torch.float64) * math.sqrt(1.0 / H)
    W1 = torch.randn(D, H, generator=generator, dtype=torch.float64) * math.sqrt(2.0 / D)
    return {
        "W1": W1,
        "b1": torch.zeros(H, dtype=torch.float64),
        "W2": W2,
        "b2": torch.zeros(C, dtype=torch.float64),
    }
