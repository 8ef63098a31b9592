"""Checks for the linear regression exercise: metrics, scaling, least squares, gradient descent."""

import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import StandardScaler

from grader import kit
from grader.kit import Mistake, anything, array, expect_close, likely_mistake, number, unpack

pytestmark = pytest.mark.exercise("linear_regression")

# Gradient descent on the standardized diabetes features: the largest curvature of the loss
# (an eigenvalue of its Hessian) is about 8.3, so steps up to 2 / 8.3 = 0.24 are stable.
GD_ITERS, GD_LR, RAW_LR = 3000, 0.2, 1e-5
BIG_LR, BIG_ITERS = 0.3, 2000
# Runs of the same float64 formulas agree to ~1e-13; this leaves room for another order of
# operations and is far below what any mistake in a formula gives.
TRAJECTORY = {"rtol": 1e-6, "atol": 1e-9}
EXACT = {"rtol": 1e-9, "atol": 1e-12}
PASS_FIRST = "make the gradients and fit_gd checks pass first"
MATCH_REFERENCE = f"this run must match the reference's gradient descent; {PASS_FIRST}"
# A run's predictions are drawn as its live curve reaches these steps, taken from shorter runs
# from zeros (1012 steps more than the 6000 judged). The lab shows one picture of a name per
# 0.05 s at most: the standardized run, done in about 10 steps, shows one on the way.
PICTURE_STEPS = {"standardized": (2,), "raw": (10, 1000)}


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    """The diabetes training rows (X, y) in their original units: 332 of the 442, a fixed draw."""
    X, y = kit.diabetes(scaled=False)
    rows = np.random.default_rng(0).permutation(len(y))[:332]
    return X[rows], y[rows]


def _fit_gd(submission, X, y, n_iter: int, lr: float, log=None, b_kind=number) -> tuple:
    """The learner's fit_gd as (w, b, losses), b of `b_kind`; with `log`, live metrics too."""
    args = ("fit_gd", X, y, n_iter, lr)
    result = submission.call_logged(*args, log=log, timeout=60) if log else submission.call(*args)
    return unpack(result, "fit_gd", w=array((X.shape[1],)), b=b_kind, losses=array((n_iter,)))


def test_predict(submission, seed):
    """predict computes X @ w + b for every row"""
    rng = np.random.default_rng(seed)
    hint = "one number per row: X @ w + b, shape (N,)"
    for n_features in (4, 1):
        X, w, b = rng.normal(size=(30, n_features)), rng.normal(size=n_features), rng.normal()
        name = f"predict(X, w, b) with {n_features} feature(s)"
        got, want = submission.predict(X, w, float(b)), X @ w + b
        kit.assert_array_close(got, want, name=name, rtol=1e-10, atol=1e-12, hint=hint)


def test_error_metrics(submission, seed):
    """mse, rmse and mae agree with scikit-learn"""
    rng = np.random.default_rng(seed)
    y_true = rng.normal(50.0, 20.0, size=40)
    cases = {
        "noisy predictions": y_true + rng.normal(0.0, 5.0, size=40),
        "a constant prediction": np.full(40, 10.0),
    }
    for case, y_pred in cases.items():
        diff, mse = y_true - y_pred, skm.mean_squared_error(y_true, y_pred)
        for function, want, rule, mistake in (
            ("mse", mse, "mean of the squared differences: np.mean((y_true - y_pred) ** 2)",
             Mistake("this is the sum of squares: divide by N (np.mean)", np.sum(diff**2))),
            ("rmse", math.sqrt(mse), "the square root of the mean squared error",
             Mistake("this is the MSE: rmse is its square root (np.sqrt)", mse)),
            ("mae", skm.mean_absolute_error(y_true, y_pred),
             "mean of the absolute differences: np.mean(np.abs(y_true - y_pred))",
             Mistake("this is the mean signed difference: take np.abs first", np.mean(diff))),
        ):  # fmt: skip
            name = f"{function}(y_true, y_pred) on {case}"
            got = kit.py_float(submission.call(function, y_true, y_pred), name)
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
    rule = (
        "1 - SS_res / SS_tot with SS_res = sum((y_true - y_pred)**2), "
        "SS_tot = sum((y_true - mean(y_true))**2)"
    )
    for case, y_pred in cases.items():
        ss_res, ss_tot = np.sum((y_true - y_pred) ** 2), np.sum((y_true - y_true.mean()) ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            mistakes = [
                Mistake("the mean in SS_tot is the mean of y_true, not of y_pred",
                        1 - ss_res / np.sum((y_true - y_pred.mean()) ** 2)),
                Mistake("this is SS_res / SS_tot: r2 is 1 minus that", ss_res / ss_tot),
                Mistake("the arguments are r2(y_true, y_pred); the mean is taken over y_true",
                        1 - ss_res / np.sum((y_pred - y_pred.mean()) ** 2)),
            ]  # fmt: skip
        name, want = f"r2(y_true, y_pred) on {case}", skm.r2_score(y_true, y_pred)
        got = kit.py_float(submission.r2(y_true, y_pred), name)
        expect_close(got, want, name=name, hint=rule, mistakes=mistakes, **EXACT)


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
        result = kit.call_unchanged(
            submission, "standardize", X_train, X_test, names=("X_train", "X_test"),
            how="build new arrays ((X - mean) / std, not X -= mean) so the caller's {name} "
            "keeps its values",
        )  # fmt: skip
        kinds = {"X_train": anything, "X_test": array(X_test.shape)}
        got_train, got_test = unpack(result, "standardize", **kinds)
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
        scaler = StandardScaler().fit(X_train)
        for label, got, X in (("X_train", got_train, X_train), ("X_test", got_test, X_test)):
            name = f"standardize's {label} ({case})"
            kit.assert_array_close(got, scaler.transform(X), name=name, hint=hint, **EXACT)


@pytest.mark.points(2)
def test_closed_form(submission, seed):
    """fit_closed_form finds the same weights and intercept as scikit-learn's LinearRegression"""
    rng = np.random.default_rng(seed)
    X_synth, X_line = rng.normal(size=(50, 3)), rng.uniform(0.0, 10.0, size=(20, 1))
    cases = {
        "the diabetes data in its original units": _diabetes(),
        "synthetic data with intercept 100": (
            X_synth, X_synth @ np.array([2.0, -1.0, 0.5]) + 100.0 + rng.normal(0.0, 0.1, size=50)),
        "a single feature": (X_line, 3.0 * X_line[:, 0] - 7.0 + rng.normal(0.0, 1.0, size=20)),
    }  # fmt: skip
    for case, (X, y) in cases.items():
        oracle = LinearRegression().fit(X, y)
        result = submission.fit_closed_form(X, y)
        w, b = unpack(result, "fit_closed_form", w=anything, b=anything)
        if type(w) is np.ndarray and w.shape == (X.shape[1] + 1,):
            raise kit.CheckFailure(
                f"fit_closed_form's w ({case}) has shape {w.shape}, expected ({X.shape[1]},): "
                "return the weights without the intercept's entry, and that entry as b"
            )
        b = kit.py_float(b, f"fit_closed_form's b ({case})")
        hint = likely_mistake(b, [
            Mistake("b is 0: the model needs an intercept; add a column of ones to X so that "
                    "the last weight plays the role of b", 0.0),
        ], default="append a column of ones to X and solve with np.linalg.lstsq; w is every "
           "entry but the last, b the last")  # fmt: skip
        tol = {"rtol": 1e-6, "atol": 1e-8 * float(np.abs(y).max()), "hint": hint}
        expect_close(w, oracle.coef_, name=f"fit_closed_form's w ({case})", **tol)
        expect_close(b, oracle.intercept_, name=f"fit_closed_form's b ({case})", **tol)


@pytest.mark.points(2)
def test_gradients(submission, seed):
    """gradients gives dL/dw and dL/db of the mean squared error (checked with torch autograd)"""
    rng = np.random.default_rng(seed)
    n, rule = 25, "with r = X @ w + b - y: dw = (2/N) * X.T @ r, db = (2/N) * sum(r)"
    for case in range(1, 4):
        X, y = rng.normal(size=(n, 3)), rng.normal(size=n) + 2.0
        w, b = rng.normal(size=3), float(rng.normal())
        result = submission.gradients(X, y, w, b)
        got_w, got_b = unpack(result, "gradients", dw=array((3,)), db=number)
        tensors = [torch.from_numpy(a) for a in (X, y, w, np.array(b))]
        grads = kit.autograd_gradients(lambda X, y, w, b: torch.mean((X @ w + b - y) ** 2), tensors)
        want_w, want_b = grads[2].numpy(), grads[3].numpy()
        hint = likely_mistake(got_w, [
            Mistake("dw is half the right size: the derivative of r**2 is 2 * r (the factor 2)",
                    0.5 * want_w),
            Mistake(f"dw is {n} (= N) times too large: average over the rows (divide by N)",
                    n * want_w),
            Mistake("dw is N/2 times too large: divide the sum by N, and keep the factor 2",
                    n / 2 * want_w),
            Mistake("dw has the wrong sign: the residual is prediction minus target, "
                    "X @ w + b - y", -want_w),
        ], default=rule)  # fmt: skip
        expect_close(got_w, want_w, name=f"dw (case {case})", rtol=1e-8, hint=hint)
        expect_close(got_b, float(want_b), name=f"db (case {case})", rtol=1e-8, hint=hint)


def test_fit_gd_matches(submission, reference, seed):
    """fit_gd follows the reference's gradient descent step by step from w = 0, b = 0"""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 4.0 + rng.normal(0.0, 0.3, size=20)
    w, b, losses = _fit_gd(submission, X, y, 30, 0.05, b_kind=kit.py_float)
    want_w, want_b, want_losses = reference.fit_gd(X, y, 30, 0.05)
    hint = likely_mistake(b, [Mistake("b never changed: update it too, b = b - lr * db", 0.0)],
        default="start from w = zeros(D), b = 0.0; in each step record the loss before "
        "updating, then w = w - lr * dw and b = b - lr * db")  # fmt: skip
    if not math.isclose(losses[0], float(np.mean(y**2)), rel_tol=1e-9):
        hint = "losses[0] is the MSE at the start, w = zeros(D) and b = 0, before any update"
    parts = {"losses": (losses, want_losses), "final w": (w, want_w), "final b": (b, want_b)}
    for part, (got, want) in parts.items():
        expect_close(got, want, name=f"fit_gd's {part}", hint=hint, **TRAJECTORY)


def _show_fit(metrics, y: np.ndarray, fits: dict[str, tuple[int, np.ndarray]]) -> None:
    """Each run's predictions against the targets so far (a picture only, never a verdict)."""
    labels = list(PICTURE_STEPS)
    shown = [label for label in labels if label in fits]
    with np.errstate(all="ignore"):  # a diverging run's MSE is inf: shown as it is
        mse = {label: np.mean((fits[label][1] - y) ** 2) for label in shown}
    captions = [f"{label} after {fits[label][0]} steps: MSE {mse[label]:.4g}" for label in shown]
    data = {
        "x": np.concatenate([y for _ in shown]),
        "y": np.concatenate([fits[label][1] for label in shown]),
        "group": np.repeat([labels.index(label) for label in shown], len(y)),
        "groups": [f"{label} features" for label in labels],
        "lines": [{"label": "predicted = actual", "coef": [1.0, -1.0, 0.0]}],
        "xlabel": "actual disease progression", "ylabel": "predicted",
        "caption": " · ".join(reversed(captions)),  # the run under way first: a panel cuts the end
    }  # fmt: skip
    metrics.figure("diabetes fit", "scatter", data, step=fits[shown[-1]][0])


def _watched_fit(submission, metrics, X, y, lr: float, fits: dict, label: str) -> tuple:
    """The judged fit_gd run with its live curve and its predictions drawn after PICTURE_STEPS
    (from shorter runs, which leave any problem to the judged run) and after its last step."""
    pictures = {}
    for steps in PICTURE_STEPS[label]:
        try:
            w, b, _ = _fit_gd(submission, X, y, steps, lr)
        except (kit.CheckFailure, kit.SubmissionError):
            break
        with np.errstate(all="ignore"):
            pictures[steps] = X @ w + b
    curve = metrics.labelled(label)

    def log(name: str, value: float, step: int | None = None) -> None:
        curve(name, value, step)
        if step in pictures:
            fits[label] = (step, pictures.pop(step))
            _show_fit(metrics, y, fits)

    w, b, losses = _fit_gd(submission, X, y, GD_ITERS, lr, log=log)
    with np.errstate(all="ignore"):
        fits[label] = (GD_ITERS, X @ w + b)
    _show_fit(metrics, y, fits)
    return w, b, losses


@pytest.mark.points(2)
def test_standardized_vs_raw(submission, reference, metrics):
    """gradient descent reaches least squares on scaled diabetes features, not on raw ones"""
    X_raw, y = _diabetes()
    X_scaled = StandardScaler().fit_transform(X_raw)
    runs, fits = {}, {"standardized": (0, np.zeros(len(y)))}
    same = {"hint": MATCH_REFERENCE, **TRAJECTORY}
    _show_fit(metrics, y, fits)
    for label, X, lr in (("standardized", X_scaled, GD_LR), ("raw", X_raw, RAW_LR)):
        # The reference first: its tenth of a second keeps the last picture on screen for a
        # moment before the learner's run sends the next ones.
        want_w, _, want_losses = reference.fit_gd(X, y, GD_ITERS, lr)
        w, b, losses = _watched_fit(submission, metrics, X, y, lr, fits, label)
        name = f"fit_gd on {label} features with lr = {lr:g}"
        expect_close(losses, want_losses, name=f"{name}: losses", **same)
        # Trusted: the loss of the returned parameters, computed here.
        runs[label] = (w, b, float(np.mean((X @ w + b - y) ** 2)))
        metrics.emit(f"final training MSE ({label})", runs[label][2], GD_ITERS)
        expect_close(w, want_w, name=f"{name}: final w", **same)
    oracle = LinearRegression().fit(X_scaled, y)
    best = float(np.mean((oracle.predict(X_scaled) - y) ** 2))
    w, b, loss = runs["standardized"]
    if not loss <= best * (1 + 1e-6):
        raise kit.CheckFailure(
            f"after {GD_ITERS} steps with lr = {GD_LR} on standardized features the training "
            f"MSE is {loss:.6g}, but least squares reaches {best:.6g}; on scaled features "
            "gradient descent should get there. Compare your gradients with the formula."
        )
    name = "{} from gradient descent vs least squares"
    kit.assert_array_close(w, oracle.coef_, name=name.format("w"), rtol=0, atol=0.01)
    kit.assert_number_close(b, oracle.intercept_, name=name.format("b"))


def test_too_large_lr_diverges(submission, reference, metrics):
    """too large a learning rate makes the losses overflow, and fit_gd returns them as they are"""
    X_raw, y = _diabetes()
    X = StandardScaler().fit_transform(X_raw)
    explain = (
        f"The steepest direction of this loss has curvature 8.3, so any lr above 2 / 8.3 = 0.24 "
        f"overshoots the minimum by more than it corrects: with lr = {BIG_LR} each step "
        "multiplies the error along that direction by about -1.5, and the loss grows "
        "without bound until float64 overflows to inf (then inf - inf gives nan)."
    )
    try:
        log = metrics.labelled(f"lr = {BIG_LR}")
        result = submission.call_logged("fit_gd", X, y, BIG_ITERS, BIG_LR, log=log, timeout=60)
    except kit.SubmissionError as exc:
        if "NotImplementedError" in str(exc):
            raise
        raise kit.CheckFailure(
            f"{exc}\nfit_gd must not raise when training diverges: run all n_iter steps and "
            f"return the losses as they are, inf and nan included. {explain}"
        ) from None
    _, _, losses = unpack(result, "fit_gd", w=anything, b=anything, losses=array((BIG_ITERS,)))
    with np.errstate(over="ignore", invalid="ignore"):  # the reference overflows too
        want = reference.fit_gd(X, y, BIG_ITERS, BIG_LR)[2]
    finite = np.isfinite(losses)
    if finite.all():
        raise kit.CheckFailure(
            f"with lr = {BIG_LR} the losses should grow until they overflow, but all "
            f"{BIG_ITERS} are finite (from {losses[0]:.4g} to {losses[-1]:.4g}). {explain} "
            "Losses that shrink here mean your steps are smaller than lr * gradient (is the "
            "factor 2 in the gradient missing?); losses that stay finite but large mean the "
            "loop clips or replaces values. Return the losses as computed."
        )
    # The same formulas overflow at the same step, give or take rounding in the last one.
    first_bad, want_first_bad = int(np.argmin(finite)), int(np.argmin(np.isfinite(want)))
    both = min(first_bad, want_first_bad)
    name = f"fit_gd's losses with lr = {BIG_LR} (before they overflow)"
    hint = f"until the overflow these must match the reference's gradient descent; {PASS_FIRST}"
    kit.assert_array_close(losses[:both], want[:both], name=name, hint=hint, **TRAJECTORY)
    if abs(first_bad - want_first_bad) > 3 or finite[first_bad:].any():
        raise kit.CheckFailure(
            f"with lr = {BIG_LR} the reference's losses overflow at step {want_first_bad} and "
            f"stay inf or nan after it; yours first overflow at step {first_bad}"
            + (" and later become finite again" if finite[first_bad:].any() else "")
            + ". Keep every loss as computed: no clipping, no resetting."
        )
