"""Expect failing: kl_matches_torch, kl_monte_carlo, negative_elbo, training_reconstructs
Mistake: the KL is written as +0.5 * sum(1 + logvar - mu^2 - exp(logvar)), the ELBO's own
sign (the ELBO has "- KL", and the minus gets dropped when switching to the loss). The
"KL" is then never positive, and minimizing it pushes the codes as far from the prior as
it can: the held-out KL explodes.

Everything else comes from solutions/vae/vae.py.
"""

import torch


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The KL per row, with the sign of the ELBO's term instead of the KL's."""
    return 0.5 * torch.sum(1 + logvar - mu**2 - torch.exp(logvar), dim=1)
