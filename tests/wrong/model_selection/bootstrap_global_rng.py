"""Expect failing: bootstrap_reproducible
Mistake: the resamples come from the global np.random.randint, which ignores the seed, so two
calls with the same seed give different intervals (on large resample counts the percentiles
often still agree, which is why the check uses five resamples).

Everything else comes from solutions/model_selection/selection.py.
"""

import numpy as np


def bootstrap_ci(
    y_true: np.ndarray, y_pred: np.ndarray, n_boot: int, level: float, seed: int
) -> tuple[float, float, float]:
    """Resampled with the global generator."""
    n = len(y_true)
    stats = np.empty(n_boot)
    for b in range(n_boot):
        rows = np.random.randint(0, n, size=n)
        stats[b] = accuracy(y_true[rows], y_pred[rows])
    tail = (1 - level) / 2
    low, high = np.percentile(stats, [100 * tail, 100 * (1 - tail)])
    return accuracy(y_true, y_pred), float(low), float(high)
