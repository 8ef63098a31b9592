"""Expect failing: extreme_logits
Mistake: every loss applies torch's binary_cross_entropy to sigmoid(logits). torch clamps its
logs at -100, so the losses stay finite, but at a logit of -1000 a term worth 1000 counts
100: the forbidden form, wrong where the logits are extreme and right everywhere else.

Everything else comes from solutions/gan/gan.py.
"""

import torch
import torch.nn.functional as F


def _bce(logits: torch.Tensor, label: float) -> torch.Tensor:
    p = torch.sigmoid(logits)
    return F.binary_cross_entropy(p, torch.full_like(p, label))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE of the real probabilities against 1 plus that of the fakes against 0."""
    return _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)


def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """mean log(1 - D(G(z))), through the probabilities."""
    return -_bce(fake_logits, 0.0)


def non_saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """mean -log D(G(z)), through the probabilities."""
    return _bce(fake_logits, 1.0)
