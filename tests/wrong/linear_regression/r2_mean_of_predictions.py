"""Expect failing: r2
Mistake: r2's SS_tot is measured around the mean of the predictions, not of y_true.
The baseline r2 compares against is 'always predict the mean target', so SS_tot must use
mean(y_true); with biased predictions the two differ.

Everything else comes from solutions/linear_regression/linear_regression.py.
"""

import numpy as np


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination: 1 - SS_res / SS_tot.

    SS_res = sum((y_true - y_pred) ** 2), SS_tot = sum((y_true - mean(y_true)) ** 2).
    1 is a perfect fit, 0 is no better than always predicting mean(y_true), and it can be
    negative. y_true is assumed not to be constant (SS_tot > 0).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    ss_res = np.sum((y_true - y_pred) ** 2)
    ss_tot = np.sum((y_true - np.mean(y_pred)) ** 2)
    return float(1.0 - ss_res / ss_tot)
