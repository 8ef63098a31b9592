"""Expect failing: predict_boundary, train_epoch_matches, learns_and
Mistake: step(z) uses z > 0, so z == 0 gives 0 ('fires above the threshold' read as >).
Training starts at w = 0, b = 0 where every z is 0, so the first epoch already differs;
on AND the learned line passes through (1, 0), which the real step puts on the 1 side.

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
    z = X @ w + b
    return (z > 0).to(X.dtype)
