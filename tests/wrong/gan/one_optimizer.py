"""Expect failing: make_optimizers
Mistake: one Adam over both networks' parameters, handed out as both optimizers. In the
generator's step the loss backpropagates into D too, and the shared optimizer then moves D
along that gradient: every generator step also trains the discriminator to be fooled. On
the ring the next discriminator step often repairs the damage, so training may still look
fine; make_optimizers is checked directly for that reason.

Everything else comes from solutions/gan/gan.py.
"""

import torch
from torch import nn


def make_optimizers(
    generator: nn.Module, discriminator: nn.Module, lr: float
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """One optimizer for everything, returned twice."""
    parameters = list(generator.parameters()) + list(discriminator.parameters())
    optimizer = torch.optim.Adam(parameters, lr=lr, betas=(0.5, 0.999))
    return optimizer, optimizer
