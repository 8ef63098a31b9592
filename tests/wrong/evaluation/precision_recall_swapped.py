"""Expect failing: precision_recall_f1
Mistake: precision divides TP by the true positives and recall by the predicted ones.
The two formulas differ only in their denominators, so they are easy to swap from memory.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np


def precision(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """Of the samples predicted `positive`, the fraction that truly are: TP / (TP + FP).

    Returns 0.0 when nothing is predicted positive (TP + FP == 0), as sklearn's
    precision_score(..., zero_division=0). Every other label counts as negative.
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    actual = y_true == positive
    if not actual.any():
        return 0.0
    true_positives = np.sum(actual & (y_pred == positive))
    return float(true_positives / np.sum(actual))


def recall(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """Of the samples that truly are `positive`, the fraction predicted so: TP / (TP + FN).

    Returns 0.0 when no sample is truly positive (TP + FN == 0), as sklearn's
    recall_score(..., zero_division=0). Every other label counts as negative.
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    predicted = y_pred == positive
    if not predicted.any():
        return 0.0
    true_positives = np.sum(predicted & (y_true == positive))
    return float(true_positives / np.sum(predicted))
