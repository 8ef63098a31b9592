"""Expect failing: matches_sklearn
Mistake: fit_gd keeps b as a one-element array, b = np.zeros(1), instead of a Python float.
Broadcasting hides it (X @ w + b still works) and every value is right, but the docstring
promises the binary model's b as a Python float, and a caller that formats or compares b
gets an array.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def fit_gd(
    X: np.ndarray, y: np.ndarray, n_iter: int, lr: float, log: LogFn | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """Fit (w, b) by n_iter steps of gradient descent on nll, starting from zeros.

    Each step k = 0, 1, ..., n_iter - 1:
        losses[k] = nll(X, y, w, b)            (the loss before this step's update)
        log("loss", losses[k], k)              (only when log is given)
        w, b = w - lr * dw, b - lr * db        (dw, db from gradients)

    Shapes: X (N, D), y (N,) of 0.0 and 1.0; n_iter an int; lr a float.
    Returns (w (D,) float64, b a float, losses (n_iter,) float64).
    """
    w = np.zeros(X.shape[1])
    b = np.zeros(1)
    losses = np.empty(n_iter)
    for step in range(n_iter):
        losses[step] = nll(X, y, w, b)
        if log is not None:
            log("loss", losses[step], step)
        dw, db = gradients(X, y, w, b)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses
