"""Expect failing: discriminator_step, training_covers_modes
Mistake: the discriminator's step never clears old gradients. backward() adds to .grad, so
each step follows the sum of every gradient since the last clearing, including those the
generator's step left in D's parameters.

Everything else comes from solutions/gan/gan.py.
"""

import torch
from torch import nn


def discriminator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    d_optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    z: torch.Tensor,
) -> float:
    """One discriminator update without d_optimizer.zero_grad()."""
    fake = generator(z).detach()
    loss = discriminator_loss(discriminator(real), discriminator(fake))
    loss.backward()
    d_optimizer.step()
    return loss.item()
