"""Expect failing: predict
Mistake: predict returns the comparison itself, a bool array, instead of int64 labels 0 and
1 as the docstring promises. The values are right; the dtype is not.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Labels 0 or 1: 1 where predict_proba(X, w, b) >= 0.5, else 0."""
    return predict_proba(X, w, b) >= 0.5
