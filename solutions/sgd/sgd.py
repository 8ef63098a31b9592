"""Stochastic gradient descent: mini-batches, one step on a batch, the training loop, schedules.

Your task: write the five functions below, in order; `sgd` uses all the others.

- `minibatches` shuffles the examples with a given random generator and cuts them into
  batches of row numbers, one epoch's worth per call;
- `logistic_step` takes one gradient step of logistic regression on one batch, with the
  gradient of the batch's MEAN binary cross-entropy;
- `step_decay` and `cosine` are two learning-rate schedules;
- `sgd` trains logistic regression with them: batch size 1 (one example per step), any b,
  or N (the whole data set per step, plain gradient descent), all with the same code.

Everything is in torch, on whatever device X lives on, and written by hand: the gradient
from logistic_step's formulas (no autograd), the batches from torch.randperm (no DataLoader),
the schedules from their formulas (no torch.optim). At the bottom, two provided functions
(`bce_loss`, which `sgd` uses, and `epoch_batches`, which the checks call) are complete:
leave them as they are. Read lesson.md for the ideas, then run `mllab check sgd`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

Log = Callable[[str, float, int], None]


def minibatches(
    n: int, batch_size: int, generator: torch.Generator, drop_last: bool = False
) -> list[torch.Tensor]:
    """The batches of one epoch over n examples: shuffled row numbers, cut into pieces.

    The order is one random permutation of 0, 1, ..., n - 1 drawn from `generator` and from
    nothing else: the global random state (torch.manual_seed, a bare torch.randperm) must not
    decide it. The permutation is cut into consecutive batches of batch_size rows. When n is
    not a multiple of batch_size the last batch is shorter, n % batch_size rows: it is kept
    when drop_last is False (every example is then used exactly once per epoch) and left out
    when drop_last is True (every batch then has batch_size rows).

    Drawing moves the generator on, so each call with the same generator gives the next
    epoch, in a new order; two generators seeded alike give the same sequence of epochs.

    Shapes: n >= 1 and batch_size >= 1 are ints; `generator` is a CPU torch.Generator.
    Returns a list of int64 tensors on the CPU: ceil(n / batch_size) of them, or
    n // batch_size with drop_last (none at all when batch_size > n).
    """
    # TODO: shuffle the n row numbers with the generator you are given, then cut the shuffled
    #       order into consecutive batches. Only the shorter last batch can be dropped, and
    #       only when drop_last asks for it.
    # BEGIN SOLUTION
    order = torch.randperm(n, generator=generator)
    batches = list(order.split(batch_size))
    if drop_last and n % batch_size:
        batches.pop()
    return batches
    # END SOLUTION


def logistic_step(
    w: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One gradient-descent step of logistic regression on one batch of B examples.

    Model:    p_i = sigmoid(z_i),  z_i = x_i . w + b
    Loss:     L = (1 / B) * sum_i [ -y_i log p_i - (1 - y_i) log(1 - p_i) ]   (a MEAN)
    Gradient: dL/dz_i = (p_i - y_i) / B, so
              dL/dw = (1 / B) * sum_i (p_i - y_i) x_i       (D,)
              dL/db = (1 / B) * sum_i (p_i - y_i)           ()
    Step:     w_new = w - lr * dL/dw,   b_new = b - lr * dL/db

    Because L is the batch's mean, a batch of 1 and a batch of 1,000 take steps of the same
    size for the same lr; with a sum, the step would grow with the batch.

    Shapes: w (D,), b () a 0-d tensor, X (B, D), y (B,) of 0.0 / 1.0, all of one floating
    dtype and on one device; B >= 1.
    Returns (w_new, b_new): new tensors with the shapes, dtype and device of w and b. The
    caller's w and b keep their values.
    """
    # TODO: take one step against the gradient of the batch's MEAN loss (the docstring's
    #       formulas). The size of the step must not grow with the batch: average over the
    #       examples, do not just add them up. Build new tensors; leave w and b unchanged.
    # BEGIN SOLUTION
    p = torch.sigmoid(X @ w + b)
    error = (p - y) / X.shape[0]
    return w - lr * (X.T @ error), b - lr * error.sum()
    # END SOLUTION


def step_decay(lr0: float, epoch: int, drop: float, every: int) -> float:
    """The learning rate of an epoch under step decay: multiplied by `drop` every few epochs.

    Maths:  lr = lr0 * drop ** floor(epoch / every)

    Epochs count from 0, so epochs 0, 1, ..., every - 1 use lr0 itself, epoch `every` is the
    first with lr0 * drop, epoch 2 * every the first with lr0 * drop ** 2. This is
    torch.optim.lr_scheduler.StepLR(step_size=every, gamma=drop) read at `epoch`.

    Types: lr0 > 0 and 0 < drop <= 1 are floats; epoch >= 0 and every >= 1 are ints.
    Returns a float.
    """
    # TODO: epoch 0 uses lr0; the rate is multiplied by drop once every `every` epochs, so
    #       it changes for the first time at epoch number `every`.
    # BEGIN SOLUTION
    return lr0 * drop ** (epoch // every)
    # END SOLUTION


def cosine(lr0: float, step: int, total: int, lr_min: float = 0.0) -> float:
    """The learning rate of a step under cosine annealing: half a cosine from lr0 to lr_min.

    Maths:  lr = lr_min + (lr0 - lr_min) * (1 + cos(pi * step / total)) / 2

    It starts at lr0 (step 0), falls slowly at first, fastest halfway (where it is the mean
    of lr0 and lr_min), and flattens out into lr_min at step `total`. This is
    torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total, eta_min=lr_min) read at `step`.

    Types: lr0 >= lr_min >= 0 are floats; 0 <= step <= total and total >= 1 are ints.
    Returns a float.
    """
    # TODO: half a period of a cosine, scaled so that it runs from lr0 at step 0 down to
    #       lr_min at step `total` (the docstring's formula).
    # BEGIN SOLUTION
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * step / total)) / 2
    # END SOLUTION


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
    """Train logistic regression by mini-batch SGD: batch size 1, b or N, with the same code.

    Setup:  w = zeros (D,) and b = a 0-d zero, both in X's dtype and on X's device;
            one CPU generator for the whole run, torch.Generator().manual_seed(seed).

    Then for each epoch 0, 1, ..., epochs - 1:
        batches = minibatches(N, batch_size, generator)   (drop_last False: every example
                                                           is used once per epoch)
        for each batch, in order:
            the learning rate of this step (see `schedule`);
            w, b = logistic_step(w, b, X[batch], y[batch], that learning rate);
            seen = the number of examples used so far in the run (all batches' sizes);
            loss = bce_loss(w, b, X, y), the mean loss over ALL N examples;
            record the loss, and if log is given, log("loss", loss as a float, seen).

    schedule, the learning rate of each step:
        None                                       lr at every step;
        {"name": "step_decay", "drop": d, "every": k}
                                                   step_decay(lr, epoch, d, k);
        {"name": "cosine", "lr_min": m}            cosine(lr, t, total, m), with t the number
                                                   of steps taken before this one and
                                                   total = epochs * (batches per epoch).

    Shapes: X (N, D) and y (N,) of 0.0 / 1.0, floating, on one device; batch_size >= 1.
    Returns (w, b, losses): the final w (D,) and b (), and losses, a 1-D tensor of the loss
    after each step (epochs * ceil(N / batch_size) values), all in X's dtype on X's device.
    """
    # TODO: set up as the docstring says, then loop over epochs and batches. One generator
    #       serves the whole run and each epoch asks it for a new shuffle; every batch,
    #       the shorter last one included, makes one step with that step's learning rate.
    #       After each step record the loss over all the data, logged against the number
    #       of examples seen so far.
    # BEGIN SOLUTION
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    b = torch.zeros((), dtype=X.dtype, device=X.device)
    generator = torch.Generator().manual_seed(seed)
    total = epochs * math.ceil(n / batch_size)
    losses: list[torch.Tensor] = []
    seen, step = 0, 0
    for epoch in range(epochs):
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
    # END SOLUTION


# ------------------------------------------------------------------------------------------
# Provided: `sgd` uses bce_loss; the checks call epoch_batches (a torch.Generator cannot be
# sent into your code, so it makes one from a seed, as `sgd` does). Nothing to write below.


def bce_loss(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean binary cross-entropy of the model on (X, y), as a 0-d tensor.

    Computed from the scores z = X @ w + b as softplus(z) - y * z, which equals
    -y log p - (1 - y) log(1 - p) for p = sigmoid(z) but never takes the log of 0.
    """
    z = X @ w + b
    return (F.softplus(z) - y * z).mean()


def epoch_batches(
    n: int, batch_size: int, seed: int, epochs: int, drop_last: bool = False
) -> list[list[torch.Tensor]]:
    """The batches of `epochs` successive epochs, from one generator seeded with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    return [minibatches(n, batch_size, generator, drop_last) for _ in range(epochs)]
