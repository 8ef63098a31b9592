"""Expect failing: bootstrap_ci
Mistake: each bootstrap sample is a permutation of the rows (drawn without replacement).
'Resample the data' sounds like 'shuffle the data', but a shuffled copy has exactly the
same accuracy, so every resample agrees and the interval collapses to a point.

Everything else comes from solutions/model_selection/selection.py.
"""

import numpy as np


def bootstrap_ci(
    y_true: np.ndarray, y_pred: np.ndarray, n_boot: int, level: float, seed: int
) -> tuple[float, float, float]:
    """A percentile bootstrap confidence interval for the accuracy of y_pred.

    Repeat n_boot times: draw N row indices with replacement (rng.integers(0, N, size=N),
    rng from np.random.default_rng(seed)) and compute the accuracy on those rows. The interval
    runs from the (1 - level) / 2 quantile of these accuracies to the (1 + level) / 2 quantile
    (np.percentile takes percents: multiply by 100).

    Shapes: y_true (N,) int, y_pred (N,) int; level in (0, 1), e.g. 0.95.
    Returns (estimate, low, high) as floats; estimate is the accuracy on all N rows.
    """
    rng = np.random.default_rng(seed)
    n = len(y_true)
    stats = np.empty(n_boot)
    for b in range(n_boot):
        rows = rng.permutation(n)
        stats[b] = accuracy(y_true[rows], y_pred[rows])
    tail = (1 - level) / 2
    low, high = np.percentile(stats, [100 * tail, 100 * (1 - tail)])
    return accuracy(y_true, y_pred), float(low), float(high)
