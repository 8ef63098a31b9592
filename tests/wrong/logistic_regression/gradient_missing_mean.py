"""Expect failing: gradients, matches_sklearn, adelie_boundary
Mistake: gradients sums over the rows instead of averaging (X.T @ (p - y), no 1/N).
The direction is right but every step is N times too long, so with the learning rates
that suit the mean loss, descent overshoots and bounces around instead of converging.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def gradients(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """Gradients of nll with respect to w and b.

    With p = predict_proba(X, w, b):
        d nll / dw = X.T @ (p - y) / N        d nll / db = mean(p - y)

    Shapes: X (N, D), y (N,), w (D,) float64, b a float -> (dw (D,) float64, db a float).
    """
    error = predict_proba(X, w, b) - y
    return X.T @ error, float(np.sum(error))
