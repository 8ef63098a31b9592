"""Expect failing: nll
Mistake: nll takes np.log of the probabilities directly, without clipping them.
Once a score passes about 37, sigmoid rounds to exactly 1.0, log(1 - p) is -inf and
0 * -inf is nan: the loss turns nan for confident predictions, even correct ones.
The penguin scores stay below that, so training there happens to work.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def nll(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Mean negative log-likelihood (binary cross-entropy) of the labels y.

    With z = X @ w + b and p = sigmoid(z):
        nll = -(1/N) * sum(y * log(p) + (1 - y) * log(1 - p))
            =  (1/N) * sum(log(1 + exp(z)) - y * z)

    The second form, with np.logaddexp(0, z) for log(1 + exp(z)), never takes log(0), so it
    stays finite even for confidently wrong predictions.

    Shapes: X (N, D), y (N,) of 0.0 and 1.0, w (D,) float64, b a float -> a float.
    """
    p = predict_proba(X, w, b)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))
