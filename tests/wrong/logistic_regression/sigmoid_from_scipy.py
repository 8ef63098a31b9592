"""Expect failing: written_by_hand
Mistake: sigmoid calls scipy.special.expit, which the checks compare with, instead of the
docstring's stable form written with NumPy. Every value is right; only the rule that the
model is written by hand catches it.

Everything else comes from solutions/logistic_regression/logistic_regression.py.
"""

import numpy as np
from scipy.special import expit


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)), elementwise, finite for every finite z."""
    return expit(np.asarray(z, dtype=np.float64))
