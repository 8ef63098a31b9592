"""Expect failing: negative_elbo, training_reconstructs
Mistake: both terms are means over all elements (reduction="mean" in F's losses, .mean() on
the whole KL matrix), which is how most losses in a course are reduced. The reconstruction
shrinks by 64 (the pixels) but the KL only by 4 (the latents), so the KL wins: the encoder
sends every digit to the prior and the decoder draws the average digit.

Everything else comes from solutions/vae/vae.py.
"""

import torch
import torch.nn.functional as F


def negative_elbo(
    x: torch.Tensor,
    decoded: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
    variance: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Reconstruction and KL as means over every element."""
    if likelihood == "bernoulli":
        reconstruction = F.binary_cross_entropy_with_logits(decoded, x)
    else:
        reconstruction = ((x - decoded) ** 2).mean() / (2 * variance)
    kl = (-0.5 * (1 + logvar - mu**2 - torch.exp(logvar))).mean()
    return reconstruction + beta * kl, reconstruction, kl
