"""Expect failing: standardize
Mistake: standardize scales the test rows with their own mean and std.
Each set then looks perfectly centred, which hides how the test rows differ from the
training rows (a leak); a single test row even divides by a std of 0.

Everything else comes from solutions/linear_regression/linear_regression.py.
"""

import numpy as np


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale every feature to mean 0 and standard deviation 1 on the training rows.

    mean = X_train.mean(axis=0), std = X_train.std(axis=0) (population std, ddof=0), and both
    sets are transformed with these same numbers: (X - mean) / std. The test rows' own
    statistics are never used. Every feature of X_train is assumed to vary (std > 0).

    Shapes: X_train (N, D), X_test (M, D) float64 -> (X_train_scaled (N, D), X_test_scaled (M, D)).
    """
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    return (X_train - mean) / std, (X_test - X_test.mean(axis=0)) / X_test.std(axis=0)
