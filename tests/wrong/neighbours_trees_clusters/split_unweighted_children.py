"""Expect failing: best_split_matches_sklearn
Mistake: a split is scored by the plain average of its two children's Gini impurities,
not weighted by their sizes, so peeling a single point off into a pure child looks good.

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def best_split(X: np.ndarray, y: np.ndarray) -> tuple[int, float, float]:
    """The split "X[:, feature] <= threshold" of one node with the lowest weighted Gini impurity.

    Candidates: every feature j, and every midpoint between consecutive distinct sorted
    values of X[:, j]. A candidate sends the rows with X[:, j] <= threshold left, the others
    right, and scores
        impurity = (n_left / n) * gini(y_left) + (n_right / n) * gini(y_right).
    Return the lowest score; on an exact tie keep the first candidate found, visiting
    features in order and thresholds from small to large.

    Shapes: X (N, D) float64, y (N,) int64; some feature has two distinct values.
    Returns (feature, threshold, impurity): a Python int and two Python floats.
    """
    best = (-1, 0.0, np.inf)
    for feature in range(X.shape[1]):
        values = np.unique(X[:, feature])
        for threshold in (values[:-1] + values[1:]) / 2.0:
            left = X[:, feature] <= threshold
            impurity = (gini(y[left]) + gini(y[~left])) / 2
            if impurity < best[2]:
                best = (feature, float(threshold), impurity)
    return best
