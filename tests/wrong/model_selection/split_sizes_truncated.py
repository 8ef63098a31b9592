"""Expect failing: split_partition, split_stratified
Mistake: the part sizes are cut off with int() instead of rounded: int(0.15 * 297) = 44 where
the docstring's round(44.55) = 45. Fractions that give whole numbers cannot show it.

Everything else comes from solutions/model_selection/selection.py.
"""

import numpy as np


def train_val_test_split(
    y: np.ndarray, val_fraction: float, test_fraction: float, seed: int, stratify: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sizes by int(), not round()."""
    rng = np.random.default_rng(seed)
    if stratify:
        groups = [np.flatnonzero(y == label) for label in np.unique(y)]
    else:
        groups = [np.arange(len(y))]
    train, val, test = [], [], []
    for group in groups:
        shuffled = rng.permutation(group)
        n_test = int(test_fraction * len(group))
        n_val = int(val_fraction * len(group))
        test.append(shuffled[:n_test])
        val.append(shuffled[n_test : n_test + n_val])
        train.append(shuffled[n_test + n_val :])
    return np.concatenate(train), np.concatenate(val), np.concatenate(test)
