"""Expect failing: written_by_hand
Mistake: kfold_indices hands the work to sklearn's KFold, the checks' own oracle.
The folds are right, so only the rule against the shortcut catches it.

Everything else comes from solutions/model_selection/selection.py.
"""

import numpy as np
from sklearn.model_selection import KFold


def kfold_indices(n: int, k: int, seed: int | None = None) -> list:
    """k (train, test) folds by sklearn."""
    splitter = KFold(k, shuffle=seed is not None, random_state=seed)
    return [(train, test) for train, test in splitter.split(np.zeros(n))]
