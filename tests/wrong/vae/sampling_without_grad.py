"""Expect failing: reparameterize_gradients, reparameterize_uses_eps, training_reconstructs
Mistake: the sample is drawn under torch.no_grad(), because drawing a random number "is not
part of the model". The values of z are right, but z is cut off from mu and logvar, so the
reconstruction term never trains the encoder; only the KL does, which pulls every code to
the prior, and the decoder learns to draw the average digit.

Everything else comes from solutions/vae/vae.py.
"""

import torch


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + exp(0.5 * logvar) * eps, computed without autograd."""
    with torch.no_grad():
        return mu + torch.exp(0.5 * logvar) * eps
