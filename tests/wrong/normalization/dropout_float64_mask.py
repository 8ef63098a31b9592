"""Expect failing: dropout_masks
Mistake: dropout draws its mask in float64 (dtype=torch.float64, the dtype of every example
it was tried on) instead of in x's dtype. Every mask is right and float64 inputs are
untouched, but multiplying a float32 x by a float64 mask promotes the result: float32
activations come back as float64, doubling their memory and slowing every layer after.

Everything else comes from solutions/normalization/normalization.py.
"""

import torch


def dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator) -> torch.Tensor:
    """Inverted dropout with a float64 mask, whatever x's dtype."""
    if not training or p == 0:
        return x
    draws = torch.rand(x.shape, generator=generator, device=x.device, dtype=torch.float64)
    keep = (draws >= p).to(torch.float64)
    return x * keep / (1 - p)
