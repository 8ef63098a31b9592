"""Checks for the logistic regression exercise: sigmoid, likelihood, gradients, softmax, fits."""

import functools
import math
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import special, stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from grader import kit
from grader.kit import Mistake, anything, array, expect_close, likely_mistake, number, unpack

pytestmark = pytest.mark.exercise("logistic_regression")

FEATURES = ("bill_length_mm", "bill_depth_mm")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")  # labels 0, 1, 2 (scikit-learn's sorted order)
# Gradient descent settings. Every run starts where all probabilities are equal, which is
# where the loss curves most; these rates are below 2 / (largest curvature) there.
IRIS_ITERS, IRIS_LR = 1500, 4.0
ADELIE_ITERS, ADELIE_LR = 3000, 5.0
SOFTMAX_ITERS, SOFTMAX_LR = 3000, 4.0
# The live figure of a binary fit: the names of labels 0 and 1 and the axes, per data set; and
# the line drawn after n_iter // d steps for each d, taken from shorter runs.
FIGURES = {
    "iris": (["versicolor", "virginica"], "petal length (std)", "petal width (std)"),
    "Adelie": (["others", "Adelie"], "bill length (std)", "bill depth (std)"),
}
CHECKPOINTS = (3000, 300, 30, 10, 3)
# Runs of the same float64 formulas agree to ~1e-13; this leaves room for another order of
# operations (or a clipped log) and is far below what any mistake in a formula gives.
TRAJECTORY = {"rtol": 1e-6, "atol": 1e-9}
EXACT = {"rtol": 1e-10, "atol": 1e-15}
OVERFLOW = "exp of a number above about 709 overflows to inf, and inf / inf is nan"
SIGMOID_RULE = (
    f"1 / (1 + exp(-z)), finite for every z: {OVERFLOW}, so for each sign of z use the "
    "docstring's form whose exponential cannot overflow"
)
READY_MADE = kit.Shortcuts("a ready-made model or function", names={
    "sklearn", "torch", "scipy.special.expit", "scipy.special.softmax", "scipy.special.log_softmax",
    "scipy.special.logsumexp", "scipy.special.logit", "scipy.special.log_expit",
    "scipy.special.xlogy", "scipy.special.xlog1py", "scipy.special.logistic", "scipy.optimize",
    "scipy.stats",
})  # fmt: skip
LOG0 = (
    "a probability that rounds to exactly 0 or 1 makes a log -inf, and 0 * -inf is nan: compute "
    "the loss from the scores in the docstring's stable form"
)
EXP_OVERFLOW = (
    "exp(z) overflowed for large z: log(1 + exp(z)) is inf once z is above about 709; write "
    "it so that exp only sees numbers <= 0 (np.logaddexp(0, z), or max(z, 0) + "
    "log1p(exp(-|z|)))"
)
FIT_RULE = (
    "start from zeros; record each step's loss before its update, then update both parameters "
    "every step; make the {} check pass first"
)


@functools.cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Two standardized features and the labels. "species": the 342 measured penguins by bill
    length and depth, labels 0, 1, 2; "adelie": Adelie (1.0) against the others (0.0), which
    overlap, so the optimum exists; "iris": versicolor (0.0) against virginica (1.0) by petal
    length and width."""
    if name == "iris":
        features, target = kit.iris()
        X, y = features[target > 0][:, 2:], (target[target > 0] == 2).astype(np.float64)
    else:
        frame = kit.penguins_frame()[["species", *FEATURES]].dropna()
        X = frame[list(FEATURES)].to_numpy(dtype=np.float64)
        y = np.array([SPECIES.index(species) for species in frame["species"]], dtype=np.int64)
        y = (y == 0).astype(np.float64) if name == "adelie" else y
    return (X - X.mean(axis=0)) / X.std(axis=0), y


@functools.cache
def _oracle(name: str) -> LogisticRegression:
    """scikit-learn's unpenalized logistic regression (C = inf), solved to a tight tolerance."""
    return LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(*_data(name))


def _bce(X, y, w, b):
    # torch's stable loss, not nll's own formula: a release ships this module.
    return F.binary_cross_entropy_with_logits(X @ w + b, y)


def _trusted_nll(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    return _bce(*(torch.as_tensor(a, dtype=torch.float64) for a in (X, y, w, b))).item()


def _expect_gradients(got, want, names, n, rule, case, mistakes=()):
    """Gradients against autograd's; a hint names a mistake only where the first reproduces it."""
    hint = likely_mistake(got[0], [*mistakes,
        Mistake(f"{names[0]} has the wrong sign: the error is the prediction minus the label",
                -want[0]),
        Mistake(f"{names[0]} is {n} (= N) times too large: the loss is a mean over the rows",
                n * want[0]),
    ], default=rule)  # fmt: skip
    for name, value, expected in zip(names, got, want, strict=True):
        expect_close(value, expected, name=f"{name} (case {case})", rtol=1e-8, hint=hint)


def _same_run(run, got, want, hint, parts=("losses", "final w", "final b")):
    """A training run's results, part by part, against the reference's run on the same data."""
    for part, value, expected in zip(parts, got, want, strict=True):
        expect_close(value, expected, name=f"{run}: {part}", hint=hint, **TRAJECTORY)


def _binary_fit(submission, reference, metrics, X, y, n_iter, lr, label, b_kind=number):
    """Run the learner's fit_gd with its loss drawn live and its line where p = 0.5 moving (each
    checkpoint's line is drawn when the run logs that step: pictures, never a verdict); check
    the run against the reference's, its b of `b_kind`."""
    groups, xlabel, ylabel = FIGURES[label]
    kinds = {"w": array((X.shape[1],)), "b": b_kind}

    def show(coef: list[float] | None, caption: str) -> None:
        drawn = [{"label": "p = 0.5", "coef": coef, "side": groups[1]}] if coef else []
        data = {"x": X[:, 0], "y": X[:, 1], "group": y.astype(np.int64), "groups": groups,
                "lines": drawn, "xlabel": xlabel, "ylabel": ylabel, "caption": caption}  # fmt: skip
        metrics.figure(f"{label} boundary", "scatter", data)

    show(None, f"training {n_iter} steps...")
    # The line [*w, b] after a few step counts, from shorter runs: one that fails, or one that
    # would take long, ends them (the judged run reports what went wrong).
    checkpoints: dict[int, list[float]] = {}
    seconds = 0.0
    for steps in sorted({max(1, n_iter // d) for d in CHECKPOINTS}):
        if checkpoints and seconds * steps / max(checkpoints) > 0.5:
            break
        started = time.monotonic()
        try:
            w, b, _ = unpack(submission.fit_gd(X, y, steps, lr), "fit_gd", **kinds, losses=anything)
        except kit.CheckFailure:
            break
        seconds, checkpoints[steps] = time.monotonic() - started, [*w, b]
    live = metrics.labelled(label)

    def log(name: str, value: float, step: int | None = None) -> None:
        live(name, value, step)
        if step in checkpoints:
            show(checkpoints.pop(step), f"step {step} of {n_iter}")

    result = submission.call_logged("fit_gd", X, y, n_iter, lr, log=log, timeout=60)
    w, b, losses = unpack(result, "fit_gd", **kinds, losses=array((n_iter,)))
    show([*w, b], f"{n_iter} steps, lr = {lr:g}")
    want_w, want_b, want_losses = reference.fit_gd(X, y, n_iter, lr)
    run = f"fit_gd on {label} with lr = {lr:g}"
    _same_run(run, (losses, w, b), (want_losses, want_w, want_b), FIT_RULE.format("gradients"))
    return w, b


def test_sigmoid(submission):
    """sigmoid matches scipy's expit, stays finite for |z| up to 1000 and keeps the shape"""
    extremes = [-1000.0, -745.0, -710.0, -100.0, 100.0, 710.0, 745.0, 1000.0]
    z = np.concatenate([np.linspace(-40.0, 40.0, 80), extremes]).reshape(8, 11)
    with np.errstate(over="ignore", invalid="ignore"):
        overflowed = np.exp(z) / (1.0 + np.exp(z))
    hint = f"nan where z is large and positive: {OVERFLOW}; for z >= 0 use the form with exp(-z)"
    for case, part in (("a (8, 11) grid", ...), ("a 1-d array", 2)):  # z[...] is all of z
        got, want = submission.sigmoid(z[part]), special.expit(z[part])
        name = f"sigmoid on {case} of z from -1000 to 1000"
        mistakes = [Mistake(hint, overflowed[part])]
        expect_close(got, want, name=name, hint=SIGMOID_RULE, mistakes=mistakes, **EXACT)


def test_bernoulli_likelihood(submission, seed):
    """bernoulli_likelihood gives p for a label 1 and 1 - p for a label 0"""
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0.01, 0.99, size=20), [0.0, 1.0, 0.0, 1.0]])
    y = np.concatenate([rng.integers(0, 2, size=20), [0, 1, 1, 0]]).astype(np.float64)
    swapped = Mistake("this is the probability of the other label: p goes with y == 1",
                      stats.bernoulli.pmf(1.0 - y, p))  # fmt: skip
    expect_close(submission.bernoulli_likelihood(p, y), stats.bernoulli.pmf(y, p),
                 name="bernoulli_likelihood(p, y)", mistakes=[swapped], **EXACT,
                 hint="the docstring's formula: p where y is 1, 1 - p where y is 0")  # fmt: skip


@pytest.mark.points(2)
def test_nll(submission, seed):
    """nll is the mean cross-entropy, and stays finite for confident predictions"""
    rng = np.random.default_rng(seed)
    X, w, b = rng.normal(size=(40, 3)), rng.normal(size=3), float(rng.normal())
    y = rng.integers(0, 2, size=40).astype(np.float64)
    want = log_loss(y, special.expit(X @ w + b))
    got = kit.py_float(submission.nll(X, y, w, b), "nll on random data")
    expect_close(got, want, name="nll on random data", rtol=1e-9, mistakes=[
        Mistake("this is the sum over the rows: nll is their mean", len(y) * want),
        Mistake("the sign is flipped: nll is minus the mean log-likelihood", -want),
    ], hint="-(1/N) * sum(y * log(p) + (1 - y) * log(1 - p)), p = sigmoid(X @ w + b)")  # fmt: skip
    # One feature and w = [1], b = 0: the scores z are the feature values themselves.
    z = np.array([[1000.0], [-1000.0], [800.0], [-800.0]])
    right = np.array([1.0, 0.0, 1.0, 0.0])
    for kind, labels, low, high in (("right", right, 0.0, 1e-6), ("wrong", 1 - right, 5.0, 1e3)):
        case = f"confident and {kind} (z = +-1000)"
        got = kit.py_float(submission.nll(z, labels, np.ones(1), 0.0), f"nll when {case}")
        if not low <= got <= high:  # nan too
            hint = likely_mistake(got, _unstable_nll(z[:, 0], labels), default=LOG0)
            raise kit.CheckFailure(
                f"nll when {case} is {got:.6g}, expected a finite number between {low:g} and "
                f"{high:g} (the exact value is {_trusted_nll(z, labels, np.ones(1), 0.0):.6g})"
                f"\nHint: {hint}"
            )


def _unstable_nll(z: np.ndarray, y: np.ndarray) -> list[Mistake]:
    """What nll's two textbook forms give at scores z; None where the two cannot be told apart."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        overflow = float(np.mean(np.log(1.0 + np.exp(z)) - y * z))
        p = special.expit(z)
        of_logs = float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))
    told_apart = not np.array_equal(overflow, of_logs, equal_nan=True)
    return [
        Mistake(EXP_OVERFLOW, overflow if told_apart else None),
        Mistake(LOG0, of_logs if told_apart else None),
    ]


@pytest.mark.points(2)
def test_gradients(submission, seed):
    """gradients gives d nll/dw and d nll/db (checked with torch autograd)"""
    rng = np.random.default_rng(seed)
    n = 30
    for case in range(1, 4):
        X, y = rng.normal(size=(n, 3)), rng.integers(0, 2, size=n).astype(np.float64)
        w, b = rng.normal(size=3), float(rng.normal())
        got = unpack(submission.gradients(X, y, w, b), "gradients", dw=array((3,)), db=number)
        tensors = [torch.from_numpy(a) for a in (X, y, w, np.array(b))]
        want = [g.numpy() for g in kit.autograd_gradients(_bce, tensors)[2:]]
        rule = "dw = X.T @ (p - y) / N and db = mean(p - y), p the predicted probabilities"
        _expect_gradients(got, (want[0], float(want[1])), ("dw", "db"), n, rule, case)


def test_predict(submission, seed):
    """predict_proba and predict (threshold 0.5, ties to 1) agree with the model"""
    rng = np.random.default_rng(seed)
    X, w, b = rng.normal(size=(40, 2)), rng.normal(size=2), float(rng.normal())
    X = X[np.abs(X @ w + b) > 1e-3]  # no row so close to the boundary that rounding decides
    scores = X @ w + b
    # Scaled so that the score farthest from 0 becomes +1000, where np.exp(z) overflows.
    farthest = float(scores[np.argmax(np.abs(scores))])
    for case, scale in (("moderate scores", 1.0), ("scores up to 1000", 1000.0 / farthest)):
        z, args = scale * scores, (X, scale * w, scale * b)
        expect_close(submission.predict_proba(*args), special.expit(z), **EXACT,
                     name=f"predict_proba with {case}", hint=f"one probability per row, the "
                     f"sigmoid of its score X @ w + b; {SIGMOID_RULE}")  # fmt: skip
        labels = submission.predict(*args)
        kit.assert_array_equal(labels, (z >= 0).astype(np.int64), name=f"predict with {case}",
                               hint="1 where predict_proba >= 0.5, else 0")  # fmt: skip
        if labels.dtype != np.int64:
            raise kit.CheckFailure(
                f"predict with {case} returned the right labels as {labels.dtype}, expected "
                "int64 labels as the docstring says: convert with .astype(np.int64)"
            )
    got, ones = submission.predict(X, np.zeros(2), 0.0), np.ones(len(X), dtype=np.int64)
    hint = likely_mistake(got, [
        Mistake("rows whose probability is exactly 0.5 were labelled 0: exactly 0.5 counts as 1",
                np.zeros(len(X))),
    ], default="a probability of exactly 0.5 is labelled 1", expected=ones)  # fmt: skip
    name = "predict with w = 0, b = 0 (every probability is exactly 0.5)"
    kit.assert_array_equal(got, ones, name=name, hint=hint)


def test_boundary_line(submission, seed):
    """boundary_line gives the line where the model's probability is exactly 0.5"""
    rng = np.random.default_rng(seed)
    for case in range(1, 5):
        w = rng.normal(size=2)
        w[1] = math.copysign(max(abs(w[1]), 0.3), w[1])
        b = float(rng.normal())
        got = unpack(submission.boundary_line(w, b), "boundary_line", context=f"case {case}",
                     slope=kit.py_float, intercept=kit.py_float)  # fmt: skip
        hint = (
            f"the line is where w[0] * x0 + w[1] * x1 + b = 0, here with w = "
            f"{np.round(w, 4).tolist()} and b = {b:.4g}; solve that for x1"
        )
        want = (-w[0] / w[1], -b / w[1])
        for part, value, expected in zip(("slope", "intercept"), got, want, strict=True):
            name = f"boundary_line's {part} (case {case})"
            expect_close(value, expected, name=name, hint=hint, rtol=1e-9, atol=1e-9)


@pytest.mark.points(2)
def test_matches_sklearn(submission, reference, metrics):
    """on iris versicolor vs virginica, fit_gd reaches scikit-learn's unpenalized fit"""
    X, y = _data("iris")
    oracle = _oracle("iris")
    best = (oracle.coef_[0], float(oracle.intercept_[0]))
    grads = unpack(submission.gradients(X, y, *best), "gradients", dw=array((2,)), db=number)
    for part, value, zero in zip(("dw", "db"), grads, (np.zeros(2), 0.0), strict=True):
        expect_close(value, zero, name=f"gradients' {part} at scikit-learn's optimum", rtol=0.0,
                     atol=1e-7, hint="at the optimum the gradient is 0; make the gradients "
                     "check pass first")  # fmt: skip
    # This check judges fit_gd's promises, b a Python float among them.
    run = (X, y, IRIS_ITERS, IRIS_LR, "iris", kit.py_float)
    fitted = _binary_fit(submission, reference, metrics, *run)
    hint = "gradient descent should reach scikit-learn's LogisticRegression(C=np.inf) here"
    for part, value, want in zip(("w", "b"), fitted, best, strict=True):
        expect_close(value, want, name=f"{part} vs scikit-learn", rtol=0.0, atol=1e-5, hint=hint)


@pytest.mark.points(2)
def test_adelie_boundary(submission, reference, metrics):
    """training separates Adelie penguins from the others by bill length and depth"""
    X, y = _data("adelie")
    w, b = _binary_fit(submission, reference, metrics, X, y, ADELIE_ITERS, ADELIE_LR, "Adelie")
    # Trusted: accuracy and loss of the returned parameters, computed here.
    accuracy = float(np.mean((X @ w + b >= 0) == (y == 1)))
    loss = _trusted_nll(X, y, w, b)
    oracle = _oracle("adelie")
    best = _trusted_nll(X, y, oracle.coef_[0], float(oracle.intercept_[0]))
    metrics.emit("accuracy (Adelie)", accuracy, ADELIE_ITERS)
    if accuracy < 0.98 or loss > best + 1e-4:
        raise kit.CheckFailure(
            f"after {ADELIE_ITERS} steps with lr = {ADELIE_LR} the model labels {accuracy:.1%} "
            f"of the penguins right with a loss of {loss:.5f}; the best line reaches "
            f"{oracle.score(X, y):.1%} with a loss of {best:.5f}"
        )


def test_softmax(submission, seed):
    """softmax matches scipy's, each row sums to 1, and logits of 1000 do not overflow"""
    rng = np.random.default_rng(seed)
    Z = np.vstack([3.0 * rng.normal(size=(6, 4)), [1000.0, 999.0, 0.0, -1000.0],
                   [-1000.0, -1001.0, -1000.0, -1200.0]])  # fmt: skip
    with np.errstate(over="ignore", invalid="ignore"):
        unshifted = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    expect_close(submission.softmax(Z), special.softmax(Z, axis=1), name="softmax(Z) row by row",
                 hint="exp(Z[i, k]) / sum_j exp(Z[i, j]), each row summing to 1, with every "
                 "row shifted by its own maximum before any exponential", mistakes=[
        Mistake(f"nan in the rows with scores far from 0: {OVERFLOW} (and exp(-1000) is 0, "
                "so 0 / 0 is nan): shift each row by its own maximum first", unshifted),
        Mistake("each column sums to 1 instead of each row: normalise along the rows",
                special.softmax(Z, axis=0)),
    ], **EXACT)  # fmt: skip


@pytest.mark.points(2)
def test_softmax_gradients(submission, seed):
    """softmax_nll and softmax_gradients agree with torch's cross-entropy and autograd"""
    rng = np.random.default_rng(seed)
    n, d, k = 30, 3, 4
    for case in range(1, 4):
        X, y = rng.normal(size=(n, d)), rng.integers(0, k, size=n)
        W, b, labels = rng.normal(size=(d, k)), rng.normal(size=k), torch.from_numpy(y)

        def loss(X_t, W_t, b_t, labels=labels):
            return F.cross_entropy(X_t @ W_t + b_t, labels)

        inputs = [torch.from_numpy(a) for a in (X, W, b)]
        name = f"softmax_nll (case {case})"
        got_loss = kit.py_float(submission.softmax_nll(X, y, W, b), name)
        expect_close(got_loss, float(loss(*inputs)), rtol=1e-9, name=name, hint="minus the mean "
                     "over the rows of log P[i, y[i]], the log-probability of each row's own "
                     "label")  # fmt: skip
        got = unpack(submission.softmax_gradients(X, y, W, b), "softmax_gradients",
                     dW=array((d, k)), db=array((k,)))  # fmt: skip
        want = [g.numpy() for g in kit.autograd_gradients(loss, inputs)[1:]]
        P = special.softmax(X @ W + b, axis=1)
        numbers = Mistake("P - y subtracts each row's label number from every column: subtract "
                          "the one-hot labels Y instead", X.T @ (P - y[:, None]) / n)  # fmt: skip
        rule = "dW = X.T @ (P - Y) / N and db = the row mean of P - Y, Y the one-hot labels"
        _expect_gradients(got, want, ("dW", "db"), n, rule, case, [numbers])
    # Scores of about 1000: a softmax without the max shift gives nan here.
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    W, b, y = np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.zeros(2), np.array([0, 0])
    got_loss = kit.py_float(submission.softmax_nll(X, y, W, b), "softmax_nll")
    if not math.isfinite(got_loss):
        raise kit.CheckFailure(
            f"softmax_nll with scores of 1000 is {got_loss}, expected a finite number (500.0)\n"
            "Hint: take the log-probabilities in the docstring's shifted form, never as the log "
            "of a softmax that rounded to 0"
        )


@pytest.mark.points(2)
def test_softmax_penguins(submission, reference, metrics):
    """softmax regression tells all three penguin species apart by bill length and depth"""
    X, y = _data("species")
    k, log, run = len(SPECIES), metrics.labelled("three species"), (SOFTMAX_ITERS, SOFTMAX_LR)
    result = submission.call_logged("fit_softmax", X, y, k, *run, log=log, timeout=60)
    kinds = {"W": array((2, k)), "b": array((k,)), "losses": array((SOFTMAX_ITERS,))}
    W, b, losses = unpack(result, "fit_softmax", **kinds)
    want_W, want_b, want_losses = reference.fit_softmax(X, y, k, *run)
    hint, parts = FIT_RULE.format("softmax_gradients"), ("losses", "final W", "final b")
    name = f"fit_softmax with lr = {SOFTMAX_LR:g}"
    _same_run(name, (losses, W, b), (want_losses, want_W, want_b), hint, parts)
    # Trusted: the probabilities and accuracy of the returned parameters, computed here.
    probabilities = special.softmax(X @ W + b, axis=1)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y))
    metrics.emit("accuracy (three species)", accuracy, SOFTMAX_ITERS)
    oracle = _oracle("species")
    expect_close(probabilities, oracle.predict_proba(X), rtol=0.0, atol=0.03,
                 name="probabilities of the trained model vs scikit-learn's")  # fmt: skip
    if accuracy < 0.96:
        raise kit.CheckFailure(
            f"the trained model labels {accuracy:.1%} of the penguins right; "
            f"the best linear model reaches {oracle.score(X, y):.1%}"
        )


@pytest.mark.needs_passing("sigmoid", "bernoulli_likelihood", "nll", "gradients", "predict",
                           "matches_sklearn", "softmax", "softmax_gradients")  # fmt: skip
def test_written_by_hand(submission, exercise, source_tree):
    """the model, its loss and its training are yours: NumPy only, no sklearn, scipy or torch"""
    advice = (
        "Write sigmoid, softmax and the losses from their docstrings' stable forms with NumPy "
        "(np.exp, np.log1p, np.logaddexp, a max shift): scikit-learn, scipy.special and torch "
        "are what the checks compare your results with"
    )
    kit.expect_no_shortcuts(source_tree, exercise.path, READY_MADE, advice=advice)
