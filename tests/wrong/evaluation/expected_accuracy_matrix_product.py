"""Expect failing: random_baseline
Mistake: expected_random_accuracy writes sum of p_c ** 2 as the row-times-column product p p^T.
Copied from the maths, p[None, :] @ p[:, None] holds the right number in a (1, 1) array, not
the Python float the docstring promises.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np


def expected_random_accuracy(y: np.ndarray) -> float:
    """The expected accuracy of random_baseline(y, len(y), seed) scored against y itself.

    A guess is right when it names the true label. With class frequencies p_c both for the
    truth and for the guesses, that happens with probability sum over c of p_c ** 2.
    Shapes: y (N,) int. Returns a Python float.
    """
    _, counts = np.unique(y, return_counts=True)
    frequencies = counts / len(y)
    return frequencies[None, :] @ frequencies[:, None]
