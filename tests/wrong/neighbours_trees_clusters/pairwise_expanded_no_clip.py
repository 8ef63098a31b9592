"""Expect failing: pairwise_distances
Mistake: the squared distances are expanded as ||a||^2 + ||b||^2 - 2 a.b (fast, one matrix
product) and the square root is taken without clipping at 0. Where two rows are nearly
equal, rounding leaves a tiny negative number, and np.sqrt of it is nan.

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def pairwise_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Euclidean distance between every row of A and every row of B, without Python loops."""
    squared = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] - 2.0 * A @ B.T
    with np.errstate(invalid="ignore"):
        return np.sqrt(squared)
