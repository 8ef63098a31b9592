"""Expect failing: split_stratified
Mistake: train_val_test_split accepts stratify but always splits all rows as one group.
A plain shuffle keeps the proportions only on average; a small class can come out
several rows short in one part and over in another.

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
    rng = np.random.default_rng(seed)
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
