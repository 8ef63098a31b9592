"""Expect failing: gradients, matches_sklearn, adelie_boundary
Mistake: gradients uses y - p instead of p - y (the residual order of 'label minus guess').
Gradient descent then climbs the loss instead of descending it: the weights run off in the
wrong direction and the model gets most penguins wrong.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def gradients(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """Gradients of nll with respect to w and b.

    With p = predict_proba(X, w, b):
        d nll / dw = X.T @ (p - y) / N        d nll / db = mean(p - y)

    Shapes: X (N, D), y (N,), w (D,) float64, b a float -> (dw (D,) float64, db a float).
    """
    error = y - predict_proba(X, w, b)
    return X.T @ error / len(y), float(np.mean(error))
