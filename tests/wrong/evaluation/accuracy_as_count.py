"""Expect failing: accuracy
Mistake: accuracy returns the number of correct predictions instead of the fraction.
np.sum where np.mean was meant: the count reads like a score but is not between 0 and 1.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of samples predicted correctly, a float between 0 and 1.

    accuracy = (number of i with y_pred[i] == y_true[i]) / N
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    return float(np.sum(y_true == y_pred))
