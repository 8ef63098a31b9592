"""Expect failing: log_loss
Mistake: the probabilities go into np.log without clipping.
The formula looks complete without it, but one confident mistake (p = 0 for a true 1)
makes the loss inf, and the 0 * log(0) of a confident right answer makes it NaN.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np


def log_loss(y_true: np.ndarray, proba: np.ndarray, eps: float = EPS) -> float:
    """The mean negative log-likelihood of the labels under the predicted probabilities.

    p = clip(proba, eps, 1 - eps)
    loss = -mean(y * log(p) + (1 - y) * log(1 - p))
    Clipping keeps a confident mistake (p = 0 for a true 1) large but finite instead of inf.
    With the default eps this matches sklearn.metrics.log_loss(y_true, proba, labels=[0, 1]).
    Shapes: y_true (N,) of 0/1, proba (N,) float, the predicted probability of label 1.
    Returns a Python float.
    """
    p = proba
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))
