"""Expect failing: train_epoch_matches, xor_never_converges
Mistake: mistakes sums the signed error y - y_hat (reusing update's error as a shortcut).
A +1 and a -1 cancel, so the count can be 0 or negative while rows are still wrong;
it reports convergence on XOR, which can never be learned (the checks judge weights themselves).

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
        y_hat = predict(w, b, x_row[None])[0]
        mistakes += int(y_row - y_hat)
        w, b = update(w, b, x_row, y_row, lr)
    return w, b, mistakes
