"""Expect failing: predict_step, predict_boundary, update_rule, train_epoch_matches, learns_and, learns_penguins, xor_never_converges
Mistake: predict returns the bool tensor z >= 0 and forgets .to(X.dtype).
It prints like 0/1, but torch refuses y - y_hat with a bool tensor, so update and
everything built on it raise.

Everything else comes from solutions/perceptron/perceptron.py.
"""  # noqa: E501

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
    return z >= 0
