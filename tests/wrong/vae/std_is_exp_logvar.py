"""Expect failing: reparameterize_values, reparameterize_gradients
Mistake: the standard deviation is taken as exp(logvar), which is the variance. "log-var"
reads like "log of the spread", and exp undoes a log, so the 0.5 is easy to forget; z is
then drawn with the wrong spread and d z / d logvar is off by a factor.

Everything else comes from solutions/vae/vae.py.
"""

import torch


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + std * eps, with std computed as exp(logvar)."""
    std = torch.exp(logvar)
    return mu + std * eps
