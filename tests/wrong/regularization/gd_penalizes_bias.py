"""Expect failing: ridge_gradient_descent
Mistake: weight decay is applied to every parameter, the bias included (grad_b gets an
alpha * b term), as when a framework's weight_decay is set for all parameters. The bias
then shrinks towards 0 and gradient descent no longer reaches Ridge's solution.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np


def ridge_gradient_descent(
    X: np.ndarray, y: np.ndarray, alpha: float, lr: float, n_iter: int
) -> tuple[np.ndarray, float]:
    """Ridge regression by full-batch gradient descent, starting from w = 0, b = 0.

    Minimises   J(w, b) = (1/N) * (||X @ w + b - y||^2 + alpha * ||w||^2)
    (the ridge objective divided by N: same minimiser, gradients that do not grow with N).

    Each of the n_iter steps, with r = X @ w + b - y computed from the current w and b:
                grad_w = (2/N) * (X.T @ r + alpha * w)
                grad_b = (2/N) * r.sum()              (no alpha term: the bias is not penalised)
                w = w - lr * grad_w,   b = b - lr * grad_b

    Shapes: X (N, D) float64, y (N,) float64; alpha >= 0, lr > 0, n_iter >= 0.
    Returns (w, b) after n_iter steps: w (D,) float64 and b a Python float.
    """
    n = X.shape[0]
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(n_iter):
        residual = X @ w + b - y
        grad_w = (2.0 / n) * (X.T @ residual + alpha * w)
        grad_b = (2.0 / n) * (residual.sum() + alpha * b)
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, float(b)
