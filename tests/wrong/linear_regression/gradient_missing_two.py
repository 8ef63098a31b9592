"""Expect failing: gradients, fit_gd_matches, standardized_vs_raw, too_large_lr_diverges
Mistake: gradients divides by N but drops the factor 2 from the derivative of r ** 2.
The direction is right, so descent still converges, only at half the intended step: the
trajectory no longer matches, 3000 steps fall short, and lr = 0.3 no longer diverges.

Everything else comes from solutions/linear_regression/linear_regression.py.
"""

import numpy as np


def gradients(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """Gradients of the mean squared error L = (1/N) * sum((X @ w + b - y) ** 2).

    With the residuals r = X @ w + b - y:
        dL/dw = (2/N) * X.T @ r        dL/db = (2/N) * sum(r)

    Shapes: X (N, D), y (N,), w (D,) float64, b a float -> (dw (D,) float64, db a float).
    """
    residuals = predict(X, w, b) - y
    n = len(y)
    return (X.T @ residuals) / n, float(np.sum(residuals) / n)
