"""Expect failing: knn_classify_matches_sklearn, knn_regress_matches_sklearn
Mistake: the neighbours are sorted with np.argsort(distances, axis=0), which ranks the
queries for each training point instead of the training points for each query. The shape
(M, k) still comes out right, so nothing crashes, but the labels are those of unrelated rows.

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def _neighbours(X_train: np.ndarray, X_query: np.ndarray, k: int) -> np.ndarray:
    """Indices (M, k) of each query's k nearest training rows, nearest first."""
    distances = pairwise_distances(X_query, X_train)
    # A stable sort breaks distance ties by the lower training index.
    return np.argsort(distances, axis=0, kind="stable")[:, :k]
