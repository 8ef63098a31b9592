"""Expect failing: softmax_gradients, softmax_penguins
Mistake: softmax_gradients subtracts the label numbers, P - y[:, None], not one_hot(y, K).
NumPy broadcasting accepts it without complaint, but it subtracts 2 from every class's
probability for a row of class 2, instead of 1 from its own class only.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def softmax_gradients(
    X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of softmax_nll with respect to W and b.

    With P = softmax(X @ W + b) and Y = one_hot(y, K):
        dW = X.T @ (P - Y) / N        db = mean over rows of (P - Y)

    Shapes: X (N, D), y (N,) int64, W (D, K), b (K,) float64 -> (dW (D, K), db (K,)) float64.
    """
    error = softmax(X @ W + b) - y[:, None]
    return X.T @ error / len(y), error.mean(axis=0)
