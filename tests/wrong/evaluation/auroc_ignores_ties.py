"""Expect failing: auroc
Mistake: AUROC counts the pairs where the positive scores strictly higher, so ties count 0.
The pair-counting definition is right, but a positive and a negative with equal scores
should count one half; forgetting them biases the area down whenever scores tie.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np


def auroc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve, summed over trapezoids between consecutive points.

    AUROC = sum over i of (fpr[i+1] - fpr[i]) * (tpr[i+1] + tpr[i]) / 2
    It equals the probability that a random positive scores higher than a random negative,
    counting a tie as one half. Matches sklearn.metrics.roc_auc_score.
    Shapes: y_true (N,) of 0/1 holding both classes, scores (N,) float. Returns a Python float.
    """
    positive_scores = scores[y_true == 1]
    negative_scores = scores[y_true != 1]
    wins = positive_scores[:, None] > negative_scores[None, :]
    return float(np.mean(wins))
