"""Expect failing: seeds_reproducible
Mistake: the splits shuffle with the global np.random.permutation and ignore the seed.
Old tutorials use np.random everywhere; the global state moves on between calls, so the
same seed gives a different split each time and results cannot be reproduced.

Everything else comes from solutions/model_selection/selection.py.
"""

import numpy as np


def train_val_test_split(
    y: np.ndarray, val_fraction: float, test_fraction: float, seed: int, stratify: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the row indices 0..N-1 at random into a training, a validation and a test part.

    Shuffle with rng = np.random.default_rng(seed). Of a group of m rows, the test part takes
    round(test_fraction * m), the validation part round(val_fraction * m), training the rest.
    Without stratify the group is all N rows. With stratify=True, split the rows of each class
    (each value of y) as its own group, so every part keeps the class proportions of y.

    Shapes: y (N,) int labels. Returns (train, val, test): int64 index arrays that together
    hold every index 0..N-1 exactly once (their order does not matter).
    """
    rng = np.random
    if stratify:
        groups = [np.flatnonzero(y == label) for label in np.unique(y)]
    else:
        groups = [np.arange(len(y))]
    train, val, test = [], [], []
    for group in groups:
        shuffled = rng.permutation(group)
        n_test = round(test_fraction * len(group))
        n_val = round(val_fraction * len(group))
        test.append(shuffled[:n_test])
        val.append(shuffled[n_test : n_test + n_val])
        train.append(shuffled[n_test + n_val :])
    return np.concatenate(train), np.concatenate(val), np.concatenate(test)


def kfold_indices(n: int, k: int, seed: int | None = None) -> list[Fold]:
    """Split the row indices 0..n-1 into k folds; return one (train, test) pair per fold.

    Order the indices 0..n-1, or shuffle them with np.random.default_rng(seed) when seed is
    not None, and cut them into k consecutive test folds. The first n % k folds hold n // k + 1
    indices, the others n // k, so no row is left out. Each fold's training part is every
    index not in its test part. Unshuffled, this is sklearn.model_selection.KFold(k).split.

    Returns a list of k tuples (train, test) of int64 index arrays.
    """
    order = np.arange(n) if seed is None else np.random.permutation(n)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    folds = []
    start = 0
    for size in sizes:
        stop = start + size
        folds.append((np.concatenate([order[:start], order[stop:]]), order[start:stop]))
        start = stop
    return folds


def stratified_kfold_indices(y: np.ndarray, k: int, seed: int | None = None) -> list[Fold]:
    """k folds in which every class is spread as evenly as possible over the test folds.

    Order the indices (shuffled with np.random.default_rng(seed) when seed is not None), sort
    them by label, smallest first, with a stable sort (so the shuffled order survives within
    each class), then deal them out like cards: the i-th index in that order goes to test fold
    i % k. Every fold then holds n_c // k or n_c // k + 1 rows of each class c (n_c rows in
    all), and the fold sizes differ by at most one, as in sklearn's StratifiedKFold.

    Shapes: y (N,) int labels. Returns a list of k tuples (train, test) of int64 index arrays.
    """
    n = len(y)
    order = np.arange(n) if seed is None else np.random.permutation(n)
    order = order[np.argsort(y[order], kind="stable")]
    fold_of = np.empty(n, dtype=np.int64)
    fold_of[order] = np.arange(n) % k
    return [(np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)) for fold in range(k)]
