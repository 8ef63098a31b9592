"""Expect failing: error_metrics
Mistake: rmse returns the mean squared error and forgets the square root.
The result is in squared units of y and, for errors above 1, much larger than the RMSE.

Everything else comes from solutions/linear_regression/linear_regression.py.
"""

import numpy as np


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error: sqrt(mse), in the units of y.

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    return mse(y_true, y_pred)
