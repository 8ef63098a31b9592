"""The variational autoencoder's loss: reparameterization, the KL term, reconstruction, the ELBO.

What you write, in this order (`negative_elbo` uses the other four):

1. `reparameterize`: a sample z of N(mu, exp(logvar)), as a differentiable function of mu and
   logvar, from noise eps that the caller draws;
2. `kl_divergence`: the closed-form KL from N(mu, exp(logvar)) to the prior N(0, I);
3. `bernoulli_reconstruction` and `gaussian_reconstruction`: how badly the decoder's output
   explains the input, as a negative log-likelihood;
4. `negative_elbo`: the two terms put together into the number that training minimizes.

Rules: per-example quantities are sums (over pixels, over latents), one number per row of the
batch; only `negative_elbo` averages, over the rows. Inputs are never modified, and results keep
the inputs' dtype and device. The model (`VAE`), its training loop (`train_vae`) and a helper the
checks use (`reparameterize_grads`) are provided at the bottom: leave them as they are.

Read lesson.md for the ideas, then run `mllab check vae`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F  # noqa: F401 (there if you want it)
from torch import nn

Log = Callable[[str, float, int], None]


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """A sample z ~ N(mu, exp(logvar)) written as a function of mu and logvar.

    Maths:  z = mu + sigma * eps,   element by element, where
            sigma is the standard deviation:  sigma ** 2 = exp(logvar)  (logvar is a log-variance)
            eps ~ N(0, I) is drawn by the caller

    The randomness comes only from `eps`: the function draws no noise of its own, so the same
    arguments always give the same z. z stays in autograd's graph, so gradients flow from z back
    to mu and logvar (no torch.no_grad, .detach() or .data; a check reads this function's source).

    Shapes: mu, logvar, eps (N, L), all the same float dtype and device.
    Returns z, shape (N, L), with mu's dtype and device.
    """
    # TODO: shift and scale the given noise into a sample of N(mu, exp(logvar)). Mind that
    #       logvar is the log of the variance, not the standard deviation. Keep the result a
    #       differentiable function of mu and logvar, and take all randomness from eps.
    # BEGIN SOLUTION
    std = torch.exp(0.5 * logvar)
    return mu + std * eps
    # END SOLUTION


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(logvar)) || N(0, I) ) for each row, summed over the latent dimensions.

    Maths:  KL_n = -0.5 * sum_j (1 + logvar[n, j] - mu[n, j] ** 2 - exp(logvar[n, j]))
            (the latents are independent, so their KLs add up)

    Shapes: mu, logvar (N, L).
    Returns a tensor of shape (N,), one KL per row, each >= 0, and exactly 0 for a row where
    mu and logvar are all zeros (that row's q is the prior itself).
    """
    # TODO: evaluate the closed-form KL of the docstring for every latent of every row, then
    #       add up each row's latents (a sum, not a mean) to leave one value per row.
    # BEGIN SOLUTION
    return -0.5 * torch.sum(1 + logvar - mu**2 - torch.exp(logvar), dim=1)
    # END SOLUTION


def bernoulli_reconstruction(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) under independent Bernoullis, from the decoder's logits; summed over pixels.

    Maths:  p = sigmoid(logits)
            loss_n = -sum_d ( x[n, d] * log(p[n, d]) + (1 - x[n, d]) * log(1 - p[n, d]) )
    computed from the logits as   sum_d ( max(l, 0) - l * x + log(1 + exp(-|l|)) ),
    which never takes the log of 0, even for logits like +-100 (where sigmoid can round to
    exactly 0 or 1, and the first form then gives inf or NaN).

    Shapes: logits, x (N, D); x holds values in [0, 1] (pixel intensities).
    Returns a tensor of shape (N,), finite for any finite logits.
    """
    # TODO: score every pixel with the stable form of the docstring, working from the logits
    #       as they are (no sigmoid, no log of a probability), then add up each row's pixels.
    # BEGIN SOLUTION
    per_pixel = torch.clamp(logits, min=0) - logits * x + torch.log1p(torch.exp(-logits.abs()))
    return per_pixel.sum(dim=1)
    # END SOLUTION


def gaussian_reconstruction(
    x_hat: torch.Tensor, x: torch.Tensor, variance: float = 1.0
) -> torch.Tensor:
    """-log p(x | z) under N(x_hat, variance * I), without its constant; summed over pixels.

    Maths:  loss_n = sum_d (x[n, d] - x_hat[n, d]) ** 2 / (2 * variance)

    The full negative log-density also has the term 0.5 * D * log(2 * pi * variance), which
    does not depend on x_hat: it is left out.

    Shapes: x_hat, x (N, D); variance a positive float (the variance, not a standard
    deviation). Returns a tensor of shape (N,).
    """
    # TODO: evaluate the docstring's formula: each row's squared errors, added up over its
    #       pixels and scaled by the variance as shown. Leave the constant term out.
    # BEGIN SOLUTION
    return torch.sum((x - x_hat) ** 2, dim=1) / (2 * variance)
    # END SOLUTION


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
    """The loss a VAE minimizes: reconstruction plus beta times KL, averaged over the batch.

    Maths:  reconstruction = mean_n recon_n      recon_n summed over the D pixels, from
                                                 bernoulli_reconstruction(decoded, x) or
                                                 gaussian_reconstruction(decoded, x, variance)
            kl             = mean_n KL_n         KL_n from kl_divergence, summed over L
            total          = reconstruction + beta * kl

    `likelihood` is "bernoulli" (decoded holds logits) or "gaussian" (decoded holds x_hat);
    any other value raises ValueError.

    Shapes: x, decoded (N, D); mu, logvar (N, L).
    Returns (total, reconstruction, kl), in that order: three 0-d tensors, differentiable.
    """
    # TODO: combine your four functions as the docstring's maths says. The only averaging
    #       happens here, over the rows of the batch, for each term separately; beta weighs
    #       the KL alone. An unknown likelihood is an error, not a silent default.
    # BEGIN SOLUTION
    if likelihood == "bernoulli":
        recon = bernoulli_reconstruction(decoded, x)
    elif likelihood == "gaussian":
        recon = gaussian_reconstruction(decoded, x, variance)
    else:
        raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
    reconstruction = recon.mean()
    kl = kl_divergence(mu, logvar).mean()
    return reconstruction + beta * kl, reconstruction, kl
    # END SOLUTION


# ------------------------------------------------------------------------------------------
# Provided: the model, its training loop, and a helper the checks use to read gradients.


class VAE(nn.Module):
    """64 pixels -> 64 hidden (ReLU) -> mu, logvar (2 x 4); 4 latents -> 64 hidden -> 64 logits."""

    def __init__(self, n_inputs: int = 64, n_hidden: int = 64, n_latent: int = 4) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_inputs, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 2 * n_latent)
        )
        self.decoder = nn.Sequential(
            nn.Linear(n_latent, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_inputs)
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar), each (N, n_latent)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(logits, mu, logvar) for a batch x (N, 64), with the noise eps (N, n_latent)."""
        mu, logvar = self.encode(x)
        return self.decoder(reparameterize(mu, logvar, eps)), mu, logvar


def train_vae(
    X: torch.Tensor,
    *,
    epochs: int = 30,
    lr: float = 3e-3,
    batch_size: int = 64,
    beta: float = 1.0,
    seed: int = 0,
    device: str = "cpu",
    log: Log | None = None,
) -> dict[str, torch.Tensor]:
    """Train VAE() on the rows of X (N, 64) with Adam and negative_elbo; return its weights.

    The weights start from torch.manual_seed(seed); batches and eps come from a generator
    seeded with `seed`. After each epoch it logs the epoch's mean "reconstruction" and "kl".
    Returns the trained weights as a plain dict {name: tensor} (on `device`).
    """
    torch.manual_seed(seed)
    model = VAE().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    noise = torch.Generator().manual_seed(seed)
    X = X.to(device)
    for epoch in range(1, epochs + 1):
        recon_sum, kl_sum = 0.0, 0.0
        for rows in torch.randperm(len(X), generator=noise).split(batch_size):
            x = X[rows.to(device)]
            mu, logvar = model.encode(x)
            eps = torch.randn(mu.shape, generator=noise, dtype=mu.dtype).to(device)
            logits = model.decoder(reparameterize(mu, logvar, eps))
            total, reconstruction, kl = negative_elbo(x, logits, mu, logvar, beta=beta)
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            recon_sum += reconstruction.item() * len(rows)
            kl_sum += kl.item() * len(rows)
        if log is not None:
            log("reconstruction", recon_sum / len(X), epoch)
            log("kl", kl_sum / len(X), epoch)
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def reparameterize_grads(
    mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor, upstream: torch.Tensor
) -> dict[str, torch.Tensor | bool | None]:
    """Run reparameterize, backpropagate sum(z * upstream), and return z and the gradients.

    Returns {"z": z, "tracks_grad": whether z is part of an autograd graph,
    "d_mu": the gradient for mu or None, "d_logvar": the gradient for logvar or None}.
    """
    mu = mu.detach().clone().requires_grad_(True)
    logvar = logvar.detach().clone().requires_grad_(True)
    z = reparameterize(mu, logvar, eps)
    tracks_grad = isinstance(z, torch.Tensor) and z.requires_grad
    if tracks_grad:
        (z * upstream).sum().backward()
    return {
        "z": z.detach() if isinstance(z, torch.Tensor) else z,
        "tracks_grad": tracks_grad,
        "d_mu": mu.grad,
        "d_logvar": logvar.grad,
    }
