"""Expect failing: predict_step
Mistake: predict converts with .float() instead of .to(X.dtype) (a common torch habit).
The result is float32 even for float64 inputs. The values are right and torch promotes
y - y_hat back to float64, so update and training still match the reference.

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
    return (z >= 0).float()
