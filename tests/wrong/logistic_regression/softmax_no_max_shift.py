"""Expect failing: softmax
Mistake: softmax exponentiates the scores directly, without subtracting each row's max.
Mathematically the same, but np.exp(1000) is inf and inf / inf is nan, so any row with a
large score breaks.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax: P[i, k] = exp(Z[i, k]) / sum_j exp(Z[i, j]).

    Subtracting each row's maximum first leaves the result unchanged (the factor exp(-max)
    cancels) and keeps np.exp from overflowing: the largest exponent becomes 0.

    Shapes: Z (N, K) float64 -> (N, K) float64, each row summing to 1.
    """
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)
