"""Expect failing: precision_recall_f1
Mistake: F1 averages precision and recall with (P + R) / 2.
'F1 combines precision and recall' suggests a plain average, but F1 is the harmonic mean,
which stays low when either of the two is low.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np


def f1_score(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """The harmonic mean of precision P and recall R: F1 = 2 * P * R / (P + R).

    Returns 0.0 when P + R == 0 (sklearn's zero_division=0).
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    p = precision(y_true, y_pred, positive)
    r = recall(y_true, y_pred, positive)
    if p + r == 0:
        return 0.0
    return (p + r) / 2
