"""Expect failing: written_by_hand
Mistake: ridge_fit hands the work to scikit-learn's Ridge, the checks' own oracle.
The weights are right, so only the rule against the shortcut catches it.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np
from sklearn.linear_model import Ridge


def ridge_fit(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge regression by sklearn."""
    model = Ridge(alpha=alpha).fit(X, y)
    return model.coef_, float(model.intercept_)
