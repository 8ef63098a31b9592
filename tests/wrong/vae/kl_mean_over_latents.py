"""Expect failing: kl_matches_torch, kl_monte_carlo, negative_elbo
Mistake: the KL of a row is averaged over the latent dimensions (torch.mean(..., dim=1)),
the habit from losses that are means. The latents are independent, so their KLs add up;
the mean is the KL divided by L, which weakens the pull towards the prior.

Everything else comes from solutions/vae/vae.py.
"""

import torch


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The KL per row, averaged instead of summed over the latent dimensions."""
    return -0.5 * torch.mean(1 + logvar - mu**2 - torch.exp(logvar), dim=1)
