"""Checks for the evaluation exercise: classification metrics and baselines against sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from grader import kit
from grader.kit import Mistake

pytestmark = pytest.mark.exercise("evaluation")

LABELS = np.array([2, 5, 9])
LABEL_ARGS = ("y_true", "y_pred")
CONFUSION_HINT = (
    "rows are true labels and columns predicted ones: matrix[i, j] counts samples with "
    "y_true == labels[i] and y_pred == labels[j]"
)
TRANSPOSED = (
    "the matrix is transposed: rows must be the true labels and columns the predicted ones "
    "(the transpose swaps FP and FN)"
)
SCORE_HINTS = {
    "precision": "precision = TP / (TP + FP), the share of predicted positives that are "
    "right; 0.0 when nothing is predicted positive",
    "recall": "recall = TP / (TP + FN), the share of true positives that were found; 0.0 "
    "when no sample is truly positive",
    "f1_score": "F1 is the harmonic mean 2 * P * R / (P + R); 0.0 when P + R == 0",
}
ARITHMETIC_MEAN = (
    "this is the arithmetic mean (P + R) / 2; F1 is the harmonic mean 2 * P * R / (P + R)"
)
# The title of the roc_curve check, as a learner sees it (for "fix ... first").
ROC_TITLE = "roc_curve gives sklearn's points and thresholds, with tied scores as one point"
ROC_HINT = (
    "one point per distinct score, from threshold +inf down: tied scores cross the threshold "
    "together, so they make one point, not one per sample"
)
VALUE_CHECKS = ("confusion_matrix_binary", "confusion_matrix_labels", "accuracy",
                "precision_recall_f1", "roc_curve", "auroc", "log_loss")  # fmt: skip
READY_MADE = kit.Shortcuts(
    "the library this exercise asks you to write", names={"sklearn", "torchmetrics"}
)


def _confusion(submission, name: str, hint: str, y_true, y_pred, *labels) -> None:
    """confusion_matrix (given labels when the check passes them) against sklearn's."""
    names = (*LABEL_ARGS, "labels")
    got = kit.call_unchanged(submission, "confusion_matrix", y_true, y_pred, *labels, names=names)
    want = skm.confusion_matrix(y_true, y_pred, labels=labels[0] if labels else None)
    hint = kit.likely_mistake(got, [Mistake(TRANSPOSED, want.T)], default=hint, expected=want)
    kit.assert_array_equal(got, want, name=name, hint=hint)


def test_confusion_matrix_binary(submission, seed):
    """confusion_matrix counts TN, FP, FN and TP like sklearn on 0/1 labels"""
    gen = np.random.default_rng(seed)
    for case, y_true, y_pred in [
        ("a small hand-made case", np.array([1, 1, 1, 0]), np.array([1, 0, 0, 0])),
        ("60 random labels", gen.integers(0, 2, 60), gen.integers(0, 2, 60)),
    ]:
        name = f"confusion_matrix(y_true, y_pred) on {case}"
        _confusion(submission, name, CONFUSION_HINT, y_true, y_pred)


@pytest.mark.points(2)
def test_confusion_matrix_labels(submission, seed):
    """confusion_matrix handles labels 2, 5, 9: sorted by default, or in the order given"""
    gen = np.random.default_rng(seed)
    y_true = gen.choice(LABELS, 50)
    y_pred = np.where(gen.random(50) < 0.6, y_true, gen.choice(LABELS, 50))
    only_two = gen.choice(LABELS[:2], 30)
    hint = (
        "without labels, use np.unique of y_true and y_pred together (sorted); with labels, "
        "index rows and columns in exactly that order"
    )
    for case, truth, predicted, labels in [
        ("labels=None", y_true, y_pred, None),
        ("labels=None, 9 only predicted, never true", only_two, gen.choice(LABELS, 30), None),
        ("labels=[9, 2, 5]", y_true, y_pred, np.array([9, 2, 5])),
        ("labels=[2, 5, 7, 9] (7 never occurs)", y_true, y_pred, np.array([2, 5, 7, 9])),
        ("labels=[5, 9] (samples labelled 2 are left out)", y_true, y_pred, np.array([5, 9])),
    ]:
        _confusion(submission, f"confusion_matrix with {case}", hint, truth, predicted, labels)


def test_accuracy(submission, seed):
    """accuracy is the fraction of correct predictions, between 0 and 1"""
    gen = np.random.default_rng(seed)
    y_true = gen.choice(LABELS, 40)
    y_pred = np.where(gen.random(40) < 0.7, y_true, gen.choice(LABELS, 40))
    constant = np.full(12, 5)
    rule = "divide the number of correct predictions by the number of samples"
    count = "this is the count of correct predictions: divide it by the number of samples"
    for case, truth, predicted in [
        ("labels 2, 5, 9", y_true, y_pred),
        ("one class only, all right", constant, constant),
        ("all wrong", np.zeros(8, dtype=np.int64), np.ones(8, dtype=np.int64)),
    ]:
        got = kit.call_unchanged(submission, "accuracy", truth, predicted, names=LABEL_ARGS)
        mistakes = [Mistake(count, np.sum(truth == predicted))]
        name, want = f"accuracy ({case})", skm.accuracy_score(truth, predicted)
        got = kit.py_float(got, name)  # the docstring promises a Python float
        kit.expect_close(got, want, name=name, rtol=1e-12, hint=rule, mistakes=mistakes)


@pytest.mark.points(2)
def test_precision_recall_f1(submission, seed):
    """precision, recall and F1 match sklearn, including a class never predicted"""
    gen = np.random.default_rng(seed)
    y_true = gen.integers(0, 2, 50)
    y_pred = np.where(gen.random(50) < 0.7, y_true, 1 - y_true)
    multi_true = gen.choice(LABELS, 60)
    multi_pred = np.where(gen.random(60) < 0.6, multi_true, gen.choice(LABELS, 60))
    for case, truth, predicted, positive in [
        ("y_true=[1, 1, 1, 0], y_pred=[1, 0, 0, 0]", [1, 1, 1, 0], [1, 0, 0, 0], 1),
        ("50 random 0/1 labels", y_true, y_pred, 1),
        ("50 random 0/1 labels, positive=0", y_true, y_pred, 0),
        ("labels 2, 5, 9, positive=2", multi_true, multi_pred, 2),
        ("labels 2, 5, 9, positive=9", multi_true, multi_pred, 9),
        ("1 is never predicted", y_true, np.zeros(50, dtype=np.int64), 1),
        ("only class 1 present, all right", np.ones(10, dtype=np.int64), np.ones(10), 1),
        ("only class 0 present, positive=1", np.zeros(10, dtype=np.int64), np.zeros(10), 1),
    ]:
        truth, predicted = np.asarray(truth, np.int64), np.asarray(predicted, np.int64)
        (p,), (r,), (f1,), _ = skm.precision_recall_fscore_support(
            truth, predicted, labels=[positive], average=None, zero_division=0
        )
        mistakes = {  # what each score's typical mistake returns, and the hint that names it
            "precision": Mistake("this is recall: " + SCORE_HINTS["precision"], r),
            "recall": Mistake("this is precision: " + SCORE_HINTS["recall"], p),
            "f1_score": Mistake(ARITHMETIC_MEAN, (p + r) / 2),
        }
        for (name, rule), want in zip(SCORE_HINTS.items(), (p, r, f1), strict=True):
            got = kit.call_unchanged(submission, name, truth, predicted, positive, names=LABEL_ARGS)
            call = f"{name}(y_true, y_pred, positive={positive}) with {case}"
            got = kit.py_float(got, call)  # the docstrings promise a Python float
            kit.expect_close(got, want, name=call, rtol=1e-9, hint=rule, mistakes=[mistakes[name]])


@pytest.mark.points(2)
def test_roc_curve(submission, seed):
    """roc_curve gives sklearn's points and thresholds, with tied scores as one point"""
    gen = np.random.default_rng(seed)
    y_true = gen.permutation(np.r_[np.ones(20, dtype=np.int64), np.zeros(25, dtype=np.int64)])
    small = (np.array([0, 0, 1, 1, 1]), np.array([0.1, 0.4, 0.4, 0.8, 0.8]))
    parts = {"fpr": kit.anything, "tpr": kit.anything, "thresholds": kit.anything}
    for case, truth, scores in [
        ("45 distinct scores", y_true, gen.random(45) + 0.3 * y_true),
        ("scores with many ties (k / 8)", y_true, np.round(8 * gen.random(45)) / 8),
        ("y_true=[0, 0, 1, 1, 1], scores=[.1, .4, .4, .8, .8]", *small),
    ]:
        got = kit.call_unchanged(submission, "roc_curve", truth, scores, names=("y_true", "scores"))
        result = kit.unpack(got, "roc_curve", **parts)
        expected = skm.roc_curve(truth, scores, drop_intermediate=False)
        for label, part, want in zip(parts, result, expected, strict=True):
            name = f"roc_curve's {label} ({case})"
            kit.assert_array_close(part, want, name=name, rtol=1e-12, hint=ROC_HINT)


def test_auroc(submission, seed):
    """auroc matches sklearn's roc_auc_score, counting tied scores as one half"""
    gen = np.random.default_rng(seed)
    y_true = gen.permutation(np.r_[np.ones(30, dtype=np.int64), np.zeros(30, dtype=np.int64)])
    tied = np.round(4 * gen.random(60) + y_true) / 4
    rule = (
        "sum trapezoids (fpr[i+1] - fpr[i]) * (tpr[i+1] + tpr[i]) / 2 over a curve with one "
        "point per distinct score; a positive and a negative with the same score count one half"
    )
    for case, scores in [
        ("distinct scores", gen.random(60) + 0.5 * y_true),
        ("scores with many ties (k / 4)", tied),
        ("every score tied", np.full(60, 0.5)),
        ("perfect scores", y_true + 0.1 * gen.random(60)),
        ("perfectly reversed scores", -(y_true + 0.1 * gen.random(60))),
    ]:
        got = kit.call_unchanged(submission, "auroc", y_true, scores, names=("y_true", "scores"))
        name, want = f"auroc ({case})", skm.roc_auc_score(y_true, scores)
        got = kit.py_float(got, name)  # the docstring promises a Python float
        hint = _roc_first(submission, y_true, scores, rule, got, want)
        kit.assert_number_close(got, want, name=name, rtol=1e-9, atol=1e-12, hint=hint)


def _roc_first(submission, y_true, scores, rule: str, got, want: float) -> str:
    """auroc sums the trapezoids of the learner's own curve: a wrong curve is the cause to fix."""
    if kit.matches(got, want, rtol=1e-9, atol=1e-12):
        return rule
    try:
        curve = submission.roc_curve(y_true, scores)
    except Exception:  # the learner's roc_curve crashed: it is not right either
        curve = None
    if kit.matches(curve, skm.roc_curve(y_true, scores, drop_intermediate=False), rtol=1e-12):
        return rule
    return f"your roc_curve gives other points on these scores: fix {ROC_TITLE!r} first"


def test_log_loss(submission, seed):
    """log_loss matches sklearn and stays finite when a probability is exactly 0 or 1"""
    gen = np.random.default_rng(seed)
    y_true = gen.integers(0, 2, 40)
    proba = np.clip(0.6 * y_true + 0.4 * gen.random(40), 0.01, 0.99)
    confident, y_confident = proba.copy(), y_true.copy()
    confident[:4] = [0.0, 1.0, 0.0, 1.0]
    y_confident[:4] = [1, 0, 0, 1]  # two confident mistakes, two confident right answers
    unclipped = (
        "a probability of exactly 0 or 1 reached np.log unclipped: log(0) is -inf, and "
        "0 * log(0) is NaN; clip the probabilities to [eps, 1 - eps] before taking logs"
    )
    rule = "clip the probabilities to [eps, 1 - eps] before taking logs: log(0) is -inf"
    mistakes = [Mistake(unclipped, np.inf), Mistake(unclipped, np.nan)]
    how = "clip a copy (p = np.clip(proba, ...)), not the caller's proba"
    for case, truth, probabilities in [
        ("probabilities in (0, 1)", y_true, proba),
        ("probabilities 0 and 1 included", y_confident, confident),
        ("only class 1 present", np.ones(10, dtype=np.int64), gen.random(10)),
    ]:
        args = (truth, probabilities)
        got = kit.call_unchanged(submission, "log_loss", *args, names=("y_true", "proba"), how=how)
        want, name = skm.log_loss(*args, labels=[0, 1]), f"log_loss ({case})"
        got = kit.py_float(got, name)  # the docstring promises a Python float
        kit.expect_close(got, want, name=name, rtol=1e-9, hint=rule, mistakes=mistakes)


def test_retained_ninety_percent(submission, reference, seed):
    """'everyone is retained' scores 90% when 90% are retained, and finds none who leave"""
    gen = np.random.default_rng(seed)
    retained = gen.permutation(np.r_[np.ones(90, dtype=np.int64), np.zeros(10, dtype=np.int64)])
    result = kit.call_unchanged(submission, "majority_baseline", retained, 100, names=("y_train",))
    got = kit.expect_array(result, name="majority_baseline(y, 100)", shape=(100,)).numpy()
    accuracy = reference.accuracy(retained, got)
    leavers_found = reference.recall(retained, got, positive=0)
    if accuracy != 0.9 or leavers_found != 0.0:
        raise kit.CheckFailure(
            f"on 100 students of whom 90 are retained (label 1), majority_baseline's "
            f"predictions score accuracy {accuracy:.2f} and recall {leavers_found:.2f} on the "
            "10 who leave (label 0); predicting the majority label 1 for everyone should give "
            "0.90 and 0.00. That is the point of the baseline: a model that says 'retained' "
            "to everyone is 90% accurate and useless, since it never finds a student at risk. "
            "A real model has to beat 90%, and its recall on the minority class tells you more."
        )
    hint = (
        "count each label with np.unique(..., return_counts=True) and take the first label "
        "with the highest count (the smallest one on a tie)"
    )
    for case, y_train, want in (
        ("labels 2, 5, 9 with 5 most frequent", np.array([2, 5, 9, 5, 9, 5]), 5),
        ("a tie between 9 and 2", np.array([9, 2, 9, 2, 5]), 2),
    ):
        name = f"majority_baseline(y_train, 4) with {case}"
        got = submission.majority_baseline(y_train, 4)
        kit.assert_array_equal(got, np.full(4, want), name=name, hint=hint)


def test_random_baseline(submission, seed):
    """random_baseline guesses with the training frequencies, reproducibly from a seed"""
    gen = np.random.default_rng(seed)
    y_train = gen.permutation(np.repeat(LABELS, [60, 30, 10]))
    n = 20_000
    first = kit.call_unchanged(submission, "random_baseline", y_train, n, 7, names=("y_train",))
    first = kit.expect_array(first, name="random_baseline(y_train, n, 7)", shape=(n,)).numpy()
    unknown = np.setdiff1d(first, LABELS)
    if unknown.size:
        raise kit.CheckFailure(
            f"random_baseline guessed the label {unknown[0]}, which is not in y_train "
            "(labels 2, 5, 9); draw the guesses from np.unique(y_train)"
        )
    for label, share in zip(LABELS, (0.6, 0.3, 0.1), strict=True):
        guessed = float(np.mean(first == label))
        if abs(guessed - share) > 0.02:
            raise kit.CheckFailure(
                f"random_baseline guessed label {label} for {guessed:.1%} of {n} samples, "
                f"expected about {share:.0%}, its share of y_train; pass "
                "p=counts / counts.sum() to rng.choice"
            )
    hint = (
        "the same seed must give the same guesses: use np.random.default_rng(seed), not the "
        "global np.random functions"
    )
    again = submission.random_baseline(y_train, n, 7)
    kit.assert_array_equal(again, first, name="a second random_baseline(y_train, n, 7)", hint=hint)
    other = submission.random_baseline(y_train, n, 8)
    other = kit.expect_array(other, name="random_baseline(y_train, n, 8)").numpy()
    if np.array_equal(other, first):
        raise kit.CheckFailure("random_baseline gave the same guesses for seeds 7 and 8")
    rule = "a guess with frequencies p_c is right with probability sum of p_c ** 2"
    for case, y, want in (
        ("shares 0.6, 0.3, 0.1", y_train, 0.46),
        ("90 retained, 10 leaving", np.r_[np.ones(90), np.zeros(10)].astype(np.int64), 0.82),
    ):
        got = kit.call_unchanged(submission, "expected_random_accuracy", y, names=("y",))
        name = f"expected_random_accuracy(y) with {case}"
        got = kit.py_float(got, name)  # the docstring promises a Python float
        kit.assert_number_close(got, want, name=name, rtol=1e-9, hint=rule)


@pytest.mark.needs_passing(*VALUE_CHECKS)
def test_written_by_hand(submission, exercise, source_tree):
    """the metrics are written with NumPy: no sklearn (the checks' oracle) and no torchmetrics"""
    advice = (
        "Count with NumPy as the docstrings describe: sklearn.metrics is what the checks "
        "compare your numbers with, so calling it proves nothing about your own metric"
    )
    kit.expect_no_shortcuts(source_tree, exercise.path, READY_MADE, advice=advice)
