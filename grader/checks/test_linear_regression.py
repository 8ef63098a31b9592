"""Checks for the linear regression exercise: metrics, scaling, least squares, gradient descent."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import StandardScaler

from grader.compare import assert_array_close, assert_number_close
from grader.datasets import diabetes
from grader.errors import CheckFailure, SubmissionError
from grader.gradcheck import autograd_gradients
from grader.kit import (
    Mistake,
    anything,
    array,
    call_unchanged,
    expect_close,
    likely_mistake,
    number,
    unpack,
)

pytestmark = pytest.mark.exercise("linear_regression")

DATA_SEED = 0  # fixes the diabetes train/test split
N_TRAIN = 332
# Gradient descent on the standardized diabetes features: the largest curvature of the loss
# (an eigenvalue of its Hessian) is about 8.3, so steps up to 2 / 8.3 = 0.24 are stable.
GD_ITERS, GD_LR, RAW_LR = 3000, 0.2, 1e-5
BIG_LR, BIG_ITERS = 0.3, 2000
# Runs of the same float64 formulas agree to ~1e-13; this leaves room for another order of
# operations and is far below what any mistake in a formula gives.
TRAJECTORY = {"rtol": 1e-6, "atol": 1e-9}
EXACT = {"rtol": 1e-9, "atol": 1e-12}
MSE_RULE = "mean of the squared differences: np.mean((y_true - y_pred) ** 2)"
MAE_RULE = "mean of the absolute differences: np.mean(np.abs(y_true - y_pred))"
R2_RULE = (
    "1 - SS_res / SS_tot with SS_res = sum((y_true - y_pred)**2), "
    "SS_tot = sum((y_true - mean(y_true))**2)"
)
GRADIENT_RULE = "with r = X @ w + b - y: dw = (2/N) * X.T @ r, db = (2/N) * sum(r)"
MATCH_REFERENCE = (
    "this run must match the same gradient descent done by the reference; make the gradients "
    "and fit_gd checks pass first"
)


@functools.lru_cache(maxsize=1)
def _diabetes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The diabetes data in its original units, split once into 332 training and 110 test rows."""
    X, y = diabetes(scaled=False)
    order = np.random.default_rng(DATA_SEED).permutation(len(y))
    parts = X[order[:N_TRAIN]], X[order[N_TRAIN:]], y[order[:N_TRAIN]], y[order[N_TRAIN:]]
    for part in parts:
        part.flags.writeable = False  # cached: no check may change it for the next one
    return parts


def _standardized_diabetes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X_train, X_test, y_train, _ = _diabetes()
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train


def _fit_gd(submission: Any, X: np.ndarray, y: np.ndarray, n_iter: int, lr: float, **log: Any):
    """The learner's fit_gd as (w, b, losses), each checked; `log` runs it with live metrics."""
    if log:
        result = submission.call_logged("fit_gd", X, y, n_iter, lr, **log, timeout=60)
    else:
        result = submission.fit_gd(X, y, n_iter, lr)
    kinds: dict[str, Any] = {"w": array((X.shape[1],)), "b": number, "losses": array((n_iter,))}
    return unpack(result, "fit_gd", **kinds)


def _reference_fit(reference: Any, X: np.ndarray, y: np.ndarray, n_iter: int, lr: float):
    # Overflow is the expected outcome of some runs; the grader's log need not warn about it.
    with np.errstate(over="ignore", invalid="ignore"):
        return reference.fit_gd(X, y, n_iter, lr)


# ------------------------------------------------------------------------------------- checks


def test_predict(submission, seed):
    """predict computes X @ w + b for every row"""
    rng = np.random.default_rng(seed)
    for n_features in (4, 1):
        X, w, b = rng.normal(size=(30, n_features)), rng.normal(size=n_features), rng.normal()
        assert_array_close(
            submission.predict(X, w, float(b)),
            X @ w + b,
            name=f"predict(X, w, b) with {n_features} feature(s)",
            rtol=1e-10,
            atol=1e-12,
            hint="one number per row: X @ w + b, shape (N,)",
        )


def test_error_metrics(submission, seed):
    """mse, rmse and mae agree with scikit-learn"""
    rng = np.random.default_rng(seed)
    y_true = rng.normal(50.0, 20.0, size=40)
    cases = {
        "noisy predictions": y_true + rng.normal(0.0, 5.0, size=40),
        "a constant prediction": np.full(40, 10.0),
    }
    for case, y_pred in cases.items():
        diff = y_true - y_pred
        mse = skm.mean_squared_error(y_true, y_pred)
        for function, want, rule, mistake in (
            ("mse", mse, MSE_RULE, Mistake("this is the sum of squares: divide by N (np.mean)",
                                           np.sum(diff**2))),
            ("rmse", math.sqrt(mse), "the square root of the mean squared error",
             Mistake("this is the MSE: rmse is its square root (np.sqrt)", mse)),
            ("mae", skm.mean_absolute_error(y_true, y_pred), MAE_RULE,
             Mistake("this is the mean signed difference: take np.abs first", np.mean(diff))),
        ):  # fmt: skip
            got = submission.call(function, y_true, y_pred)
            name = f"{function}(y_true, y_pred) on {case}"
            expect_close(got, want, name=name, hint=rule, mistakes=[mistake], **EXACT)


def test_r2(submission, seed):
    """r2 agrees with scikit-learn's r2_score, from perfect fits to worse than the mean"""
    rng = np.random.default_rng(seed)
    y_true = rng.normal(100.0, 15.0, size=50)
    cases = {
        "good predictions": y_true + rng.normal(0.0, 5.0, size=50),
        "biased predictions": 0.8 * y_true + 30.0 + rng.normal(0.0, 5.0, size=50),
        "predictions worse than the mean": rng.normal(120.0, 15.0, size=50),
        "the mean of y_true": np.full(50, y_true.mean()),
        "perfect predictions": y_true.copy(),
    }
    for case, y_pred in cases.items():
        ss_res = np.sum((y_true - y_pred) ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            mistakes = [
                Mistake("the mean in SS_tot is the mean of y_true, not of y_pred",
                        1 - ss_res / np.sum((y_true - y_pred.mean()) ** 2)),
                Mistake("this is SS_res / SS_tot: r2 is 1 minus that",
                        ss_res / np.sum((y_true - y_true.mean()) ** 2)),
                Mistake("the arguments are r2(y_true, y_pred); the mean is taken over y_true",
                        1 - ss_res / np.sum((y_pred - y_pred.mean()) ** 2)),
            ]  # fmt: skip
        want = skm.r2_score(y_true, y_pred)
        name = f"r2(y_true, y_pred) on {case}"
        got = submission.r2(y_true, y_pred)
        expect_close(got, want, name=name, hint=R2_RULE, mistakes=mistakes, **EXACT)


@pytest.mark.points(2)
def test_standardize(submission, seed):
    """standardize scales both sets with the training rows' mean and std, and leaks nothing"""
    rng = np.random.default_rng(seed)
    scale, shift = np.array([1.0, 100.0, 0.01]), np.array([5.0, -300.0, 0.2])
    X_train = rng.normal(size=(40, 3)) * scale + shift
    cases = {
        # Test rows from elsewhere: scaled with the training statistics they are not centred.
        "test rows from a shifted distribution": rng.normal(2.0, 0.5, size=(15, 3)) * scale + shift,
        # One row has no spread of its own: only the training statistics can scale it.
        "a single test row": rng.normal(size=(1, 3)) * scale + shift,
    }
    for case, X_test in cases.items():
        result = call_unchanged(
            submission, "standardize", X_train, X_test, names=("X_train", "X_test"),
            how="build new arrays ((X - mean) / std, not X -= mean) so the caller's {name} "
            "keeps its values",
        )  # fmt: skip
        got_train, got_test = unpack(
            result, "standardize", X_train=anything, X_test=array(X_test.shape)
        )
        scaler = StandardScaler().fit(X_train)
        pooled = np.vstack([X_train, X_test])
        own = (X_test - X_test.mean(0)) / X_test.std(0) if len(X_test) > 1 else None
        hint = likely_mistake(got_test, [
            Mistake("use the population std (np.std's default ddof=0), as StandardScaler does",
                    (X_test - X_train.mean(0)) / X_train.std(0, ddof=1)),
            Mistake("one row has no spread of its own, so scaling the test rows by their own "
                    "std divides by zero; use the training rows' mean and std for both sets",
                    np.full(X_test.shape, np.nan) if len(X_test) == 1 else None),
            Mistake("the statistics come from training and test rows together, which leaks the "
                    "test set into the scaling; compute them from X_train only",
                    (X_test - pooled.mean(0)) / pooled.std(0)),
            Mistake("the test rows were scaled with their own mean and std: that leaks "
                    "information from the test set; use the training rows' statistics for both "
                    "sets", own),
        ], default="mean = X_train.mean(axis=0), std = X_train.std(axis=0); (X - mean) / std "
           "for both")  # fmt: skip
        for label, got, want in (
            ("X_train", got_train, scaler.transform(X_train)),
            ("X_test", got_test, scaler.transform(X_test)),
        ):
            name = f"standardize's {label} ({case})"
            assert_array_close(got, want, name=name, hint=hint, **EXACT)


@pytest.mark.points(2)
def test_closed_form(submission, seed):
    """fit_closed_form finds the same weights and intercept as scikit-learn's LinearRegression"""
    rng = np.random.default_rng(seed)
    X_train, _, y_train, _ = _diabetes()
    X_synth = rng.normal(size=(50, 3))
    X_line = rng.uniform(0.0, 10.0, size=(20, 1))
    cases = {
        "the diabetes data in its original units": (X_train, y_train),
        "synthetic data with intercept 100": (
            X_synth,
            X_synth @ np.array([2.0, -1.0, 0.5]) + 100.0 + rng.normal(0.0, 0.1, size=50),
        ),
        "a single feature": (X_line, 3.0 * X_line[:, 0] - 7.0 + rng.normal(0.0, 1.0, size=20)),
    }
    for case, (X, y) in cases.items():
        oracle = LinearRegression().fit(X, y)
        w, b = unpack(submission.fit_closed_form(X, y), "fit_closed_form", w=anything, b=anything)
        if type(w) is np.ndarray and w.shape == (X.shape[1] + 1,):
            raise CheckFailure(
                f"fit_closed_form's w ({case}) has shape {w.shape}, expected ({X.shape[1]},): "
                "return the weights without the intercept's entry, and that entry as b"
            )
        b = number(b, f"fit_closed_form's b ({case})")
        hint = likely_mistake(b, [
            Mistake("b is 0: the model needs an intercept; add a column of ones to X so that "
                    "the last weight plays the role of b", 0.0),
        ], default="append a column of ones to X and solve with np.linalg.lstsq; w is every "
           "entry but the last, b the last")  # fmt: skip
        tol = {"rtol": 1e-6, "atol": 1e-8 * float(np.abs(y).max()), "hint": hint}
        assert_array_close(w, oracle.coef_, name=f"fit_closed_form's w ({case})", **tol)
        assert_number_close(b, oracle.intercept_, name=f"fit_closed_form's b ({case})", **tol)


def _mse_torch(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor):
    return torch.mean((X @ w + b - y) ** 2)


@pytest.mark.points(2)
def test_gradients(submission, seed):
    """gradients gives dL/dw and dL/db of the mean squared error (checked with torch autograd)"""
    rng = np.random.default_rng(seed)
    n = 25
    for case in range(1, 4):
        X, y = rng.normal(size=(n, 3)), rng.normal(size=n) + 2.0
        w, b = rng.normal(size=3), float(rng.normal())
        got_w, got_b = unpack(
            submission.gradients(X, y, w, b), "gradients", dw=array((3,)), db=number
        )
        tensors = [torch.from_numpy(a) for a in (X, y, w, np.array(b))]
        want_w, want_b = (g.numpy() for g in autograd_gradients(_mse_torch, tensors)[2:])
        table = [
            Mistake("dw is half the right size: the derivative of r**2 is 2 * r (the factor 2)",
                    0.5 * want_w),
            Mistake(f"dw is {n} (= N) times too large: average over the rows (divide by N)",
                    n * want_w),
            Mistake("dw is N/2 times too large: divide the sum by N, and keep the factor 2",
                    n / 2 * want_w),
            Mistake("dw has the wrong sign: the residual is prediction minus target, "
                    "X @ w + b - y", -want_w),
        ]  # fmt: skip
        hint = likely_mistake(got_w, table, default=GRADIENT_RULE)
        assert_array_close(got_w, want_w, name=f"dw (case {case})", rtol=1e-8, hint=hint)
        assert_number_close(got_b, float(want_b), name=f"db (case {case})", rtol=1e-8, hint=hint)


def test_fit_gd_matches(submission, reference, seed):
    """fit_gd follows the reference's gradient descent step by step from w = 0, b = 0"""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 4.0 + rng.normal(0.0, 0.3, size=20)
    n_iter, lr = 30, 0.05
    w, b, losses = _fit_gd(submission, X, y, n_iter, lr)
    want_w, want_b, want_losses = _reference_fit(reference, X, y, n_iter, lr)
    hint = likely_mistake(b, [Mistake("b never changed: update it too, b = b - lr * db", 0.0)],
        default="start from w = zeros(D), b = 0.0; in each step record the loss before "
        "updating, then w = w - lr * dw and b = b - lr * db")  # fmt: skip
    if not math.isclose(losses[0], float(np.mean(y**2)), rel_tol=1e-9):
        hint = "losses[0] is the MSE at the start, w = zeros(D) and b = 0, before any update"
    assert_array_close(losses, want_losses, name="fit_gd's losses", **TRAJECTORY, hint=hint)
    assert_array_close(w, want_w, name="fit_gd's final w", **TRAJECTORY, hint=hint)
    assert_number_close(b, want_b, name="fit_gd's final b", **TRAJECTORY, hint=hint)


# Pictures of each run after these many steps, shown as its live curve reaches them: shorter
# runs from zeros, so they are the judged run's own steps (1012 steps more than the 6000 judged).
# The lab shows at most one picture of a name per 0.05 s, and a run's first 100 steps take
# less: the standardized run, done in about 10 steps, shows one picture on the way.
PICTURE_STEPS = {"standardized": (2,), "raw": (10, 1000)}


def _show_fit(metrics, y: np.ndarray, fits: dict[str, tuple[int, np.ndarray]]) -> None:
    """Each run's predictions against the targets so far (a picture only, never a verdict)."""
    labels = list(PICTURE_STEPS)
    shown = [label for label in labels if label in fits]
    captions = []
    for label in reversed(shown):  # the run under way first: a narrow panel cuts the end
        steps, predictions = fits[label]
        with np.errstate(all="ignore"):  # a diverging run's MSE is inf: shown as it is
            mse = np.mean((predictions - y) ** 2)
        captions.append(f"{label} after {steps} steps: MSE {mse:.4g}")
    data = {
        "x": np.concatenate([y for _ in shown]),
        "y": np.concatenate([fits[label][1] for label in shown]),
        "group": np.repeat([labels.index(label) for label in shown], len(y)),
        "groups": [f"{label} features" for label in labels],
        "lines": [{"label": "predicted = actual", "coef": [1.0, -1.0, 0.0]}],
        "xlabel": "actual disease progression", "ylabel": "predicted",
        "caption": " · ".join(captions),
    }  # fmt: skip
    metrics.figure("diabetes fit", "scatter", data, step=fits[shown[-1]][0])


def _pictures(submission, X: np.ndarray, y: np.ndarray, lr: float, label: str) -> dict:
    """Predictions after each of the label's PICTURE_STEPS steps, where the learner's runs give
    them; any problem is left for the judged run to report."""
    found = {}
    for steps in PICTURE_STEPS[label]:
        try:
            w, b, _ = _fit_gd(submission, X, y, steps, lr)
        except (CheckFailure, SubmissionError):
            break
        with np.errstate(all="ignore"):
            found[steps] = X @ w + b
    return found


def _drawing_log(metrics, y: np.ndarray, fits: dict, label: str, pictures: dict) -> Any:
    """The run's live curve, and its picture drawn as the curve reaches each picture's step."""
    curve = metrics.labelled(label)

    def log(name: str, value: float, step: int | None = None) -> None:
        curve(name, value, step)
        if step in pictures:
            fits[label] = (step, pictures.pop(step))
            _show_fit(metrics, y, fits)

    return log


@pytest.mark.points(2)
def test_standardized_vs_raw(submission, reference, metrics):
    """gradient descent reaches least squares on scaled diabetes features, not on raw ones"""
    X_raw, _, y, _ = _diabetes()
    X_scaled, _, _ = _standardized_diabetes()
    runs = {}
    fits = {"standardized": (0, np.zeros(len(y)))}
    _show_fit(metrics, y, fits)
    for label, X, lr in (("standardized", X_scaled, GD_LR), ("raw", X_raw, RAW_LR)):
        # The reference first: its tenth of a second keeps the last picture on screen for a
        # moment before the learner's run sends the next ones.
        want_w, _, want_losses = _reference_fit(reference, X, y, GD_ITERS, lr)
        pictures = _pictures(submission, X, y, lr, label)
        log = _drawing_log(metrics, y, fits, label, pictures)
        w, b, losses = _fit_gd(submission, X, y, GD_ITERS, lr, log=log)
        with np.errstate(all="ignore"):
            fits[label] = (GD_ITERS, X @ w + b)
        _show_fit(metrics, y, fits)
        name = f"fit_gd on {label} features with lr = {lr:g}"
        assert_array_close(
            losses, want_losses, name=f"{name}: losses", **TRAJECTORY, hint=MATCH_REFERENCE
        )
        # Trusted: the loss of the returned parameters, computed here.
        runs[label] = (w, b, float(np.mean((X @ w + b - y) ** 2)))
        metrics.emit(f"final training MSE ({label})", runs[label][2], GD_ITERS)
        assert_array_close(w, want_w, name=f"{name}: final w", **TRAJECTORY, hint=MATCH_REFERENCE)

    oracle = LinearRegression().fit(X_scaled, y)
    best = float(np.mean((oracle.predict(X_scaled) - y) ** 2))
    w, b, loss = runs["standardized"]
    if not loss <= best * (1 + 1e-6):
        raise CheckFailure(
            f"after {GD_ITERS} steps with lr = {GD_LR} on standardized features the training "
            f"MSE is {loss:.6g}, but least squares reaches {best:.6g}; on scaled features "
            "gradient descent should get there. Compare your gradients with the formula."
        )
    assert_array_close(
        w, oracle.coef_, name="w from gradient descent vs least squares", rtol=0, atol=0.01
    )
    assert_number_close(b, oracle.intercept_, name="b from gradient descent vs least squares")


def test_too_large_lr_diverges(submission, reference, metrics):
    """too large a learning rate makes the losses overflow, and fit_gd returns them as they are"""
    X, _, y = _standardized_diabetes()
    explain = (
        f"The steepest direction of this loss has curvature 8.3, so any lr above 2 / 8.3 = 0.24 "
        f"overshoots the minimum by more than it corrects: with lr = {BIG_LR} each step "
        "multiplies the error along that direction by about -1.5, and the loss grows "
        "without bound until float64 overflows to inf (then inf - inf gives nan)."
    )
    try:
        log = metrics.labelled(f"lr = {BIG_LR}")
        result = submission.call_logged("fit_gd", X, y, BIG_ITERS, BIG_LR, log=log, timeout=60)
    except SubmissionError as exc:
        if "NotImplementedError" in str(exc):
            raise
        raise CheckFailure(
            f"{exc}\nfit_gd must not raise when training diverges: run all n_iter steps and "
            f"return the losses as they are, inf and nan included. {explain}"
        ) from None
    _, _, losses = unpack(result, "fit_gd", w=anything, b=anything, losses=array((BIG_ITERS,)))
    want = _reference_fit(reference, X, y, BIG_ITERS, BIG_LR)[2]
    finite = np.isfinite(losses)
    if finite.all():
        raise CheckFailure(
            f"with lr = {BIG_LR} the losses should grow until they overflow, but all "
            f"{BIG_ITERS} are finite (from {losses[0]:.4g} to {losses[-1]:.4g}). {explain} "
            "Losses that shrink here mean your steps are smaller than lr * gradient (is the "
            "factor 2 in the gradient missing?); losses that stay finite but large mean the "
            "loop clips or replaces values. Return the losses as computed."
        )
    # The same formulas overflow at the same step, give or take rounding in the last one.
    first_bad, want_first_bad = int(np.argmin(finite)), int(np.argmin(np.isfinite(want)))
    both = min(first_bad, want_first_bad)
    assert_array_close(
        losses[:both],
        want[:both],
        name=f"fit_gd's losses with lr = {BIG_LR} (before they overflow)",
        **TRAJECTORY,
        hint="until the overflow these must match the reference's gradient descent; make the "
        "gradients and fit_gd checks pass first",
    )
    if abs(first_bad - want_first_bad) > 3 or finite[first_bad:].any():
        raise CheckFailure(
            f"with lr = {BIG_LR} the reference's losses overflow at step {want_first_bad} and "
            f"stay inf or nan after it; yours first overflow at step {first_bad}"
            + (" and later become finite again" if finite[first_bad:].any() else "")
            + ". Keep every loss as computed: no clipping, no resetting."
        )
