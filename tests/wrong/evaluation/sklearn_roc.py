"""Expect failing: written_by_hand
Mistake: roc_curve and auroc hand the work to sklearn.metrics, the checks' own oracle.
The numbers are right, so only the rule against the shortcut catches it.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np
from sklearn import metrics


def roc_curve(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve, one point per distinct score."""
    return metrics.roc_curve(y_true, scores, drop_intermediate=False)


def auroc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve."""
    return float(metrics.roc_auc_score(y_true, scores))
