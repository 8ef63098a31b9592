"""Expect failing: kmeans_matches_sklearn, kmeans_empty_cluster
Mistake: the loop returns after its first update (a `break` indented one level too deep,
or "assign then update" mistaken for the whole algorithm), so the centres are the means of
the first assignment rather than a fixed point of Lloyd's iterations.

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def kmeans(
    X: np.ndarray, centres: np.ndarray, max_iter: int = 300
) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd's k-means from the given starting centres (scikit-learn's KMeans with init=centres).

    Repeat at most max_iter times:
      1. assign: labels[n] = index of the centre nearest to X[n] (ties: the lower index);
      2. if no label changed since the previous round, stop;
      3. update: each centre becomes the mean of the points assigned to it. A cluster with no
         points has no mean: its centre jumps onto the point worst served right now, the one
         with the largest squared distance to the centre it is assigned to; with several
         empty clusters, the empty ones in increasing order take the worst, second worst, ...
    Finally assign every point to its nearest final centre once more (no change if the loop
    stopped in step 2) and compute
        inertia = sum_n ||X[n] - centres[labels[n]]||^2.

    Shapes: X (N, D) float64, centres (k, D) float64 (not modified), max_iter >= 1.
    Returns (centres (k, D) float64, labels (N,) int64, inertia a Python float).
    """
    centres = centres.copy()
    labels = np.full(len(X), -1)
    for _ in range(max_iter):
        d2 = _squared_distances(X, centres)
        new_labels = d2.argmin(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centres = _update_centres(X, labels, centres, d2)
        break
    d2 = _squared_distances(X, centres)
    labels = d2.argmin(axis=1)
    inertia = float(d2[np.arange(len(X)), labels].sum())
    return centres, labels, inertia
