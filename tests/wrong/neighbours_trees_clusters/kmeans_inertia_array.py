"""Expect failing: kmeans_matches_sklearn
Mistake: the inertia is summed with keepdims=True, d2.min(axis=1, keepdims=True).sum(axis=0),
so kmeans returns it as a one-element array, not the Python float its docstring promises.
Its value is right; only the promised type tells it apart.

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def kmeans(
    X: np.ndarray, centres: np.ndarray, max_iter: int = 300
) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd's k-means; the inertia comes back as an array of shape (1,)."""
    centres = centres.copy()
    labels = np.full(len(X), -1)
    for _ in range(max_iter):
        d2 = _squared_distances(X, centres)
        new_labels = d2.argmin(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centres = _update_centres(X, labels, centres, d2)
    d2 = _squared_distances(X, centres)
    labels = d2.argmin(axis=1)
    inertia = d2.min(axis=1, keepdims=True).sum(axis=0)
    return centres, labels, inertia
