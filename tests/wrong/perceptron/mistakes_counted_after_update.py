"""Expect failing: train_epoch_matches, xor_never_converges
Mistake: each row is checked after its own update ('update, then check' feels natural).
A row that was just corrected usually looks right, so the count drops to 0 too early:
it reports mistake-free epochs too early, even on XOR (the checks judge the weights themselves).

Everything else comes from solutions/perceptron/perceptron.py.
"""

import torch


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
