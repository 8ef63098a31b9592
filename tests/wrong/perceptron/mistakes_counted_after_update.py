"""Expect failing: train_epoch_matches, xor_never_converges
Mistake: each row is checked after its own update ('update, then check' feels natural).
A row that was just corrected usually looks right, so the count drops to 0 too early:
it reports mistake-free epochs too early, even on XOR (the checks judge the weights themselves).

Otherwise identical to solutions/perceptron/perceptron.py.
"""

from __future__ import annotations

import torch


def predict(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Classify every row of X with the perceptron (w, b).

    Maths:  z = X @ w + b            (one number per row)
            y_hat = step(z),  step(z) = 1 if z >= 0 else 0

    Note the boundary: a row with z exactly 0 is classified as 1.

    Shapes: X (N, D), w (D,), b a 0-d tensor (shape ()).
    Returns a tensor of shape (N,) holding 0.0 and 1.0, with X's dtype and on X's device.
    """
    z = X @ w + b
    return (z >= 0).to(X.dtype)


def update(
    w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of Rosenblatt's learning rule on a single example (x, y).

    Maths:  y_hat = predict(w, b, x[None])[0]
            error = y - y_hat                      (0 when right, +1 or -1 when wrong)
            w_new = w + lr * error * x
            b_new = b + lr * error

    Shapes: w (D,), b (), x (D,), y () holding 0.0 or 1.0; lr a positive float.
    Returns (w_new, b_new) with the shapes of w and b. w and b are not modified.
    """
    y_hat = predict(w, b, x[None])[0]
    error = y - y_hat
    return w + lr * error * x, b + lr * error


def train_epoch(
    w: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lr: float
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """One pass over the rows of (X, y) in order, calling `update` on each row.

    A row counts as a mistake when its prediction, made with the weights as they are when the
    row is reached (before its own update), differs from its label.

    Shapes: w (D,), b (), X (N, D), y (N,) holding 0.0 and 1.0; lr a positive float.
    Returns (w_new, b_new, mistakes): the weights after the last row, and the number of
    mistakes in this pass as a Python int. w and b are not modified.
    """
    mistakes = 0
    for x_row, y_row in zip(X, y, strict=True):
        w, b = update(w, b, x_row, y_row, lr)
        y_hat = predict(w, b, x_row[None])[0]
        mistakes += int(y_hat != y_row)
    return w, b, mistakes
