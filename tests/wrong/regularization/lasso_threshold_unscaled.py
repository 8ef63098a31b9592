"""Expect failing: lasso_matches_sklearn, lasso_exact_zeros
Mistake: rho_j is the raw sum Xc[:, j] @ (...) without the / N, while z_j keeps it, so the
weight comes out right only when alpha is 0: alpha is compared with a number N times too
large, the penalty is N times too weak, and almost no weight becomes exactly zero.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np


def lasso_fit(
    X: np.ndarray, y: np.ndarray, alpha: float, n_sweeps: int
) -> tuple[np.ndarray, float]:
    """Lasso regression by cyclic coordinate descent (scikit-learn's `Lasso`).

    Minimises   (1/(2N)) * ||y - X @ w - b||^2 + alpha * ||w||_1    (b is not penalised)

    Centre X and y as in ridge_fit, start from w = 0, and keep the residual r = yc - Xc @ w.
    A sweep visits j = 0, 1, ..., D-1 in order and sets w[j] to the exact minimiser over w[j]
    with the other weights fixed:
                rho_j = Xc[:, j] @ (r + Xc[:, j] * w[j]) / N    (the fit of column j without it)
                z_j   = Xc[:, j] @ Xc[:, j] / N
                w[j]  = soft_threshold(rho_j, alpha) / z_j
    updating r after each change. After n_sweeps sweeps, b = y_mean - x_mean @ w.

    Shapes: X (N, D) float64 with no constant column, y (N,) float64; alpha > 0, n_sweeps >= 1.
    Returns (w, b): w (D,) float64, with entries exactly 0.0 where the lasso drops a feature,
    and b a Python float.
    """
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(d)
    residual = yc.copy()
    for _ in range(n_sweeps):
        for j in range(d):
            column = Xc[:, j]
            rho = column @ (residual + column * w[j])
            new = float(soft_threshold(np.asarray(rho), alpha)) / (n * col_sq[j])
            residual -= column * (new - w[j])
            w[j] = new
    return w, float(y_mean - x_mean @ w)
