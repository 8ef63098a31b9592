"""Expect failing: kmeans_plus_plus_spreads_out, kmeans_plus_plus_matches_reference
Mistake: each new centre is the point farthest from the chosen ones (np.argmax(d2)),
"far points are favoured" read as "always the farthest": deterministic, and drawn to outliers.

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np


def kmeans_plus_plus(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Choose k starting centres among the rows of X with k-means++.

    With rng = np.random.default_rng(seed), and exactly these random calls in this order:
      1. the first centre is X[i] with i = rng.integers(N) (every row equally likely);
      2. for each further centre: let d2[n] be the squared distance from X[n] to the nearest
         centre chosen so far, and pick X[i] with i = rng.choice(N, p=d2 / d2.sum()):
         a row is chosen with probability proportional to its squared distance, so far-away
         rows are favoured and rows already chosen (d2 = 0) are never chosen again.

    Shapes: X (N, D) float64 with at least k distinct rows; 1 <= k <= N; seed an int.
    Returns (k, D) float64: copies of the chosen rows, in the order chosen.
    """
    rng = np.random.default_rng(seed)
    n = len(X)
    chosen = [int(rng.integers(n))]
    d2 = ((X - X[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        index = int(np.argmax(d2))
        chosen.append(index)
        d2 = np.minimum(d2, ((X - X[index]) ** 2).sum(axis=1))
    return X[chosen].copy()
