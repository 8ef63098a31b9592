"""Expect failing: non_saturating_generator_loss, non_saturating_gradient, generator_step, training_covers_modes
Mistake: the generator's loss scores its points against the label 0, "generated", copied
from the fake half of the discriminator's loss. Minimizing it trains G to be caught: G
moves its points to where D is surest they are fake, away from the data.

Everything else comes from solutions/gan/gan.py.
"""  # noqa: E501

import torch
import torch.nn.functional as F


def non_saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE of the fakes against the label 0 (the discriminator's target, not G's)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
