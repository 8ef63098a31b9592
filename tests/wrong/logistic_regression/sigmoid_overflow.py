"""Expect failing: sigmoid, predict
Mistake: sigmoid is written as np.exp(z) / (1 + np.exp(z)), an equivalent textbook form.
For z above about 709 np.exp(z) overflows to inf (with a RuntimeWarning), and inf / inf is
nan, so confident predictions come out as nan instead of 1.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)), elementwise, finite for every finite z.

    For z >= 0 use 1 / (1 + exp(-z)); for z < 0 use exp(z) / (1 + exp(z)). Either way
    np.exp only sees numbers <= 0, so it never overflows.

    Shapes: z any shape, float64 -> the same shape, float64, values in [0, 1].
    """
    e = np.exp(z)
    return e / (1.0 + e)
