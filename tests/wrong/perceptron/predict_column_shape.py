"""Expect failing: predict_step, predict_boundary, update_rule, train_epoch_matches
Mistake: w is used as a column, X @ w[:, None], out of habit from maths notation.
predict then returns shape (N, 1), predict(...)[0] has shape (1,), and b + lr * error
turns the 0-d bias into shape (1,). The values, and so the learning, are unchanged.

Everything else comes from solutions/perceptron/perceptron.py.
"""

import torch


def predict(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Classify every row of X with the perceptron (w, b).

    Maths:  z = X @ w + b            (one number per row)
            y_hat = step(z),  step(z) = 1 if z >= 0 else 0

    Note the boundary: a row with z exactly 0 is classified as 1.

    Shapes: X (N, D), w (D,), b a 0-d tensor (shape ()).
    Returns a tensor of shape (N,) holding 0.0 and 1.0, with X's dtype and on X's device.
    """
    z = X @ w[:, None] + b
    return (z >= 0).to(X.dtype)
