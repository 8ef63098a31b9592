"""Expect failing: closed_form
Mistake: fit_closed_form solves least squares on X alone, without the column of ones.
The fitted plane is forced through the origin, so w absorbs the offset and b is 0.

Everything else comes from solutions/linear_regression/linear_regression.py.
"""

import numpy as np


def fit_closed_form(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares with an intercept: the (w, b) minimizing sum((X @ w + b - y) ** 2).

    A column of ones is appended to X so that b is fitted like any other weight, and the
    system is solved with np.linalg.lstsq (stable; no explicit matrix inverse).

    Shapes: X (N, D), y (N,) float64 -> (w (D,) float64, b a float).
    """
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    return w, 0.0
