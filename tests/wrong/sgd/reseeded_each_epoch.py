"""Expect failing: sgd_follows_its_batches
Mistake: sgd makes its generator inside the epoch loop, torch.Generator().manual_seed(seed)
at the start of every epoch. minibatches is called each epoch as it should be, but from a
freshly seeded generator, so it hands back the first epoch's order again and again.

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
    """Train logistic regression by mini-batch SGD, re-seeding the shuffle every epoch."""
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    b = torch.zeros((), dtype=X.dtype, device=X.device)
    total = epochs * math.ceil(n / batch_size)
    losses: list[torch.Tensor] = []
    seen, step = 0, 0
    for epoch in range(epochs):
        generator = torch.Generator().manual_seed(seed)
        for batch in minibatches(n, batch_size, generator):
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
