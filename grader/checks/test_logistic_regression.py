"""Checks for the logistic regression exercise: sigmoid, likelihood, gradients, softmax, fits."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import special, stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from grader.codec import type_name
from grader.compare import (
    assert_array_close,
    assert_array_equal,
    assert_number_close,
    expect_array,
    expect_number,
)
from grader.datasets import iris, penguins_frame
from grader.errors import CheckFailure
from grader.gradcheck import autograd_gradients

pytestmark = pytest.mark.exercise("logistic_regression")

FEATURES = ("bill_length_mm", "bill_depth_mm")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")  # labels 0, 1, 2 (scikit-learn's sorted order)
# Gradient descent settings. Every run starts where all probabilities are equal, which is
# where the loss curves most; these rates are below 2 / (largest curvature) there.
IRIS_ITERS, IRIS_LR = 1500, 4.0
ADELIE_ITERS, ADELIE_LR = 3000, 5.0
SOFTMAX_ITERS, SOFTMAX_LR = 3000, 4.0
# Runs of the same float64 formulas agree to ~1e-13; this leaves room for another order of
# operations (or a clipped log) and is far below what any mistake in a formula gives.
TRAJECTORY = {"rtol": 1e-6, "atol": 1e-9}
SIGMOID_HINT = (
    "for large |z| np.exp overflows (exp(1000) is inf, and inf / inf is nan): call np.exp "
    "only on -np.abs(z), never on a positive number, then choose 1 / (1 + e) where z >= 0 "
    "and e / (1 + e) elsewhere with np.where"
)


# ------------------------------------------------------------------------------------ data


def _standardized(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(axis=0)) / X.std(axis=0)


@functools.lru_cache(maxsize=1)
def _penguins() -> tuple[np.ndarray, np.ndarray]:
    """Bill length and depth of the 342 measured penguins (standardized), and their species."""
    frame = penguins_frame()[["species", *FEATURES]].dropna()
    X = _standardized(frame[list(FEATURES)].to_numpy(dtype=np.float64))
    labels = np.array([SPECIES.index(name) for name in frame["species"]], dtype=np.int64)
    return X, labels


def _adelie() -> tuple[np.ndarray, np.ndarray]:
    """Adelie (1.0) against the other two species (0.0): overlapping, so the optimum exists."""
    X, labels = _penguins()
    return X, (labels == 0).astype(np.float64)


@functools.lru_cache(maxsize=1)
def _iris_pair() -> tuple[np.ndarray, np.ndarray]:
    """Iris versicolor (0.0) against virginica (1.0) by petal length and width, standardized."""
    features, target = iris()
    keep = target > 0
    return _standardized(features[keep][:, 2:]), (target[keep] == 2).astype(np.float64)


@functools.lru_cache(maxsize=3)
def _oracle(name: str) -> LogisticRegression:
    """scikit-learn's unpenalized logistic regression (C = inf), solved to a tight tolerance."""
    loaders: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
        "iris": _iris_pair, "adelie": _adelie, "species": _penguins,
    }  # fmt: skip
    X, y = loaders[name]()
    return LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)


# ------------------------------------------------------------------------------------ helpers


def _tuple(value: Any, size: int, what: str) -> tuple[Any, ...]:
    if not isinstance(value, tuple) or len(value) != size:
        raise CheckFailure(f"{what} should return a tuple of {size}, got {type_name(value)}")
    return value


def _ratio(got: np.ndarray, want: np.ndarray) -> float:
    """The factor c that best explains got = c * want (nan when want is 0)."""
    want, got = want.ravel(), got.ravel()
    denominator = float(want @ want)
    return float(got @ want) / denominator if denominator > 0 else math.nan


def _reference_nll(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    # torch's stable loss, not nll's own formula: a release ships this module.
    z = torch.from_numpy(X @ w + b)
    return F.binary_cross_entropy_with_logits(z, torch.as_tensor(y, dtype=z.dtype)).item()


# The live figure's names for label 0 and label 1, and its axes, per data set.
FIGURES = {
    "iris": (["versicolor", "virginica"], "petal length (std)", "petal width (std)"),
    "Adelie": (["others", "Adelie"], "bill length (std)", "bill depth (std)"),
}


def _show_boundary(metrics, label, X, y, coef, caption):
    """Draw the line where p = 0.5 (w . x + b = 0) over the data: a picture, never a verdict."""
    groups, xlabel, ylabel = FIGURES[label]
    lines = [{"label": "p = 0.5", "coef": coef, "side": groups[1]}] if coef is not None else []
    data = {"x": X[:, 0], "y": X[:, 1], "group": y.astype(np.int64), "groups": groups}
    data.update(lines=lines, xlabel=xlabel, ylabel=ylabel, caption=caption)
    metrics.figure(f"{label} boundary", "scatter", data)


def _binary_fit(submission, reference, metrics, X, y, n_iter, lr, label):
    """Run the learner's fit_gd (its log drawn live); check it against the reference's run."""
    _show_boundary(metrics, label, X, y, None, f"training {n_iter} steps...")
    result = submission.call_logged(
        "fit_gd", X, y, n_iter, lr, log=metrics.labelled(label), timeout=60
    )
    w, b, losses = _tuple(result, 3, "fit_gd")
    w = expect_array(w, name="fit_gd's w", shape=(X.shape[1],)).numpy()
    b = expect_number(b, name="fit_gd's b")
    _show_boundary(metrics, label, X, y, [*w, b], f"{n_iter} steps, lr = {lr:g}")
    want_w, want_b, want_losses = reference.fit_gd(X, y, n_iter, lr)
    hint = (
        "start from zeros; each step record nll before updating, then w -= lr * dw and "
        "b -= lr * db (as new arrays); make the gradients check pass first"
    )
    name = f"fit_gd on {label} with lr = {lr:g}"
    assert_array_close(losses, want_losses, name=f"{name}: losses", **TRAJECTORY, hint=hint)
    assert_array_close(w, want_w, name=f"{name}: final w", **TRAJECTORY, hint=hint)
    assert_number_close(b, want_b, name=f"{name}: final b", **TRAJECTORY, hint=hint)
    return w, b


# ------------------------------------------------------------------------------------- checks


def test_sigmoid(submission):
    """sigmoid matches scipy's expit, stays finite for |z| up to 1000 and keeps the shape"""
    extremes = [-1000.0, -745.0, -710.0, -100.0, 100.0, 710.0, 745.0, 1000.0]
    z = np.concatenate([np.linspace(-40.0, 40.0, 80), extremes]).reshape(8, 11)
    for case, values in (("a (8, 11) grid", z), ("a 1-d array", z[2])):
        assert_array_close(
            submission.sigmoid(values),
            special.expit(values),
            name=f"sigmoid on {case} of z from -1000 to 1000",
            rtol=1e-10,
            atol=1e-15,
            hint=SIGMOID_HINT,
        )


def test_bernoulli_likelihood(submission, seed):
    """bernoulli_likelihood gives p for a label 1 and 1 - p for a label 0"""
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0.01, 0.99, size=20), [0.0, 1.0, 0.0, 1.0]])
    y = np.concatenate([rng.integers(0, 2, size=20), [0, 1, 1, 0]]).astype(np.float64)
    assert_array_close(
        submission.bernoulli_likelihood(p, y),
        stats.bernoulli.pmf(y, p),
        name="bernoulli_likelihood(p, y)",
        rtol=1e-10,
        atol=1e-15,
        hint="p ** y * (1 - p) ** (1 - y): p where y is 1, 1 - p where y is 0",
    )


@pytest.mark.points(2)
def test_nll(submission, seed):
    """nll is the mean cross-entropy, and stays finite for confident predictions"""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    w, b = rng.normal(size=3), float(rng.normal())
    y = rng.integers(0, 2, size=40).astype(np.float64)
    p = special.expit(X @ w + b)
    assert_number_close(
        submission.nll(X, y, w, b),
        log_loss(y, p),
        name="nll on random data",
        rtol=1e-9,
        hint="-mean(y * log(p) + (1 - y) * log(1 - p)) with p = sigmoid(X @ w + b): a mean, "
        "not a sum, and a minus sign in front",
    )
    # One feature and w = [1], b = 0: the scores z are the feature values themselves.
    z = np.array([1000.0, -1000.0, 800.0, -800.0])
    right = np.array([1.0, 0.0, 1.0, 0.0])
    stable = (
        "log(0) is -inf and 0 * -inf is nan: clip p into [1e-15, 1 - 1e-15] before the log, "
        "or compute from the scores: mean(np.logaddexp(0, z) - y * z)"
    )
    for case, labels, low, high in (
        ("confident and right (z = +-1000)", right, 0.0, 1e-6),
        ("confident and wrong (z = +-1000)", 1.0 - right, 5.0, 1000.0),
    ):
        got = expect_number(
            submission.nll(z[:, None], labels, np.ones(1), 0.0), name=f"nll when {case}"
        )
        if not math.isfinite(got):
            raise CheckFailure(
                f"nll when {case} is {got}, expected a finite number\nHint: {stable}"
            )
        if not low <= got <= high:
            exact = float(np.mean(np.logaddexp(0.0, z) - labels * z))
            raise CheckFailure(
                f"nll when {case} is {got:.6g}, expected between {low:g} and {high:g} (the exact "
                f"value is {exact:.6g}; clipping p to [1e-15, 1 - 1e-15] gives a smaller but "
                f"still large number)\nHint: {stable}"
            )


def _bce_torch(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor):
    return F.binary_cross_entropy_with_logits(X @ w + b, y)


@pytest.mark.points(2)
def test_gradients(submission, seed):
    """gradients gives d nll/dw and d nll/db (checked with torch autograd)"""
    rng = np.random.default_rng(seed)
    n = 30
    for case in range(1, 4):
        X = rng.normal(size=(n, 3))
        y = rng.integers(0, 2, size=n).astype(np.float64)
        w, b = rng.normal(size=3), float(rng.normal())
        got_w, got_b = _tuple(submission.gradients(X, y, w, b), 2, "gradients")
        tensors = [torch.from_numpy(a) for a in (X, y, w, np.array(b))]
        want_w, want_b = (g.numpy() for g in autograd_gradients(_bce_torch, tensors)[2:])
        got_w = expect_array(got_w, name="gradients' dw", shape=(3,)).numpy()
        got_b = expect_number(got_b, name="gradients' db")
        hint = "with p = sigmoid(X @ w + b): dw = X.T @ (p - y) / N, db = mean(p - y)"
        ratio = _ratio(got_w, want_w)
        if math.isclose(ratio, -1.0, rel_tol=1e-6):
            hint = "dw has the wrong sign: it is X.T @ (p - y) / N, prediction minus label"
        elif math.isclose(ratio, n, rel_tol=1e-6):
            hint = f"dw is {n} (= N) times too large: divide by N (the loss is a mean)"
        assert_array_close(got_w, want_w, name=f"dw (case {case})", rtol=1e-8, hint=hint)
        assert_number_close(got_b, float(want_b), name=f"db (case {case})", rtol=1e-8, hint=hint)


def test_predict(submission, seed):
    """predict_proba and predict (threshold 0.5, ties to 1) agree with the model"""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 2))
    w, b = rng.normal(size=2), float(rng.normal())
    X = X[np.abs(X @ w + b) > 1e-3]  # no row so close to the boundary that rounding decides
    scores = X @ w + b
    # Scaled so that the score farthest from 0 becomes +1000, where np.exp(z) overflows.
    farthest = float(scores[np.argmax(np.abs(scores))])
    for case, scale in (("moderate scores", 1.0), ("scores up to 1000", 1000.0 / farthest)):
        z = X @ (scale * w) + scale * b
        assert_array_close(
            submission.predict_proba(X, scale * w, scale * b),
            special.expit(z),
            name=f"predict_proba with {case}",
            rtol=1e-10,
            atol=1e-15,
            hint="sigmoid(X @ w + b), one probability per row; " + SIGMOID_HINT,
        )
        assert_array_equal(
            submission.predict(X, scale * w, scale * b),
            (z >= 0).astype(np.int64),
            name=f"predict with {case}",
            hint="1 where predict_proba >= 0.5, else 0",
        )
    assert_array_equal(
        submission.predict(X, np.zeros(2), 0.0),
        np.ones(len(X), dtype=np.int64),
        name="predict with w = 0, b = 0 (every probability is exactly 0.5)",
        hint="a probability of exactly 0.5 is labelled 1: compare with >= 0.5, not > 0.5",
    )


def test_boundary_line(submission, seed):
    """boundary_line gives the line where the model's probability is exactly 0.5"""
    rng = np.random.default_rng(seed)
    for case in range(1, 5):
        w = rng.normal(size=2)
        w[1] = math.copysign(max(abs(w[1]), 0.3), w[1])
        b = float(rng.normal())
        slope, intercept = _tuple(submission.boundary_line(w, b), 2, "boundary_line")
        slope = expect_number(slope, name="boundary_line's slope")
        intercept = expect_number(intercept, name="boundary_line's intercept")
        x0 = np.array([-2.0, 0.0, 3.0])
        z = w[0] * x0 + w[1] * (slope * x0 + intercept) + b
        if not np.allclose(z, 0.0, atol=1e-9):
            raise CheckFailure(
                f"boundary_line(w={np.round(w, 4).tolist()}, b={b:.4g}) (case {case}) gave "
                f"slope {slope:.6g} and intercept {intercept:.6g}, but points on that line have "
                f"w[0]*x0 + w[1]*x1 + b = {np.round(z, 4).tolist()}, not 0; expected slope "
                f"{-w[0] / w[1]:.6g} and intercept {-b / w[1]:.6g}\nHint: solve "
                "w[0]*x0 + w[1]*x1 + b = 0 for x1: x1 = -(w[0]/w[1]) * x0 - b/w[1]"
            )


@pytest.mark.points(2)
def test_matches_sklearn(submission, reference, metrics):
    """on iris versicolor vs virginica, fit_gd reaches scikit-learn's unpenalized fit"""
    X, y = _iris_pair()
    oracle = _oracle("iris")
    best_w, best_b = oracle.coef_[0], float(oracle.intercept_[0])
    got_w, got_b = _tuple(submission.gradients(X, y, best_w, best_b), 2, "gradients")
    hint = "at the optimum the gradient is 0; check the formula X.T @ (p - y) / N"
    zero = {"rtol": 0.0, "atol": 1e-7, "hint": hint}
    assert_array_close(got_w, np.zeros(2), name="gradients' dw at scikit-learn's optimum", **zero)
    assert_number_close(got_b, 0.0, name="gradients' db at scikit-learn's optimum", **zero)
    w, b = _binary_fit(submission, reference, metrics, X, y, IRIS_ITERS, IRIS_LR, "iris")
    hint = "gradient descent should reach scikit-learn's LogisticRegression(C=np.inf) here"
    assert_array_close(w, best_w, name="w vs scikit-learn", rtol=0.0, atol=1e-5, hint=hint)
    assert_number_close(b, best_b, name="b vs scikit-learn", rtol=0.0, atol=1e-5, hint=hint)


@pytest.mark.points(2)
def test_adelie_boundary(submission, reference, metrics):
    """training separates Adelie penguins from the others by bill length and depth"""
    X, y = _adelie()
    w, b = _binary_fit(submission, reference, metrics, X, y, ADELIE_ITERS, ADELIE_LR, "Adelie")
    # Trusted: accuracy and loss of the returned parameters, computed here.
    accuracy = float(np.mean((X @ w + b >= 0) == (y == 1)))
    loss = _reference_nll(X, y, w, b)
    oracle = _oracle("adelie")
    best = _reference_nll(X, y, oracle.coef_[0], float(oracle.intercept_[0]))
    metrics.emit("accuracy (Adelie)", accuracy, ADELIE_ITERS)
    if accuracy < 0.98 or loss > best + 1e-4:
        raise CheckFailure(
            f"after {ADELIE_ITERS} steps with lr = {ADELIE_LR} the model labels {accuracy:.1%} "
            f"of the penguins right with a loss of {loss:.5f}; the best line reaches "
            f"{oracle.score(X, y):.1%} with a loss of {best:.5f}"
        )


def test_softmax(submission, seed):
    """softmax matches scipy's, each row sums to 1, and logits of 1000 do not overflow"""
    rng = np.random.default_rng(seed)
    Z = np.vstack(
        [
            3.0 * rng.normal(size=(6, 4)),
            [1000.0, 999.0, 0.0, -1000.0],
            [-1000.0, -1001.0, -1000.0, -1200.0],
        ]
    )
    assert_array_close(
        submission.softmax(Z),
        special.softmax(Z, axis=1),
        name="softmax(Z) row by row",
        rtol=1e-10,
        atol=1e-15,
        hint="subtract each row's max (axis=1, keepdims=True) before np.exp: exp(1000) is inf "
        "and inf / inf is nan; then divide by the row sums",
    )


@pytest.mark.points(2)
def test_softmax_gradients(submission, seed):
    """softmax_nll and softmax_gradients agree with torch's cross-entropy and autograd"""
    rng = np.random.default_rng(seed)
    n, d, k = 30, 3, 4
    for case in range(1, 4):
        X = rng.normal(size=(n, d))
        y = rng.integers(0, k, size=n)
        W, b = rng.normal(size=(d, k)), rng.normal(size=k)
        labels = torch.from_numpy(y)

        def loss(X_t, W_t, b_t, labels=labels):
            return F.cross_entropy(X_t @ W_t + b_t, labels)

        inputs = [torch.from_numpy(a) for a in (X, W, b)]
        want_loss = float(loss(*inputs))
        assert_number_close(
            submission.softmax_nll(X, y, W, b),
            want_loss,
            name=f"softmax_nll (case {case})",
            rtol=1e-9,
            hint="-mean of log P[i, y[i]] with P = softmax(X @ W + b); pick each row's own "
            "label with P[np.arange(N), y]",
        )
        got = _tuple(submission.softmax_gradients(X, y, W, b), 2, "softmax_gradients")
        got_W = expect_array(got[0], name="softmax_gradients' dW", shape=(d, k)).numpy()
        want_W, want_b = (g.numpy() for g in autograd_gradients(loss, inputs)[1:])
        P = special.softmax(X @ W + b, axis=1)
        hint = "dW = X.T @ (P - Y) / N and db = (P - Y).mean(axis=0), with Y = one_hot(y, K)"
        if np.allclose(got_W, X.T @ (P - y[:, None]) / n):
            hint = "P - y subtracts the label numbers from every column; use Y = one_hot(y, K)"
        elif math.isclose(_ratio(got_W, want_W), n, rel_tol=1e-6):
            hint = f"dW is {n} (= N) times too large: divide by N"
        assert_array_close(got_W, want_W, name=f"dW (case {case})", rtol=1e-8, hint=hint)
        assert_array_close(got[1], want_b, name=f"db (case {case})", rtol=1e-8, hint=hint)
    # Scores of about 1000: a softmax without the max shift gives nan here.
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    W, b, y = np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.zeros(2), np.array([0, 0])
    got_loss = expect_number(submission.softmax_nll(X, y, W, b), name="softmax_nll")
    if not math.isfinite(got_loss):
        raise CheckFailure(
            f"softmax_nll with scores of 1000 is {got_loss}, expected a finite number (500.0)"
            "\nHint: subtract each row's max from the scores before np.exp, and take the log of "
            "the probabilities as s - log(sum(exp(s))) with s the shifted scores"
        )


@pytest.mark.points(2)
def test_softmax_penguins(submission, reference, metrics):
    """softmax regression tells all three penguin species apart by bill length and depth"""
    X, y = _penguins()
    result = submission.call_logged(
        "fit_softmax",
        X,
        y,
        len(SPECIES),
        SOFTMAX_ITERS,
        SOFTMAX_LR,
        log=metrics.labelled("three species"),
        timeout=60,
    )
    W, b, losses = _tuple(result, 3, "fit_softmax")
    W = expect_array(W, name="fit_softmax's W", shape=(2, len(SPECIES))).numpy()
    b = expect_array(b, name="fit_softmax's b", shape=(len(SPECIES),)).numpy()
    want_W, want_b, want_losses = reference.fit_softmax(
        X, y, len(SPECIES), SOFTMAX_ITERS, SOFTMAX_LR
    )
    hint = "start from zeros; each step record softmax_nll before updating, then W -= lr * dW "
    hint += "and b -= lr * db; make the softmax_gradients check pass first"
    name = f"fit_softmax with lr = {SOFTMAX_LR:g}"
    assert_array_close(losses, want_losses, name=f"{name}: losses", **TRAJECTORY, hint=hint)
    assert_array_close(W, want_W, name=f"{name}: final W", **TRAJECTORY, hint=hint)
    assert_array_close(b, want_b, name=f"{name}: final b", **TRAJECTORY, hint=hint)
    # Trusted: the probabilities and accuracy of the returned parameters, computed here.
    probabilities = special.softmax(X @ W + b, axis=1)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y))
    metrics.emit("accuracy (three species)", accuracy, SOFTMAX_ITERS)
    oracle = _oracle("species")
    assert_array_close(
        probabilities,
        oracle.predict_proba(X),
        name="probabilities of the trained model vs scikit-learn's",
        rtol=0.0,
        atol=0.03,
    )
    if accuracy < 0.96:
        raise CheckFailure(
            f"the trained model labels {accuracy:.1%} of the penguins right; "
            f"the best linear model reaches {oracle.score(X, y):.1%}"
        )
