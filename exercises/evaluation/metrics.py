"""Evaluating a classifier: the confusion matrix, accuracy, precision, recall, F1, the ROC curve,
AUROC, log loss, and the baselines every model has to beat.

Your task: fill in the functions below. Each one is a few lines of NumPy; none needs a loop
over samples (a loop over labels is fine). Work from the top down:

- `confusion_matrix`, `accuracy`, then `precision`, `recall` and `f1_score`;
- `roc_curve`, then `auroc` (which can use your `roc_curve`);
- `log_loss`;
- the baselines: `majority_baseline`, `random_baseline`, `expected_random_accuracy`.

Labels are integer arrays (any integers: 0/1, or 2, 5, 9 ...); the binary functions treat the
label given as `positive` (1 by default) as the positive class. Return Python floats where a
docstring says float (float(...) turns a NumPy number into one). Read lesson.md, then run
`mllab check evaluation`.
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
    # TODO: if labels is None, set labels = np.unique(np.concatenate([y_true, y_pred]))
    #       (np.unique also sorts). Make matrix = np.zeros((K, K), dtype=np.int64) with
    #       K = len(labels); for each i, true_label in enumerate(labels) and each
    #       j, predicted_label in enumerate(labels), set matrix[i, j] to
    #       np.sum((y_true == true_label) & (y_pred == predicted_label)). Return matrix.
    raise NotImplementedError("evaluation: implement confusion_matrix")


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of samples predicted correctly, a float between 0 and 1.

    accuracy = (number of i with y_pred[i] == y_true[i]) / N
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    # TODO: y_true == y_pred is a bool array; its mean is the fraction of True values.
    #       Return float(np.mean(...)), a fraction, not the count of correct samples.
    raise NotImplementedError("evaluation: implement accuracy")


def precision(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """Of the samples predicted `positive`, the fraction that truly are: TP / (TP + FP).

    Returns 0.0 when nothing is predicted positive (TP + FP == 0), as sklearn's
    precision_score(..., zero_division=0). Every other label counts as negative.
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    # TODO: predicted = (y_pred == positive). If predicted has no True value, return 0.0.
    #       Otherwise TP = np.sum(predicted & (y_true == positive)); return
    #       float(TP / np.sum(predicted)).
    raise NotImplementedError("evaluation: implement precision")


def recall(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """Of the samples that truly are `positive`, the fraction predicted so: TP / (TP + FN).

    Returns 0.0 when no sample is truly positive (TP + FN == 0), as sklearn's
    recall_score(..., zero_division=0). Every other label counts as negative.
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    # TODO: the mirror image of precision: start from actual = (y_true == positive), return
    #       0.0 if it has no True value, else float(TP / np.sum(actual)).
    raise NotImplementedError("evaluation: implement recall")


def f1_score(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> float:
    """The harmonic mean of precision P and recall R: F1 = 2 * P * R / (P + R).

    Returns 0.0 when P + R == 0 (sklearn's zero_division=0).
    Shapes: y_true (N,) int, y_pred (N,) int. Returns a Python float.
    """
    # TODO: get p and r from your precision and recall (pass positive on); return 0.0 if
    #       p + r == 0, else 2 * p * r / (p + r). Not (p + r) / 2: that is the arithmetic mean.
    raise NotImplementedError("evaluation: implement f1_score")


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
    # TODO: 1. order = np.argsort(-scores, kind="stable"); sort scores and labels with it.
    #       2. Walking down that order, np.cumsum(labels == 1) counts the true positives so
    #          far and np.cumsum(labels != 1) the false positives.
    #       3. Keep only the last position of each run of equal scores:
    #          last = np.append(sorted_scores[1:] != sorted_scores[:-1], True).
    #       4. Put a 0 in front of both kept counts and np.inf in front of the kept scores
    #          (np.concatenate([[0], ...])), divide the counts by their last value (the
    #          totals of 1s and 0s), and return (fpr, tpr, thresholds).
    raise NotImplementedError("evaluation: implement roc_curve")


def auroc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve, summed over trapezoids between consecutive points.

    AUROC = sum over i of (fpr[i+1] - fpr[i]) * (tpr[i+1] + tpr[i]) / 2
    It equals the probability that a random positive scores higher than a random negative,
    counting a tie as one half. Matches sklearn.metrics.roc_auc_score.
    Shapes: y_true (N,) of 0/1 holding both classes, scores (N,) float. Returns a Python float.
    """
    # TODO: fpr, tpr, _ = roc_curve(y_true, scores); return the float of
    #       np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2).
    raise NotImplementedError("evaluation: implement auroc")


def log_loss(y_true: np.ndarray, proba: np.ndarray, eps: float = EPS) -> float:
    """The mean negative log-likelihood of the labels under the predicted probabilities.

    p = clip(proba, eps, 1 - eps)
    loss = -mean(y * log(p) + (1 - y) * log(1 - p))
    Clipping keeps a confident mistake (p = 0 for a true 1) large but finite instead of inf.
    With the default eps this matches sklearn.metrics.log_loss(y_true, proba, labels=[0, 1]).
    Shapes: y_true (N,) of 0/1, proba (N,) float, the predicted probability of label 1.
    Returns a Python float.
    """
    # TODO: p = np.clip(proba, eps, 1 - eps), then return
    #       float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))).
    raise NotImplementedError("evaluation: implement log_loss")


def majority_baseline(y_train: np.ndarray, n: int) -> np.ndarray:
    """Predict the most frequent label of y_train for n new samples.

    On a tie, take the smallest of the most frequent labels (as sklearn's
    DummyClassifier(strategy="most_frequent")).
    Shapes: y_train (M,) int. Returns (n,) with y_train's dtype.
    """
    # TODO: labels, counts = np.unique(y_train, return_counts=True) (labels come sorted, and
    #       np.argmax returns the first maximum, so ties go to the smallest label); return
    #       np.full(n, labels[np.argmax(counts)], dtype=y_train.dtype).
    raise NotImplementedError("evaluation: implement majority_baseline")


def random_baseline(y_train: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Guess n labels at random, each label drawn with its frequency in y_train.

    Use np.random.default_rng(seed), so the same seed gives the same guesses.
    Shapes: y_train (M,) int. Returns (n,) with y_train's dtype, holding only labels of y_train.
    """
    # TODO: labels, counts = np.unique(y_train, return_counts=True); make
    #       rng = np.random.default_rng(seed) and return
    #       rng.choice(labels, size=n, p=counts / counts.sum()).
    raise NotImplementedError("evaluation: implement random_baseline")


def expected_random_accuracy(y: np.ndarray) -> float:
    """The expected accuracy of random_baseline(y, len(y), seed) scored against y itself.

    A guess is right when it names the true label. With class frequencies p_c both for the
    truth and for the guesses, that happens with probability sum over c of p_c ** 2.
    Shapes: y (N,) int. Returns a Python float.
    """
    # TODO: get the counts with np.unique(y, return_counts=True), turn them into frequencies
    #       p = counts / len(y), and return float(np.sum(p ** 2)).
    raise NotImplementedError("evaluation: implement expected_random_accuracy")
