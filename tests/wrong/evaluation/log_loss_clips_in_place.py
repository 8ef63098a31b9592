"""Expect failing: log_loss
Mistake: log_loss clips the caller's probabilities in place (np.clip(..., out=proba)).
The loss is right, but the caller's proba now holds eps where it held 0.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np


def log_loss(y_true: np.ndarray, proba: np.ndarray, eps: float = EPS) -> float:
    """The mean negative log-likelihood, clipping the probabilities to [eps, 1 - eps]."""
    p = np.clip(proba, eps, 1 - eps, out=proba)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))
