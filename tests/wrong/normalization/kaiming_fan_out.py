"""Expect failing: kaiming_normal
Mistake: kaiming_normal divides by fan_out, the number of outputs, instead of fan_in. That
keeps the backward gradients' scale, not the forward signal's that He initialisation (in
torch's default mode="fan_in") is about.

Everything else comes from solutions/normalization/normalization.py.
"""

import math

import torch


def kaiming_normal(
    fan_in: int, fan_out: int, gain: float, generator: torch.Generator
) -> torch.Tensor:
    """He normal weights (scaled by fan_out)."""
    std = gain / math.sqrt(fan_out)
    draws = torch.randn((fan_out, fan_in), generator=generator, device=generator.device)
    return draws * std
