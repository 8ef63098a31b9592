"""Expect failing: discriminator_loss, discriminator_step, training_covers_modes
Mistake: in the discriminator's loss the real points get the label 0 and the generated
ones the label 1. D then learns to call the data fake and the generator's points real, so
the generator, which is trained to look real to D, is pushed away from the data.

Everything else comes from solutions/gan/gan.py.
"""

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE with the labels the wrong way round."""
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))
    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    return real_term + fake_term
