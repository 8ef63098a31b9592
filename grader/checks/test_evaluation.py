"""Checks for the evaluation exercise: classification metrics and baselines against sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from grader.compare import assert_array_close, assert_array_equal, assert_number_close, expect_array
from grader.errors import CheckFailure
from grader.kit import (
    Mistake,
    Shortcuts,
    anything,
    call_unchanged,
    expect_close,
    expect_no_shortcuts,
    likely_mistake,
    matches,
    unpack,
)

pytestmark = pytest.mark.exercise("evaluation")

LABELS = np.array([2, 5, 9])

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
# The title of the roc_curve check, as a learner sees it (for "fix ... first").
ROC_TITLE = "roc_curve gives sklearn's points and thresholds, with tied scores as one point"
LABEL_ARGS = ("y_true", "y_pred")
ROC_HINT = (
    "one point per distinct score, from threshold +inf down: tied scores cross the threshold "
    "together, so they make one point, not one per sample"
)


def _sk_score(name: str, y_true: np.ndarray, y_pred: np.ndarray, positive: int) -> float:
    scorer = {
        "precision": skm.precision_score,
        "recall": skm.recall_score,
        "f1_score": skm.f1_score,
    }[name]
    return float(scorer(y_true, y_pred, labels=[positive], average=None, zero_division=0)[0])


def _score_mistakes(name: str, y_true, y_pred, positive: int) -> list[Mistake]:
    """What the usual mistakes in precision, recall and F1 return on these labels."""
    p, r = (_sk_score(n, y_true, y_pred, positive) for n in ("precision", "recall"))
    swapped = f"this is {'recall' if name == 'precision' else 'precision'}: " + SCORE_HINTS[name]
    return {
        "precision": [Mistake(swapped, r)],
        "recall": [Mistake(swapped, p)],
        "f1_score": [Mistake("this is the arithmetic mean (P + R) / 2; F1 is the harmonic mean "
                             "2 * P * R / (P + R)", (p + r) / 2)],
    }[name]  # fmt: skip


def _confusion(got, y_true, y_pred, labels, name: str, hint: str) -> None:
    want = skm.confusion_matrix(y_true, y_pred, labels=labels)
    hint = likely_mistake(got, [Mistake(TRANSPOSED, want.T)], default=hint, expected=want)
    assert_array_equal(got, want, name=name, hint=hint)


@pytest.mark.points(1)
def test_confusion_matrix_binary(submission, seed):
    """confusion_matrix counts TN, FP, FN and TP like sklearn on 0/1 labels"""
    gen = np.random.default_rng(seed)
    cases = [
        ("a small hand-made case", np.array([1, 1, 1, 0]), np.array([1, 0, 0, 0])),
        ("60 random labels", gen.integers(0, 2, 60), gen.integers(0, 2, 60)),
    ]
    for case, y_true, y_pred in cases:
        got = call_unchanged(submission, "confusion_matrix", y_true, y_pred, names=LABEL_ARGS)
        name = f"confusion_matrix(y_true, y_pred) on {case}"
        _confusion(got, y_true, y_pred, None, name, CONFUSION_HINT)


@pytest.mark.points(2)
def test_confusion_matrix_labels(submission, seed):
    """confusion_matrix handles labels 2, 5, 9: sorted by default, or in the order given"""
    gen = np.random.default_rng(seed)
    y_true = gen.choice(LABELS, 50)
    y_pred = np.where(gen.random(50) < 0.6, y_true, gen.choice(LABELS, 50))
    only_two = gen.choice(LABELS[:2], 30)
    cases = [
        ("labels=None", y_true, y_pred, None),
        ("labels=None, 9 only predicted, never true", only_two, gen.choice(LABELS, 30), None),
        ("labels=[9, 2, 5]", y_true, y_pred, np.array([9, 2, 5])),
        ("labels=[2, 5, 7, 9] (7 never occurs)", y_true, y_pred, np.array([2, 5, 7, 9])),
        ("labels=[5, 9] (samples labelled 2 are left out)", y_true, y_pred, np.array([5, 9])),
    ]
    hint = (
        "without labels, use np.unique of y_true and y_pred together (sorted); with labels, "
        "index rows and columns in exactly that order"
    )
    for case, truth, predicted, labels in cases:
        got = call_unchanged(
            submission, "confusion_matrix", truth, predicted, labels, names=(*LABEL_ARGS, "labels")
        )
        _confusion(got, truth, predicted, labels, f"confusion_matrix with {case}", hint)


@pytest.mark.points(1)
def test_accuracy(submission, seed):
    """accuracy is the fraction of correct predictions, between 0 and 1"""
    gen = np.random.default_rng(seed)
    y_true = gen.choice(LABELS, 40)
    y_pred = np.where(gen.random(40) < 0.7, y_true, gen.choice(LABELS, 40))
    constant = np.full(12, 5)
    cases = [
        ("labels 2, 5, 9", y_true, y_pred),
        ("one class only, all right", constant, constant),
        ("all wrong", np.zeros(8, dtype=np.int64), np.ones(8, dtype=np.int64)),
    ]
    count = "this is the count of correct predictions: divide it by the number of samples"
    for case, truth, predicted in cases:
        expect_close(
            call_unchanged(submission, "accuracy", truth, predicted, names=LABEL_ARGS),
            skm.accuracy_score(truth, predicted),
            name=f"accuracy ({case})",
            rtol=1e-12,
            hint="divide the number of correct predictions by the number of samples",
            mistakes=[Mistake(count, np.sum(truth == predicted))],
        )


@pytest.mark.points(2)
def test_precision_recall_f1(submission, seed):
    """precision, recall and F1 match sklearn, including a class never predicted"""
    gen = np.random.default_rng(seed)
    y_true = gen.integers(0, 2, 50)
    y_pred = np.where(gen.random(50) < 0.7, y_true, 1 - y_true)
    multi_true = gen.choice(LABELS, 60)
    multi_pred = np.where(gen.random(60) < 0.6, multi_true, gen.choice(LABELS, 60))
    cases = [
        ("y_true=[1, 1, 1, 0], y_pred=[1, 0, 0, 0]", [1, 1, 1, 0], [1, 0, 0, 0], 1),
        ("50 random 0/1 labels", y_true, y_pred, 1),
        ("50 random 0/1 labels, positive=0", y_true, y_pred, 0),
        ("labels 2, 5, 9, positive=2", multi_true, multi_pred, 2),
        ("labels 2, 5, 9, positive=9", multi_true, multi_pred, 9),
        ("1 is never predicted", y_true, np.zeros(50, dtype=np.int64), 1),
        ("only class 1 present, all right", np.ones(10, dtype=np.int64), np.ones(10), 1),
        ("only class 0 present, positive=1", np.zeros(10, dtype=np.int64), np.zeros(10), 1),
    ]
    for case, truth, predicted, positive in cases:
        truth, predicted = np.asarray(truth, np.int64), np.asarray(predicted, np.int64)
        for name, rule in SCORE_HINTS.items():
            expect_close(
                call_unchanged(submission, name, truth, predicted, positive, names=LABEL_ARGS),
                _sk_score(name, truth, predicted, positive),
                name=f"{name}(y_true, y_pred, positive={positive}) with {case}",
                rtol=1e-9,
                hint=rule,
                mistakes=_score_mistakes(name, truth, predicted, positive),
            )


@pytest.mark.points(2)
def test_roc_curve(submission, seed):
    """roc_curve gives sklearn's points and thresholds, with tied scores as one point"""
    gen = np.random.default_rng(seed)
    y_true = np.r_[np.ones(20, dtype=np.int64), np.zeros(25, dtype=np.int64)]
    gen.shuffle(y_true)
    cases = [
        ("45 distinct scores", y_true, gen.random(45) + 0.3 * y_true),
        ("scores with many ties (k / 8)", y_true, np.round(8 * gen.random(45)) / 8),
        (
            "y_true=[0, 0, 1, 1, 1], scores=[.1, .4, .4, .8, .8]",
            [0, 0, 1, 1, 1],
            [0.1, 0.4, 0.4, 0.8, 0.8],
        ),
    ]
    for case, truth, scores in cases:
        truth, scores = np.asarray(truth, dtype=np.int64), np.asarray(scores, dtype=np.float64)
        parts = {"fpr": anything, "tpr": anything, "thresholds": anything}
        got = call_unchanged(submission, "roc_curve", truth, scores, names=("y_true", "scores"))
        result = unpack(got, "roc_curve", **parts)
        expected = skm.roc_curve(truth, scores, drop_intermediate=False)
        for label, got, want in zip(("fpr", "tpr", "thresholds"), result, expected, strict=True):
            assert_array_close(
                got, want, name=f"roc_curve's {label} ({case})", rtol=1e-12, hint=ROC_HINT
            )


@pytest.mark.points(1)
def test_auroc(submission, seed):
    """auroc matches sklearn's roc_auc_score, counting tied scores as one half"""
    gen = np.random.default_rng(seed)
    y_true = np.r_[np.ones(30, dtype=np.int64), np.zeros(30, dtype=np.int64)]
    gen.shuffle(y_true)
    tied = np.round(4 * gen.random(60) + y_true) / 4
    cases = [
        ("distinct scores", gen.random(60) + 0.5 * y_true),
        ("scores with many ties (k / 4)", tied),
        ("every score tied", np.full(60, 0.5)),
        ("perfect scores", y_true + 0.1 * gen.random(60)),
        ("perfectly reversed scores", -(y_true + 0.1 * gen.random(60))),
    ]
    rule = (
        "sum trapezoids (fpr[i+1] - fpr[i]) * (tpr[i+1] + tpr[i]) / 2 over a curve with one "
        "point per distinct score; a positive and a negative with the same score count one half"
    )
    for case, scores in cases:
        got = call_unchanged(submission, "auroc", y_true, scores, names=("y_true", "scores"))
        want = skm.roc_auc_score(y_true, scores)
        hint = (
            rule
            if matches(got, want, rtol=1e-9, atol=1e-12)
            else _roc_first(submission, y_true, scores, rule)
        )
        assert_number_close(got, want, name=f"auroc ({case})", rtol=1e-9, atol=1e-12, hint=hint)


def _roc_first(submission, y_true: np.ndarray, scores: np.ndarray, rule: str) -> str:
    """auroc sums the trapezoids of the learner's own curve: a wrong curve is the cause to fix."""
    try:
        curve = submission.roc_curve(y_true, scores)
        want = skm.roc_curve(y_true, scores, drop_intermediate=False)
        right = type(curve) in (tuple, list) and matches(list(curve), list(want), rtol=1e-12)
    except Exception:  # the learner's roc_curve crashed: it is not right either
        right = False
    if right:
        return rule
    return f"your roc_curve gives other points on these scores: fix {ROC_TITLE!r} first"


@pytest.mark.points(1)
def test_log_loss(submission, seed):
    """log_loss matches sklearn and stays finite when a probability is exactly 0 or 1"""
    gen = np.random.default_rng(seed)
    y_true = gen.integers(0, 2, 40)
    proba = np.clip(0.6 * y_true + 0.4 * gen.random(40), 0.01, 0.99)
    confident = proba.copy()
    confident[:4] = [0.0, 1.0, 0.0, 1.0]
    y_confident = y_true.copy()
    y_confident[:4] = [1, 0, 0, 1]  # two confident mistakes, two confident right answers
    cases = [
        ("probabilities in (0, 1)", y_true, proba),
        ("probabilities 0 and 1 included", y_confident, confident),
        ("only class 1 present", np.ones(10, dtype=np.int64), gen.random(10)),
    ]
    unclipped = (
        "a probability of exactly 0 or 1 reached np.log unclipped: log(0) is -inf, and "
        "0 * log(0) is NaN; clip the probabilities to [eps, 1 - eps] before taking logs"
    )
    mistakes = [Mistake(unclipped, np.inf), Mistake(unclipped, np.nan)]
    for case, truth, probabilities in cases:
        expect_close(
            call_unchanged(
                submission,
                "log_loss",
                truth,
                probabilities,
                names=("y_true", "proba"),
                how="clip a copy (p = np.clip(proba, ...)), not the caller's proba",
            ),  # fmt: skip
            skm.log_loss(truth, probabilities, labels=[0, 1]),
            name=f"log_loss ({case})",
            rtol=1e-9,
            hint="clip the probabilities to [eps, 1 - eps] before taking logs: log(0) is -inf",
            mistakes=mistakes,
        )


@pytest.mark.points(1)
def test_retained_ninety_percent(submission, reference, seed):
    """'everyone is retained' scores 90% when 90% are retained, and finds none who leave"""
    gen = np.random.default_rng(seed)
    retained = gen.permutation(np.r_[np.ones(90, dtype=np.int64), np.zeros(10, dtype=np.int64)])
    got = expect_array(
        call_unchanged(submission, "majority_baseline", retained, 100, names=("y_train",)),
        name="majority_baseline(y, 100)",
        shape=(100,),
    ).numpy()
    accuracy = reference.accuracy(retained, got)
    leavers_found = reference.recall(retained, got, positive=0)
    if accuracy != 0.9 or leavers_found != 0.0:
        raise CheckFailure(
            f"on 100 students of whom 90 are retained (label 1), majority_baseline's "
            f"predictions score accuracy {accuracy:.2f} and recall {leavers_found:.2f} on the "
            "10 who leave (label 0); predicting the majority label 1 for everyone should give "
            "0.90 and 0.00. That is the point of the baseline: a model that says 'retained' "
            "to everyone is 90% accurate and useless, since it never finds a student at risk. "
            "A real model has to beat 90%, and its recall on the minority class tells you more."
        )
    for case, y_train, want in (
        ("labels 2, 5, 9 with 5 most frequent", np.array([2, 5, 9, 5, 9, 5]), 5),
        ("a tie between 9 and 2", np.array([9, 2, 9, 2, 5]), 2),
    ):
        assert_array_equal(
            submission.majority_baseline(y_train, 4),
            np.full(4, want),
            name=f"majority_baseline(y_train, 4) with {case}",
            hint="count each label with np.unique(..., return_counts=True) and take the "
            "first label with the highest count (the smallest one on a tie)",
        )


@pytest.mark.points(1)
def test_random_baseline(submission, seed):
    """random_baseline guesses with the training frequencies, reproducibly from a seed"""
    gen = np.random.default_rng(seed)
    y_train = gen.permutation(np.repeat(LABELS, [60, 30, 10]))
    n = 20_000
    call = "random_baseline(y_train, n, 7)"
    first = call_unchanged(submission, "random_baseline", y_train, n, 7, names=("y_train",))
    first = expect_array(first, name=call, shape=(n,)).numpy()
    unknown = np.setdiff1d(first, LABELS)
    if unknown.size:
        raise CheckFailure(
            f"random_baseline guessed the label {unknown[0]}, which is not in y_train "
            "(labels 2, 5, 9); draw the guesses from np.unique(y_train)"
        )
    for label, share in zip(LABELS, (0.6, 0.3, 0.1), strict=True):
        guessed = float(np.mean(first == label))
        if abs(guessed - share) > 0.02:
            raise CheckFailure(
                f"random_baseline guessed label {label} for {guessed:.1%} of {n} samples, "
                f"expected about {share:.0%}, its share of y_train; pass "
                "p=counts / counts.sum() to rng.choice"
            )
    again = submission.random_baseline(y_train, n, 7)
    assert_array_equal(
        again,
        first,
        name="a second random_baseline(y_train, n, 7)",
        hint="the same seed must give the same guesses: use np.random.default_rng(seed), "
        "not the global np.random functions",
    )
    call = "random_baseline(y_train, n, 8)"
    other = expect_array(submission.random_baseline(y_train, n, 8), name=call).numpy()
    if np.array_equal(other, first):
        raise CheckFailure("random_baseline gave the same guesses for seeds 7 and 8")
    for case, y, want in (
        ("shares 0.6, 0.3, 0.1", y_train, 0.46),
        ("90 retained, 10 leaving", np.r_[np.ones(90), np.zeros(10)].astype(np.int64), 0.82),
    ):
        assert_number_close(
            call_unchanged(submission, "expected_random_accuracy", y, names=("y",)),
            want,
            name=f"expected_random_accuracy(y) with {case}",
            rtol=1e-9,
            hint="a guess with frequencies p_c is right with probability sum of p_c ** 2",
        )


READY_MADE = Shortcuts(
    "the library this exercise asks you to write", names={"sklearn", "torchmetrics"}
)


@pytest.mark.needs_passing(
    "confusion_matrix_binary",
    "confusion_matrix_labels",
    "accuracy",
    "precision_recall_f1",
    "roc_curve",
    "auroc",
    "log_loss",
)
def test_written_by_hand(submission, exercise, source_tree):
    """the metrics are written with NumPy: no sklearn (the checks' oracle) and no torchmetrics"""
    expect_no_shortcuts(
        source_tree,
        exercise.path,
        READY_MADE,
        advice="Count with NumPy as the docstrings describe: sklearn.metrics is what the checks "
        "compare your numbers with, so calling it proves nothing about your own metric",
    )
