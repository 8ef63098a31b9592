"""Expect failing: ridge_matches_sklearn, validation_curve_matches
Mistake: ridge_fit adds a column of ones to X and solves the penalised system for it too,
so alpha * I also shrinks the bias. It is the textbook formula w = (X.T X + alpha I)^-1 X.T y
applied to the augmented X; the bias ends up pulled towards 0.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np


def ridge_fit(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge regression in closed form, with an unpenalised bias (scikit-learn's `Ridge`).

    Minimises   ||y - X @ w - b||^2 + alpha * ||w||^2     (a sum, no 1/N; b is not penalised)

    Centre first: x_mean = X.mean(axis=0), y_mean = y.mean(), Xc = X - x_mean, yc = y - y_mean.
    Then        w = solve(Xc.T @ Xc + alpha * I, Xc.T @ yc)
                b = y_mean - x_mean @ w

    Shapes: X (N, D) float64, y (N,) float64, alpha >= 0.
    Returns (w, b): w (D,) float64 and b a Python float.
    """
    Xa = np.column_stack([np.ones(len(X)), X])
    theta = np.linalg.solve(Xa.T @ Xa + alpha * np.eye(Xa.shape[1]), Xa.T @ y)
    return theta[1:], float(theta[0])
