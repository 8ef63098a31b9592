"""Expect failing: dropout_masks, dropout_expected_value
Mistake: dropout zeroes each entry with probability p but leaves the kept ones as they are,
the dropout of the original paper without its test-time rescaling. During training the next
layer sees inputs 1 - p times smaller on average than at test time.

Everything else comes from solutions/normalization/normalization.py.
"""

import torch


def dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator) -> torch.Tensor:
    """Dropout (kept entries not rescaled)."""
    if not training or p == 0:
        return x
    draws = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x * (draws >= p).to(x.dtype)
