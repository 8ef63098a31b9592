"""Expect failing: lasso_matches_sklearn
Mistake: a Jacobi-style sweep: every rho_j of a sweep comes from the residual left by the
previous sweep, so no coordinate sees the new values of the ones before it.
The divisions by N are right; only the order of the updates is wrong.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np


def lasso_fit(
    X: np.ndarray, y: np.ndarray, alpha: float, n_sweeps: int
) -> tuple[np.ndarray, float]:
    """Lasso regression by coordinate descent, all coordinates from the sweep's residual."""
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    z = (Xc**2).sum(axis=0) / n
    w = np.zeros(d)
    for _ in range(n_sweeps):
        residual = yc - Xc @ w
        rho = Xc.T @ residual / n + z * w
        w = soft_threshold(rho, alpha) / z
    return w, float(y_mean - x_mean @ w)
