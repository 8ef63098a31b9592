"""Expect failing: non_saturating_generator_loss, non_saturating_gradient
Mistake: non_saturating_generator_loss writes -log sigmoid(f) = softplus(-f) by negating the
logits in place (fake_logits *= -1) before softplus. The value is right, but the caller's
logits come back negated, and autograd refuses the in-place change when the logits are a
leaf that requires a gradient (as in generator_loss_gradients).

Everything else comes from solutions/gan/gan.py.
"""

import torch
import torch.nn.functional as F


def non_saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating loss, with the logits negated in place."""
    fake_logits *= -1
    return F.softplus(fake_logits).mean()
