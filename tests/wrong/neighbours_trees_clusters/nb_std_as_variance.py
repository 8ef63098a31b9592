"""Expect failing: naive_bayes_fit_matches_sklearn
Mistake: the per-class spread is stored with X.std instead of X.var, mixing up sigma and
sigma^2 in the Gaussian density (the formula is often written with sigma).

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def naive_bayes_fit(
    X: np.ndarray, y: np.ndarray, var_smoothing: float = 1e-9
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit Gaussian naive Bayes (scikit-learn's GaussianNB).

    classes   = the sorted distinct labels of y                           (C,)
    priors[c] = fraction of the rows whose label is classes[c]            (C,)
    means[c]  = mean of those rows, per feature                           (C, D)
    variances[c] = their variance per feature (divide by the count, not count - 1), plus
                   epsilon = var_smoothing * (largest variance of any feature over all of X),
                   so that a feature constant within a class never gives a zero variance.

    Shapes: X (N, D) float64, y (N,) int64. Returns (classes int64, priors, means, variances).
    """
    classes = np.unique(y)
    epsilon = var_smoothing * X.var(axis=0).max()
    priors = np.array([np.mean(y == c) for c in classes])
    means = np.stack([X[y == c].mean(axis=0) for c in classes])
    variances = np.stack([X[y == c].std(axis=0) for c in classes]) + epsilon
    return classes, priors, means, variances
