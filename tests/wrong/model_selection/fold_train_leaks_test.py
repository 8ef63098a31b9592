"""Expect failing: kfold_matches_sklearn, kfold_shuffled
Mistake: a fold's training part is order[:start] plus order[start:], so it holds the test
block too. Slicing 'the rest' from start instead of from stop is an easy off-by-a-block,
and every score it produces is optimistic because the model has seen its test rows.

Everything else comes from solutions/model_selection/selection.py.
"""

import numpy as np


def kfold_indices(n: int, k: int, seed: int | None = None) -> list[Fold]:
    """Split the row indices 0..n-1 into k folds; return one (train, test) pair per fold.

    Order the indices 0..n-1, or shuffle them with np.random.default_rng(seed) when seed is
    not None, and cut them into k consecutive test folds. The first n % k folds hold n // k + 1
    indices, the others n // k, so no row is left out. Each fold's training part is every
    index not in its test part. Unshuffled, this is sklearn.model_selection.KFold(k).split.

    Returns a list of k tuples (train, test) of int64 index arrays.
    """
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    folds = []
    start = 0
    for size in sizes:
        stop = start + size
        folds.append((np.concatenate([order[:start], order[start:]]), order[start:stop]))
        start = stop
    return folds
