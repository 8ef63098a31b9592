"""Expect failing: best_split_ties
Mistake: best_split replaces the kept candidate when a later one scores the same
(impurity <= best), so an exact tie keeps the last candidate rather than the first. Where
the best split is unique nothing changes.

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def best_split(X: np.ndarray, y: np.ndarray) -> tuple[int, float, float]:
    """The split "X[:, feature] <= threshold" of one node with the lowest weighted Gini impurity."""
    n = len(y)
    best = (-1, 0.0, np.inf)
    for feature in range(X.shape[1]):
        values = np.unique(X[:, feature])
        for threshold in (values[:-1] + values[1:]) / 2.0:
            left = X[:, feature] <= threshold
            n_left = int(left.sum())
            impurity = (n_left * gini(y[left]) + (n - n_left) * gini(y[~left])) / n
            if impurity <= best[2]:
                best = (feature, float(threshold), impurity)
    return best
