"""Expect failing: kmeans_empty_cluster
Mistake: every centre is set to the mean of its points with no special case, so a cluster
that gets no points takes the mean of an empty array: NaN (with only a RuntimeWarning).

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def _update_centres(
    X: np.ndarray, labels: np.ndarray, centres: np.ndarray, d2: np.ndarray
) -> np.ndarray:
    """Cluster means; an empty cluster moves to the points worst served by their own centre."""
    new = centres.copy()
    for j in range(len(centres)):
        new[j] = X[labels == j].mean(axis=0)
    return new
