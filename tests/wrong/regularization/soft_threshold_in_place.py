"""Expect failing: soft_threshold
Mistake: soft_threshold writes into the caller's z (z[...] = 0, z -= ...) to save a copy.
The values returned are right; the caller's array is not what it was.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np


def soft_threshold(z: np.ndarray, threshold: float) -> np.ndarray:
    """Shrink towards 0 by threshold, in place."""
    small = np.abs(z) <= threshold
    z -= np.sign(z) * threshold
    z[small] = 0.0
    return z
