"""Expect failing: train_one_epoch
Mistake: train_one_epoch never calls optimizer.zero_grad(), so backward() adds each batch's
gradient to those of all earlier batches. Nothing raises and the loss may even go down at
first, which is why this is the classic PyTorch bug.

Everything else comes from solutions/training_loop/training_loop.py.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: str,
) -> float:
    """One pass over `loader`, making exactly one optimizer step per batch.

    For each batch: move it to `device`, then zero_grad, forward, loss, backward, step.
    The model is put in training mode first (model.train()).

    Returns the mean training loss over all examples of the epoch, as a float: each batch's
    loss (a mean over the batch) weighted by the batch's size.
    """
    model.train()
    total, count = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count
