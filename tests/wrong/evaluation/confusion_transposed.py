"""Expect failing: confusion_matrix_binary, confusion_matrix_labels
Mistake: rows index the predicted label and columns the true one (the transpose).
Both layouts appear in textbooks; this one swaps the places of FP and FN.

Everything else comes from solutions/evaluation/metrics.py.
"""

import numpy as np


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray | None = None
) -> np.ndarray:
    """Count how often each true label was predicted as each label.

    matrix[i, j] = number of samples with y_true == labels[i] and y_pred == labels[j]
    Rows are true labels, columns predicted labels. For binary labels [0, 1] that reads
        [[TN, FP],
         [FN, TP]]

    Shapes: y_true (N,) int, y_pred (N,) int; labels (K,) int or None.
    When labels is None, use every label that appears in y_true or y_pred, sorted ascending.
    When labels is given, keep its order; a label that never occurs gets a row and a column
    of zeros, and a sample whose true or predicted label is not in labels is not counted.
    Returns a (K, K) int64 array.
    """
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for i, true_label in enumerate(labels):
        for j, predicted_label in enumerate(labels):
            matrix[j, i] = np.sum((y_true == true_label) & (y_pred == predicted_label))
    return matrix
