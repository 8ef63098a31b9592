"""Evaluating a classifier: the confusion matrix, accuracy, precision, recall, F1, the ROC curve,
AUROC, log loss, and the baselines every model has to beat.

What you write, top down (later functions may call earlier ones):

1. `confusion_matrix` and `accuracy`;
2. `precision`, `recall` and `f1_score`;
3. `roc_curve`, then `auroc` (the area under your curve);
4. `log_loss`;
5. the baselines: `majority_baseline`, `random_baseline`, `expected_random_accuracy`.

Rules that hold throughout:
- Labels are integer arrays holding any integers (0/1, or 2, 5, 9, ...). The binary metrics
  treat the label passed as `positive` (1 by default) as positive and every other label as
  negative.
- Each function's docstring is its specification; the checks compare your numbers with
  scikit-learn's `sklearn.metrics`, whose conventions the docstrings state (zero_division=0,
  tied scores, clipping). Write them with NumPy: calling sklearn does not count.
- No function changes its arguments: clip or sort a copy, never the caller's arrays.
- Where a docstring says "a Python float", return a built-in float, not a NumPy scalar.
- None of the functions needs a Python loop over samples (a loop over labels is fine).
- Random choices use the generator a docstring names, so a seed fixes the result.

Read lesson.md, then run `mllab check evaluation`; `mllab hint evaluation` gives hints one at
a time.
"""

from __future__ import annotations

import numpy as np

# sklearn's log_loss clips probabilities to [EPS, 1 - EPS] with the float64 machine epsilon.
EPS = float(np.finfo(np.float64).eps)


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
    # TODO: count every (true label, predicted label) pair into the K x K table described
    #       above: rows follow the true label, columns the predicted one. Settle the label
    #       list first (the docstring says what it is with and without `labels`).
    # BEGIN SOLUTION
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for i, true_label in enumerate(labels):
        for j, predicted_label in enumerate(labels):
            matrix[i, j] = np.sum((y_true == true_label) & (y_pred == predicted_label))
    return matrix
    # END SOLUTION


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of samples predicted correctly, a float between 0 and 1.

    accuracy = (number of i with y_pred[i] == y_true[i]) / N
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    # TODO: the share of samples predicted correctly: a fraction between 0 and 1, not a
    #       count, returned as a Python float.
    # BEGIN SOLUTION
    return float(np.mean(y_true == y_pred))
    # END SOLUTION


def precision(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """Of the samples predicted `positive`, the fraction that truly are: TP / (TP + FP).

    Returns 0.0 when nothing is predicted positive (TP + FP == 0), as sklearn's
    precision_score(..., zero_division=0). Every other label counts as negative.
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    # TODO: TP / (TP + FP) for the label `positive`. The denominator counts the samples
    #       predicted positive; when there are none, return 0.0 instead of dividing.
    # BEGIN SOLUTION
    predicted = y_pred == positive
    if not predicted.any():
        return 0.0
    true_positives = np.sum(predicted & (y_true == positive))
    return float(true_positives / np.sum(predicted))
    # END SOLUTION


def recall(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """Of the samples that truly are `positive`, the fraction predicted so: TP / (TP + FN).

    Returns 0.0 when no sample is truly positive (TP + FN == 0), as sklearn's
    recall_score(..., zero_division=0). Every other label counts as negative.
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    # TODO: TP / (TP + FN) for the label `positive`. The denominator counts the samples that
    #       truly are positive; when there are none, return 0.0 instead of dividing.
    # BEGIN SOLUTION
    actual = y_true == positive
    if not actual.any():
        return 0.0
    true_positives = np.sum(actual & (y_pred == positive))
    return float(true_positives / np.sum(actual))
    # END SOLUTION


def f1_score(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """The harmonic mean of precision P and recall R: F1 = 2 * P * R / (P + R).

    Returns 0.0 when P + R == 0 (sklearn's zero_division=0).
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    # TODO: the harmonic mean of your precision and recall for the same positive label
    #       (the docstring's formula, not the plain average), with 0.0 when both are 0.
    # BEGIN SOLUTION
    p = precision(y_true, y_pred, positive)
    r = recall(y_true, y_pred, positive)
    if p + r == 0:
        return 0.0
    return 2 * p * r / (p + r)
    # END SOLUTION


def roc_curve(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve: false and true positive rates as the decision threshold goes down.

    A threshold t predicts 1 for every sample with scores >= t. The thresholds are +inf (nothing
    predicted positive) followed by every distinct score in decreasing order, so tied scores
    cross the threshold together and make a single point. For each threshold:
        tpr = TP / (number of true 1s)       fpr = FP / (number of true 0s)
    The curve starts at (fpr, tpr) = (0, 0) and ends at (1, 1). This is what
    sklearn.metrics.roc_curve(y_true, scores, drop_intermediate=False) returns.

    Shapes: y_true (N,) of 0/1 holding both classes, scores (N,) float.
    Returns (fpr, tpr, thresholds), each (T + 1,) float64 with T the number of distinct scores.
    """
    # TODO: lower the threshold from +inf through every distinct score and record the
    #       rates at each stop. Samples with tied scores cross together: one point per
    #       distinct score, never one per sample. Return the three arrays in that order.
    # BEGIN SOLUTION
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    is_positive = y_true[order] == 1
    true_positives = np.cumsum(is_positive)
    false_positives = np.cumsum(~is_positive)
    # Keep the last sample of every run of tied scores: its counts include the whole run.
    last_of_run = np.append(sorted_scores[1:] != sorted_scores[:-1], True)
    tps = np.concatenate([[0], true_positives[last_of_run]])
    fps = np.concatenate([[0], false_positives[last_of_run]])
    thresholds = np.concatenate([[np.inf], sorted_scores[last_of_run]]).astype(np.float64)
    return fps / fps[-1], tps / tps[-1], thresholds
    # END SOLUTION


def auroc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve, summed over trapezoids between consecutive points.

    AUROC = sum over i of (fpr[i+1] - fpr[i]) * (tpr[i+1] + tpr[i]) / 2
    It equals the probability that a random positive scores higher than a random negative,
    counting a tie as one half. Matches sklearn.metrics.roc_auc_score.
    Shapes: y_true (N,) of 0/1 holding both classes, scores (N,) float. Returns a Python float.
    """
    # TODO: the trapezoid sum above over the points of your ROC curve. The curve already
    #       turns tied scores into diagonal steps, which is what counts a tie as one half.
    # BEGIN SOLUTION
    fpr, tpr, _ = roc_curve(y_true, scores)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    # END SOLUTION


def log_loss(y_true: np.ndarray, proba: np.ndarray, eps: float = EPS) -> float:
    """The mean negative log-likelihood of the labels under the predicted probabilities.

    p = clip(proba, eps, 1 - eps)
    loss = -mean(y * log(p) + (1 - y) * log(1 - p))
    Clipping keeps a confident mistake (p = 0 for a true 1) large but finite instead of inf.
    With the default eps this matches sklearn.metrics.log_loss(y_true, proba, labels=[0, 1]).
    Shapes: y_true (N,) of 0/1, proba (N,) float, the predicted probability of label 1.
    Returns a Python float.
    """
    # TODO: the mean negative log-likelihood from the docstring. Clip the probabilities
    #       before any logarithm, so that a probability of exactly 0 or 1 gives a large
    #       but finite loss.
    # BEGIN SOLUTION
    p = np.clip(proba, eps, 1 - eps)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))
    # END SOLUTION


def majority_baseline(y_train: np.ndarray, n: int) -> np.ndarray:
    """Predict the most frequent label of y_train for n new samples.

    On a tie, take the smallest of the most frequent labels (as sklearn's
    DummyClassifier(strategy="most_frequent")).
    Shapes: y_train (M,) int. Returns (n,) with y_train's dtype.
    """
    # TODO: find the most frequent label of y_train (ties go to the smallest label) and
    #       predict it for all n new samples, in y_train's dtype.
    # BEGIN SOLUTION
    labels, counts = np.unique(y_train, return_counts=True)
    return np.full(n, labels[np.argmax(counts)], dtype=y_train.dtype)
    # END SOLUTION


def random_baseline(y_train: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Guess n labels at random, each label drawn with its frequency in y_train.

    Use np.random.default_rng(seed), so the same seed gives the same guesses.
    Shapes: y_train (M,) int. Returns (n,) with y_train's dtype, holding only labels of y_train.
    """
    # TODO: draw n independent guesses among the labels of y_train, each label with its
    #       share of y_train as its probability. All randomness comes from the generator
    #       named in the docstring, made from seed; never the global NumPy state.
    # BEGIN SOLUTION
    labels, counts = np.unique(y_train, return_counts=True)
    rng = np.random.default_rng(seed)
    return rng.choice(labels, size=n, p=counts / counts.sum())
    # END SOLUTION


def expected_random_accuracy(y: np.ndarray) -> float:
    """The expected accuracy of random_baseline(y, len(y), seed) scored against y itself.

    A guess is right when it names the true label. With class frequencies p_c both for the
    truth and for the guesses, that happens with probability sum over c of p_c ** 2.
    Shapes: y (N,) int. Returns a Python float.
    """
    # TODO: the docstring's sum of squared class frequencies p_c (a share of len(y), not a
    #       count), as a Python float.
    # BEGIN SOLUTION
    _, counts = np.unique(y, return_counts=True)
    frequencies = counts / len(y)
    return float(np.sum(frequencies**2))
    # END SOLUTION
