"""Expect failing: dropout_identity
Mistake: dropout ignores `training` and drops entries in evaluation mode too, so a model's
predictions on the test set are random and differ from one call to the next.

Everything else comes from solutions/normalization/normalization.py.
"""

import torch


def dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator) -> torch.Tensor:
    """Dropout (active whatever the mode)."""
    if p == 0:
        return x
    draws = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x * (draws >= p).to(x.dtype) / (1 - p)
