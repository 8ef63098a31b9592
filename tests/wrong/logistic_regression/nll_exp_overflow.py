"""Expect failing: nll
Mistake: nll uses the score form log(1 + exp(z)) - y * z, but with np.exp(z) written
out. For z above about 709 np.exp(z) overflows to inf, so a confident, right prediction
(z = 1000, label 1) costs inf instead of about 0.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def nll(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Mean negative log-likelihood (binary cross-entropy) of the labels y."""
    z = X @ w + b
    return float(np.mean(np.log(1.0 + np.exp(z)) - y * z))
