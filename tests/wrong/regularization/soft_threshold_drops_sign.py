"""Expect failing: soft_threshold, lasso_matches_sklearn
Mistake: soft_threshold is written sign(z) * max(z - t, 0), forgetting the absolute value,
so every negative input becomes 0 and the lasso can never give a negative weight.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np


def soft_threshold(z: np.ndarray, threshold: float) -> np.ndarray:
    """The soft-thresholding operator, elementwise: shrink towards 0 by `threshold`, or stop at 0.

    S(z, t) = sign(z) * max(|z| - t, 0)
            = z - t if z > t;   0 if -t <= z <= t;   z + t if z < -t

    Shapes: z any shape float64, threshold >= 0. Returns an array of z's shape.
    """
    return np.sign(z) * np.maximum(z - threshold, 0.0)
