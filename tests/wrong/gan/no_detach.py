"""Expect failing: discriminator_step
Mistake: the fake batch is scored without .detach(), so the discriminator's loss.backward()
runs on through G(z) and fills the generator's .grad with gradients of D's loss. The
generator's weights do not move in this step (only d_optimizer steps), which is why the
mistake goes unnoticed: it wastes a backward pass through G, and any generator step that
forgets zero_grad() would then follow D's loss as well as its own.

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
    """One discriminator update, with the fake batch still attached to the generator."""
    d_optimizer.zero_grad()
    fake = generator(z)
    loss = discriminator_loss(discriminator(real), discriminator(fake))
    loss.backward()
    d_optimizer.step()
    return loss.item()
