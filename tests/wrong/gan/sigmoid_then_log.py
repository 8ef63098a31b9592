"""Expect failing: extreme_logits
Mistake: every loss takes the sigmoid first and then the log of the probability, written
straight from the formulas. Fine for moderate logits, but sigmoid(-1000) is exactly 0 and
sigmoid(1000) exactly 1 in floating point, so log(0) = -inf appears and the loss is inf.

Everything else comes from solutions/gan/gan.py.
"""

import torch


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean log D(x) - mean log(1 - D(G(z))), through the probabilities."""
    real_term = -torch.log(torch.sigmoid(real_logits)).mean()
    fake_term = -torch.log(1 - torch.sigmoid(fake_logits)).mean()
    return real_term + fake_term


def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """mean log(1 - D(G(z))), through the probabilities."""
    return torch.log(1 - torch.sigmoid(fake_logits)).mean()


def non_saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """mean -log D(G(z)), through the probabilities."""
    return -torch.log(torch.sigmoid(fake_logits)).mean()
