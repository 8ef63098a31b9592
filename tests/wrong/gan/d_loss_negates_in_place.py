"""Expect failing: discriminator_loss
Mistake: to get softplus(-r) for the real points, discriminator_loss flips the real logits'
sign with real_logits *= -1. On a tensor *= works in place, so the loss is right but the
caller's real_logits come back negated: whatever reads them after the loss (a logged
accuracy, a second loss on the same scores) reads the wrong sign.

Everything else comes from solutions/gan/gan.py.
"""

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss, with the real logits negated in place."""
    real_logits *= -1  # softplus(-r) for the real points
    return F.softplus(real_logits).mean() + F.softplus(fake_logits).mean()
