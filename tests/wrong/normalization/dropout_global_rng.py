"""Expect failing: dropout_masks
Mistake: dropout draws its mask with torch.rand(x.shape) and no generator=..., from torch's
global random state. Every statistic looks right, but the same generator no longer gives
the same mask, so a run cannot be repeated from its seed.

Everything else comes from solutions/normalization/normalization.py.
"""

import torch


def dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator) -> torch.Tensor:
    """Dropout (mask from the global random state)."""
    if not training or p == 0:
        return x
    draws = torch.rand(x.shape, device=x.device, dtype=x.dtype)
    return x * (draws >= p).to(x.dtype) / (1 - p)
