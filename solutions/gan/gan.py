"""Generative adversarial networks: two losses, two optimizers, one alternating training step.

A generator G turns noise z into points; a discriminator D gives each point a logit, its
score for "this point is real". What you write, in this order (`train_gan` uses them all):

1. `discriminator_loss`: how badly D tells real points from generated ones;
2. `minimax_generator_loss` and `non_saturating_generator_loss`: the two losses G can
   minimize, the one of the original minimax game and the one used in practice;
3. `make_optimizers`: one Adam optimizer per network;
4. `discriminator_step` and `generator_step`: one update of each network, leaving the other
   network's weights alone.

Rules: every loss works from the logits (never a sigmoid and then a log: that breaks at
logits like +-100), averages over the batch, returns a 0-d tensor with the logits' dtype and
device that autograd can differentiate, and leaves the logits it is given as they were (no
in-place operation on them, such as `logits *= -1`: the caller may still need them). The
networks (`Generator`, `Discriminator`), the training loop (`train_gan`) and three helpers the
checks call are provided at the bottom: leave them as they are.

Read lesson.md for the ideas, then run `mllab check gan`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F  # noqa: F401 (there if you want it)
from torch import nn

Log = Callable[[str, float, int], None]
LATENT = 4  # numbers of noise per generated point


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's binary cross-entropy: real points are labelled 1, generated ones 0.

    Maths, with D(x) = sigmoid(logit) the discriminator's probability that x is real:
        loss = mean_i [ -log D(x_i) ]  +  mean_j [ -log(1 - D(G(z_j))) ]
             = mean_i softplus(-r_i)   +  mean_j softplus(f_j)
    where r are the logits of real points, f those of generated ones, and
    softplus(l) = log(1 + exp(l)) = max(l, 0) + log(1 + exp(-|l|)) (the right side never
    overflows). Each batch is averaged on its own, then the two means are added.

    Shapes: real_logits (N,), fake_logits (M,), the same float dtype and device.
    Returns a 0-d tensor, finite for any finite logits (+-1000 included), differentiable.
    real_logits and fake_logits are not modified.
    """
    # TODO: score the real logits against the label "real" and the generated ones against
    #       "generated", each with a cross-entropy computed from the logits themselves (no
    #       sigmoid, no log of a probability). Average each batch, then add the two averages.
    # BEGIN SOLUTION
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_term + fake_term
    # END SOLUTION


def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The generator's loss in the original minimax game: mean log(1 - D(G(z))).

    Maths:  loss = mean_j log(1 - sigmoid(f_j)) = -mean_j softplus(f_j)
    G minimizes it, which is D's loss on the generated points with the sign flipped. It is
    never positive. When D rejects the generated points with confidence (f very negative) it
    is flat: its gradient, -sigmoid(f) / M per logit, all but vanishes.

    Shapes: fake_logits (M,). Returns a 0-d tensor with fake_logits' dtype and device,
    finite for any finite logits, differentiable. fake_logits is not modified.
    """
    # TODO: average log(1 - D) over the generated points, written as a function of the logits
    #       that stays finite at +-1000 (the docstring gives one). Mind the sign: this loss is
    #       never positive.
    # BEGIN SOLUTION
    return -F.softplus(fake_logits).mean()
    # END SOLUTION


def non_saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The generator's loss used in practice: mean -log D(G(z)).

    Maths:  loss = mean_j -log sigmoid(f_j) = mean_j softplus(-f_j)
    which is binary cross-entropy with the label "real" on generated points: G is trained to
    make D call its points real. Its gradient, -(1 - sigmoid(f)) / M per logit, is largest
    exactly where the minimax loss is flat, when D rejects G's points.

    Shapes: fake_logits (M,). Returns a 0-d tensor with fake_logits' dtype and device,
    finite for any finite logits, differentiable, never negative. fake_logits is not modified.
    """
    # TODO: average -log D over the generated points, computed from the logits (no sigmoid,
    #       no log of a probability). The label here is the one G wants D to give.
    # BEGIN SOLUTION
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    # END SOLUTION


def make_optimizers(
    generator: nn.Module, discriminator: nn.Module, lr: float
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """One Adam optimizer for each network: (g_optimizer, d_optimizer).

    Each optimizer holds the parameters of its own network and none of the other's, so that
    stepping one never moves the other. Both use the learning rate `lr` and
    betas = (0.5, 0.999), the usual choice for GANs (a shorter memory of past gradients, as
    the target each network chases keeps moving).

    Returns (g_optimizer, d_optimizer), two torch.optim.Adam, in that order.
    """
    # TODO: build two Adam optimizers with the settings of the docstring, each over the
    #       parameters of one network only.
    # BEGIN SOLUTION
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    return g_optimizer, d_optimizer
    # END SOLUTION


def discriminator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    d_optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    z: torch.Tensor,
) -> float:
    """One update of the discriminator on a batch of real points and a batch of noise.

    The step takes one d_optimizer step on discriminator_loss of D's logits for `real` and
    for the generated batch G(z). What the checks hold it to:
    - the discriminator's parameters may hold stale gradients from an earlier step, and
      backward adds to .grad: the step must follow the gradient of this loss alone;
    - the generator is left alone: its weights do not change, and no gradient reaches it
      (its parameters' .grad stay as they were), so the generated batch must be cut off
      from the generator's graph before D scores it.

    Shapes: real (N, 2), z (M, LATENT). Returns the loss (before the step) as a Python float.
    """
    # TODO: update the discriminator once: from cleared gradients, on the loss of the real
    #       batch and of a generated batch that no gradient can flow back through, with one
    #       step of d_optimizer. Return the loss as a float.
    # BEGIN SOLUTION
    d_optimizer.zero_grad()
    fake = generator(z).detach()
    loss = discriminator_loss(discriminator(real), discriminator(fake))
    loss.backward()
    d_optimizer.step()
    return loss.item()
    # END SOLUTION


def generator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    g_optimizer: torch.optim.Optimizer,
    z: torch.Tensor,
) -> float:
    """One update of the generator with the non-saturating loss.

    The step takes one g_optimizer step on non_saturating_generator_loss of D's logits for
    the generated batch G(z). What the checks hold it to:
    - the generator's parameters may hold stale gradients from an earlier step: the step
      must follow the gradient of this loss alone;
    - this time the gradient must pass through D to reach G, so nothing is cut off;
    - the discriminator's weights do not change (its .grad may fill up: the next
      discriminator step clears them).

    Shapes: z (M, LATENT). Returns the loss (before the step) as a Python float.
    """
    # TODO: update the generator once with the non-saturating loss, from cleared gradients.
    #       The gradient has to travel back through the discriminator into the generator;
    #       only g_optimizer steps. Return the loss as a float.
    # BEGIN SOLUTION
    g_optimizer.zero_grad()
    loss = non_saturating_generator_loss(discriminator(generator(z)))
    loss.backward()
    g_optimizer.step()
    return loss.item()
    # END SOLUTION


# ------------------------------------------------------------------------------------------
# Provided: the networks, the training loop, and helpers the checks call with plain tensors
# (the checks cannot send a network or an optimizer into your code). Leave them as they are.


class Generator(nn.Module):
    """LATENT noise numbers -> 64 (ReLU) -> 64 (ReLU) -> a 2-D point: (M, LATENT) -> (M, 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """A 2-D point -> 64 (LeakyReLU) -> 64 (LeakyReLU) -> one logit: (N, 2) -> (N,)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2),
            nn.Linear(64, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """A plain dict of copies of the model's parameters and buffers, for the checks."""
    named = [*model.named_parameters(), *model.named_buffers()]
    return dict((name, torch.clone(value.detach())) for name, value in named)


def train_gan(
    real: torch.Tensor,
    *,
    steps: int = 1500,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    device: str = "cpu",
    log: Log | None = None,
) -> dict[str, dict[str, torch.Tensor]]:
    """Train Generator() against Discriminator() on the rows of `real` (N, 2); return weights.

    Both networks start from torch.manual_seed(seed); batches and noise come from a generator
    seeded with `seed`. Each step is one discriminator_step then one generator_step, each on
    its own noise. Every 50 steps it logs the mean "discriminator loss" and "generator loss"
    of those steps. Returns {"generator": weights, "discriminator": weights}, each a plain
    dict {name: tensor} on `device`.
    """
    torch.manual_seed(seed)
    generator, discriminator = Generator().to(device), Discriminator().to(device)
    g_optimizer, d_optimizer = make_optimizers(generator, discriminator, lr)
    noise = torch.Generator().manual_seed(seed)
    real = real.to(device)
    d_sum, g_sum = 0.0, 0.0
    for step in range(1, steps + 1):
        rows = torch.randint(len(real), (batch_size,), generator=noise).to(device)
        z_d = torch.randn(batch_size, LATENT, generator=noise).to(device)
        z_g = torch.randn(batch_size, LATENT, generator=noise).to(device)
        d_sum += discriminator_step(generator, discriminator, d_optimizer, real[rows], z_d)
        g_sum += generator_step(generator, discriminator, g_optimizer, z_g)
        if step % 50 == 0:
            if log is not None:
                log("discriminator loss", d_sum / 50, step)
                log("generator loss", g_sum / 50, step)
            d_sum, g_sum = 0.0, 0.0
    return {"generator": _weights(generator), "discriminator": _weights(discriminator)}


def _networks(
    g_state: dict[str, torch.Tensor], d_state: dict[str, torch.Tensor], device: str
) -> tuple[Generator, Discriminator]:
    generator, discriminator = Generator().double(), Discriminator().double()
    generator.load_state_dict(g_state)
    discriminator.load_state_dict(d_state)
    return generator.to(device), discriminator.to(device)


def _grads(model: nn.Module) -> dict[str, torch.Tensor | None]:
    return {
        name: None if p.grad is None else p.grad.detach().clone()
        for name, p in model.named_parameters()
    }


def step_from(
    which: str,
    g_state: dict[str, torch.Tensor],
    d_state: dict[str, torch.Tensor],
    real: torch.Tensor,
    z: torch.Tensor,
    lr: float,
    stale: float,
) -> dict[str, object]:
    """For the checks: one discriminator_step (which="discriminator") or generator_step.

    The networks are loaded from the states in float64 on real's device, each with its own
    torch.optim.SGD(lr). Before the step, every parameter of the network being updated holds
    a stale gradient (all entries `stale`), as if left over from an earlier step; the other
    network's gradients are None. Returns the loss, both networks' weights after the step,
    and the gradients each network's parameters hold after it (None where none).
    """
    device = str(real.device)
    generator, discriminator = _networks(g_state, d_state, device)
    g_optimizer = torch.optim.SGD(generator.parameters(), lr=lr)
    d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=lr)
    updated = discriminator if which == "discriminator" else generator
    for parameter in updated.parameters():
        parameter.grad = torch.full_like(parameter, stale)
    if which == "discriminator":
        loss = discriminator_step(generator, discriminator, d_optimizer, real, z)
    else:
        loss = generator_step(generator, discriminator, g_optimizer, z)
    return {
        "loss": loss,
        "generator": _weights(generator),
        "discriminator": _weights(discriminator),
        "generator_grads": _grads(generator),
        "discriminator_grads": _grads(discriminator),
    }


def optimizers_from(
    g_state: dict[str, torch.Tensor], d_state: dict[str, torch.Tensor], lr: float
) -> list[dict[str, object]]:
    """For the checks: what make_optimizers returned, as plain data.

    For each returned optimizer: its type's name, the names of the parameters it holds
    ("generator.net.0.weight", ...), and the lr and betas of its first parameter group.
    """
    generator, discriminator = _networks(g_state, d_state, "cpu")
    names = {id(p): f"generator.{n}" for n, p in generator.named_parameters()}
    names.update({id(p): f"discriminator.{n}" for n, p in discriminator.named_parameters()})
    described = []
    for optimizer in make_optimizers(generator, discriminator, lr):
        groups = getattr(optimizer, "param_groups", [])
        held = [names.get(id(p), "another tensor") for g in groups for p in g["params"]]
        first = groups[0] if groups else {}
        described.append({
            "type": type(optimizer).__name__,
            "params": held,
            "lr": float(first.get("lr", float("nan"))),
            "betas": [float(b) for b in first.get("betas", ())],
        })  # fmt: skip
    return described


def generator_loss_gradients(fake_logits: torch.Tensor) -> dict[str, torch.Tensor | None]:
    """For the checks: the gradient of each generator loss for the logits (None if none)."""
    gradients: dict[str, torch.Tensor | None] = {}
    for name, loss_fn in (
        ("minimax", minimax_generator_loss),
        ("non_saturating", non_saturating_generator_loss),
    ):
        logits = fake_logits.detach().clone().requires_grad_(True)
        loss = loss_fn(logits)
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.backward()
        gradients[name] = logits.grad
    return gradients
