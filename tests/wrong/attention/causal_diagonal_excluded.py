"""Expect failing: causal_mask
Mistake: the causal mask is tril(diagonal=-1), "only the past", so a position may not
attend to itself (an off-by-one between "before" and "up to"). The first query then
sees no key at all; attention itself is right, so only the mask's own check fails.

Everything else comes from solutions/attention/attention.py.
"""

import torch


def causal_mask(L: int, S: int, device: torch.device | str | None = None) -> torch.Tensor:
    """The causal mask: query i may attend to keys 0, 1, ..., i (itself included), no later."""
    return torch.ones(L, S, dtype=torch.bool, device=device).tril(diagonal=-1)
