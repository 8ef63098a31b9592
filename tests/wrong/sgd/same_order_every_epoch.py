"""Expect failing: sgd_follows_its_batches
Mistake: sgd asks minibatches for the batches once, before the epoch loop, and goes through
that same list in every epoch. Every example is still used once per epoch and the loss still
goes down, but the order never changes, so epoch after epoch the steps come in the same
sequence: the "stochastic" part is gone after the first epoch.

Everything else comes from solutions/sgd/sgd.py.
"""

import math

import torch


def sgd(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    lr: float,
    epochs: int,
    seed: int,
    schedule: dict | None = None,
    log: Log | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train logistic regression by mini-batch SGD, with one shuffle for the whole run."""
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    b = torch.zeros((), dtype=X.dtype, device=X.device)
    generator = torch.Generator().manual_seed(seed)
    total = epochs * math.ceil(n / batch_size)
    batches = minibatches(n, batch_size, generator)
    losses: list[torch.Tensor] = []
    seen, step = 0, 0
    for epoch in range(epochs):
        for batch in batches:
            if schedule is None:
                rate = lr
            elif schedule["name"] == "step_decay":
                rate = step_decay(lr, epoch, schedule["drop"], schedule["every"])
            else:
                rate = cosine(lr, step, total, schedule["lr_min"])
            w, b = logistic_step(w, b, X[batch], y[batch], rate)
            step += 1
            seen += len(batch)
            loss = bce_loss(w, b, X, y)
            losses.append(loss)
            if log is not None:
                log("loss", loss.item(), seen)
    return w, b, torch.stack(losses)
