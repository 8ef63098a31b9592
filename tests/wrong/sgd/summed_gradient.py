"""Expect failing: step_is_mean_gradient, notes_worked_step
Mistake: logistic_step adds up the examples' gradients instead of averaging them. That is the
gradient of the SUM of the losses: the step grows with the batch, so a learning rate that
suits batch size 1 is 32 times too large for batches of 32.

Everything else comes from solutions/sgd/sgd.py.
"""

import torch


def logistic_step(
    w: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One gradient step of logistic regression on one batch (summed over the batch)."""
    error = torch.sigmoid(X @ w + b) - y
    return w - lr * (X.T @ error), b - lr * error.sum()
