"""Checks for the regularization exercise: ridge, lasso, validation curves and early stopping."""

import numpy as np
import pytest
from sklearn.linear_model import Lasso, Ridge
from sklearn.preprocessing import PolynomialFeatures

from grader import kit
from grader.kit import Mistake, array, number

pytestmark = pytest.mark.exercise("regularization")

# The early-stopping data: with this seed, learning rate and patience the validation loss
# zigzags (a step near the stability limit), is best for early stopping at iteration 44 and
# lowest near iteration 1000, so stopping too early, too late or never each gives another best.
STOPPING_SEED, STOPPING_DEGREE, STOPPING_LR, STOPPING_MAX_ITER = 12, 8, 0.67, 2000
CURVE_SEED = 5  # 20 training points whose validation curve dips in the middle of the grid

RIDGE_B_HINT = (
    "the bias is not penalised: centre X and y, solve for w, then b = y_mean - x_mean @ w (a "
    "column of ones inside the penalty shrinks b)"
)
RIDGE_W_HINT = (
    "w = solve(Xc.T @ Xc + alpha * I, Xc.T @ yc) with the centred Xc and yc; the objective is a "
    "sum (no 1/N) and the penalty is alpha * ||w||^2"
)
RIDGE_GD_HINT = (
    "start from zeros; r = X @ w + b - y; grad_w = (2/N) * (X.T @ r + alpha * w); "
    "grad_b = (2/N) * r.sum(), with no alpha term"
)
LASSO_HINT = (
    "rho_j = Xc[:, j] @ (r + Xc[:, j] * w[j]) / N and z_j = Xc[:, j] @ Xc[:, j] / N, then "
    "w[j] = soft_threshold(rho_j, alpha) / z_j, one coordinate after another"
)
LASSO_UNSCALED = (
    "your weights are the lasso's for alpha / N: rho_j is compared with alpha without its "
    "division by N (the objective has 1/(2N) in front of the squared error)"
)
LASSO_JACOBI = (
    "your sweep updates every w[j] from the residual of the sweep's start: after each "
    "coordinate, update the residual (and so the next rho) before moving to the next one"
)
# Check titles as learners see them (for "fix ... first").
RIDGE_TITLE = "ridge_fit matches scikit-learn's Ridge, with the bias left unpenalised"
POLY_TITLE = "polynomial_features gives the columns x, x^2, ..., x^degree"
# sklearn is the checks' oracle (Ridge, Lasso, PolynomialFeatures): the exercise writes them.
READY_MADE = kit.Shortcuts("a ready-made model this exercise asks you to write", names={"sklearn"})


def _wave(seed: int, n_train: int = 15, n_val: int = 200) -> tuple[np.ndarray, ...]:
    """A noisy sine on [-1, 1]: x_train, y_train, x_val, y_val."""
    gen = np.random.default_rng(seed)
    x_train, x_val = gen.uniform(-1.0, 1.0, n_train), gen.uniform(-1.0, 1.0, n_val)
    y_train = np.sin(3.0 * x_train) + 0.3 * gen.standard_normal(n_train)
    return x_train, y_train, x_val, np.sin(3.0 * x_val) + 0.3 * gen.standard_normal(n_val)


def _linear_data(seed: int, n: int, d: int, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Features with mean `offset`, a target with a large intercept, a few zero true weights."""
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((n, d)) + offset
    true_w = gen.uniform(-3.0, 3.0, d)
    true_w[::3] = 0.0
    return X, X @ true_w + 7.0 + 0.5 * gen.standard_normal(n)


def _fit(submission, function: str, X: np.ndarray, *args, b=kit.py_float) -> tuple:
    """The learner's (w, b) from `function(X, y, ...)`, checked for type, shape, unchanged X, y.
    Every b is promised as a Python float; `b=number` where another check judges that."""
    result = kit.call_unchanged(submission, function, X, *args, names=("X", "y"))
    return kit.unpack(result, function, w=array((X.shape[1],)), b=b)


# ------------------------------------------------------------------------------------ ridge
@pytest.mark.points(2)
def test_ridge_matches_sklearn(submission, seed):
    """ridge_fit matches scikit-learn's Ridge, with the bias left unpenalised"""
    X, y = kit.diabetes()
    cases = [("diabetes", X, y, alpha) for alpha in (0.01, 0.1, 1.0, 10.0)]
    cases.append(("features with mean 5", *_linear_data(seed, 30, 4, offset=5.0), 3.0))
    b_options = {"rtol": 1e-7, "atol": 1e-7, "hint": RIDGE_B_HINT}
    w_options = {"rtol": 1e-6, "atol": 1e-6, "hint": RIDGE_W_HINT}
    for label, data, target, alpha in cases:
        oracle = Ridge(alpha=alpha).fit(data, target)
        got_w, got_b = _fit(submission, "ridge_fit", data, target, alpha)
        where = f"ridge_fit on {label} with alpha={alpha:g}"
        kit.expect_close(got_b, oracle.intercept_, name=f"{where}: b", **b_options)
        kit.expect_close(got_w, oracle.coef_, name=f"{where}: w", **w_options)


def _ridge_steps(X, y, alpha: float, lr: float, n_iter: int, *, scale=2.0, fresh_b=False):
    """Trusted ridge descent; `scale` replaces the 2 of 2/N, `fresh_b` takes b's step from the
    residual after w has moved (both typical mistakes)."""
    n, w, b = len(y), np.zeros(X.shape[1]), 0.0
    for _ in range(n_iter):
        residual = X @ w + b - y
        w = w - lr * (scale / n) * (X.T @ residual + alpha * w)
        if fresh_b:
            residual = X @ w + b - y
        b = b - lr * (scale / n) * float(residual.sum())
    return w, b


def _gd_mistakes(X, y, alpha: float, lr: float, n_iter: int) -> list[Mistake]:
    return [
        Mistake(
            "your steps are half the right size: the derivative of r**2 is 2 * r, so both "
            "gradients carry 2/N, not 1/N",
            lambda: _ridge_steps(X, y, alpha, lr, n_iter, scale=1.0),
        ),
        Mistake(
            "b's step uses the residual after w has moved: compute r once per step, from the "
            "current w and b, and take both gradients from it",
            lambda: _ridge_steps(X, y, alpha, lr, n_iter, fresh_b=True),
        ),
    ]


@pytest.mark.points(2)
def test_ridge_gradient_descent(submission, reference, seed):
    """ridge_gradient_descent follows the reference's steps and converges to Ridge's solution"""
    X, y = _linear_data(seed, 60, 4, offset=0.0)
    alpha, lr = 15.0, 0.1
    steps = {"rtol": 1e-9, "atol": 1e-12, "hint": RIDGE_GD_HINT}
    for n_iter in (1, 7):
        got_w, got_b = _fit(submission, "ridge_gradient_descent", X, y, alpha, lr, n_iter)
        want_w, want_b = reference.ridge_gradient_descent(X, y, alpha, lr, n_iter)
        where = f"ridge_gradient_descent after {n_iter} step{'s' if n_iter > 1 else ''}"
        got = (got_w, got_b)
        hint = kit.likely_mistake(got, _gd_mistakes(X, y, alpha, lr, n_iter), default=RIDGE_GD_HINT)
        kit.expect_close(got_b, want_b, name=f"{where}: b", **dict(steps, hint=hint))
        kit.expect_close(got_w, want_w, name=f"{where}: w", **dict(steps, hint=hint))
    oracle = Ridge(alpha=alpha).fit(X, y)
    got_w, got_b = _fit(submission, "ridge_gradient_descent", X, y, alpha, lr, 500)
    where = "ridge_gradient_descent after 500 steps, against Ridge"
    hint = "at convergence b must equal the unpenalised intercept: is alpha applied to b?"
    kit.expect_close(got_b, oracle.intercept_, name=f"{where}: b", rtol=1e-6, atol=1e-6, hint=hint)
    kit.expect_close(got_w, oracle.coef_, name=f"{where}: w", rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------------------------ lasso
def test_soft_threshold(submission, reference, seed):
    """soft_threshold shrinks values towards 0 by the threshold, keeping their sign"""
    z = np.array([-3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0, -1.5, 1.5])
    random = np.random.default_rng(seed).normal(0.0, 2.0, (3, 5))
    hint = (
        "sign(z) * max(|z| - t, 0): values in [-t, t] become 0, others move t towards 0 and "
        "keep their sign"
    )
    for values, threshold in ((z, 1.0), (random, 0.7), (random, 0.0)):
        got = kit.call_unchanged(submission, "soft_threshold", values, threshold, names=("z",))
        want = reference.soft_threshold(values, threshold)
        name = f"soft_threshold(z, {threshold:g}) on z of shape {values.shape}"
        kit.assert_array_close(got, want, name=name, rtol=1e-12, atol=1e-12, hint=hint)


def _lasso_sweeps(X, y, alpha: float, n_sweeps: int, *, jacobi: bool = False) -> np.ndarray | None:
    """Trusted coordinate descent (cyclic, or Jacobi: every coordinate from the sweep's start);
    None where it does not stay finite (a mistake's variant can blow up)."""
    n, d = X.shape
    Xc, yc, w = X - X.mean(axis=0), y - y.mean(), np.zeros(d)
    z = (Xc**2).sum(axis=0) / n
    with np.errstate(all="ignore"):
        for _ in range(n_sweeps):
            start = w.copy()
            for j in range(d):
                source = start if jacobi else w
                rho = Xc[:, j] @ (yc - Xc @ source + Xc[:, j] * source[j]) / n
                w[j] = np.sign(rho) * max(abs(rho) - alpha, 0.0) / z[j]
    return w if np.all(np.isfinite(w)) else None


def _lasso_mistakes(X: np.ndarray, y: np.ndarray, alpha: float, n_sweeps: int) -> list[Mistake]:
    """The weights a lasso with a typical mistake reaches on this case."""
    return [
        Mistake(LASSO_UNSCALED, lambda: _lasso_sweeps(X, y, alpha / len(y), n_sweeps)),
        Mistake(LASSO_JACOBI, lambda: _lasso_sweeps(X, y, alpha, n_sweeps, jacobi=True)),
    ]


@pytest.mark.points(2)
def test_lasso_matches_sklearn(submission, seed):
    """lasso_fit by coordinate descent matches scikit-learn's Lasso"""
    X, y = kit.diabetes()
    X_syn, y_syn = _linear_data(seed, 50, 6, offset=2.0)
    # Two sweeps first, against trusted sweeps: the order of the updates shows before they
    # converge (a Jacobi-style sweep and a cyclic one reach different weights after two).
    got_w, _ = _fit(submission, "lasso_fit", X_syn, y_syn, 0.3, 2)
    want_w = _lasso_sweeps(X_syn, y_syn, 0.3, 2)
    mistakes = _lasso_mistakes(X_syn, y_syn, 0.3, 2)
    hint = kit.likely_mistake(got_w, mistakes, default=LASSO_HINT, expected=want_w)
    where = "lasso_fit on features with mean 2 with alpha=0.3 after n_sweeps=2: w"
    kit.assert_array_close(got_w, want_w, name=where, rtol=1e-9, atol=1e-9, hint=hint)
    cases = [(X, y, alpha, "diabetes") for alpha in (0.05, 0.1, 0.5)]
    b_hint = "b = y_mean - x_mean @ w, with no penalty on b"
    b_options = {"rtol": 1e-6, "atol": 1e-4, "hint": b_hint}
    for data, target, alpha, label in [*cases, (X_syn, y_syn, 0.3, "features with mean 2")]:
        oracle = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(data, target)
        got_w, got_b = _fit(submission, "lasso_fit", data, target, alpha, 1000)
        mistakes = _lasso_mistakes(data, target, alpha, 1000)
        w_options = {"rtol": 1e-5, "atol": 1e-4, "hint": LASSO_HINT, "mistakes": mistakes}
        where = f"lasso_fit on {label} with alpha={alpha:g}"
        kit.expect_close(got_w, oracle.coef_, name=f"{where}: w", **w_options)
        kit.expect_close(got_b, oracle.intercept_, name=f"{where}: b", **b_options)


def test_lasso_exact_zeros(submission):
    """with a large alpha, lasso_fit sets weights to exactly 0.0, all of them above alpha_max"""
    X, y = kit.diabetes()
    alpha_max = float(np.abs((X - X.mean(axis=0)).T @ (y - y.mean())).max()) / len(y)
    for alpha in (1.0, 1.05 * alpha_max):
        oracle = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
        want_zeros = (oracle.coef_ == 0.0).astype(np.int64)
        got_w, got_b = _fit(submission, "lasso_fit", X, y, alpha, 300, b=number)
        got_zeros = (got_w == 0.0).astype(np.int64)
        where = f"lasso_fit on diabetes with alpha={alpha:g}"
        hint = "soft-thresholding returns exactly 0.0 when |rho_j| <= alpha"
        if not np.array_equal(got_zeros, want_zeros):
            hint = kit.likely_mistake(got_w, _lasso_mistakes(X, y, alpha, 300), default=hint)
        name = f"{where}: which weights are exactly 0 (1 = zero)"
        kit.assert_array_equal(got_zeros, want_zeros, name=name, hint=hint)
        if alpha > alpha_max:
            name = f"{where}: b when every weight is 0"
            hint = "with w = 0 the best bias is the mean of y"
            kit.assert_number_close(got_b, float(y.mean()), name=name, rtol=1e-9, hint=hint)


# ---------------------------------------------------------------------- under- and overfitting
def test_polynomial_features(submission, reference, seed):
    """polynomial_features gives the columns x, x^2, ..., x^degree"""
    x = np.random.default_rng(seed).uniform(-2.0, 2.0, 7)
    hint = "column k holds x ** (k + 1): no column of ones (the bias is fitted apart)"
    for degree in (1, 4):
        want = reference.polynomial_features(x, degree)
        name = f"polynomial_features(x, {degree}) for x of shape (7,)"
        got = submission.polynomial_features(x, degree)
        kit.assert_array_close(got, want, name=name, rtol=1e-12, hint=hint)


def _curves(submission, data, degree: int, alphas: np.ndarray) -> tuple[tuple, tuple, str]:
    """The learner's (train_mse, val_mse), scikit-learn's (PolynomialFeatures and Ridge), and
    a hint naming the learner's own part (features or ridge_fit) that is wrong here, or ""."""
    errors = array(alphas.shape)
    result = submission.validation_curve(*data, degree, alphas)
    got = kit.unpack(result, "validation_curve", train_mse=errors, val_mse=errors)
    x_train, y_train, x_val, y_val = data
    expand = PolynomialFeatures(degree, include_bias=False)
    P_train, P_val = expand.fit_transform(x_train[:, None]), expand.transform(x_val[:, None])
    models = [Ridge(alpha=float(alpha)).fit(P_train, y_train) for alpha in alphas]
    train = np.array([np.mean((model.predict(P_train) - y_train) ** 2) for model in models])
    val = np.array([np.mean((model.predict(P_val) - y_val) ** 2) for model in models])
    want = (train, val)
    if kit.matches(got, want, rtol=1e-5, atol=1e-9):
        return got, want, ""
    return got, want, _parts_first(submission, P_train, y_train, P_val, degree, models)


def _parts_first(submission, P_train, y_train, P_val, degree: int, models: list) -> str:
    """The curve is built from the learner's own parts: when one is wrong, fix it first."""
    x = P_train[:, 0]
    try:
        features = submission.polynomial_features(x, degree)
    except kit.CheckFailure:
        features = None
    if not kit.matches(features, P_train, rtol=1e-9, atol=1e-12):
        return f"your polynomial_features is wrong on these points: fix {POLY_TITLE!r} first"
    for model in models:
        try:
            fit = submission.ridge_fit(P_train, y_train, model.alpha)
            w, b = kit.unpack(fit, "ridge_fit", w=array((degree,)), b=number)
        except kit.CheckFailure:
            return f"your ridge_fit fails on these features: fix {RIDGE_TITLE!r} first"
        # Predictions, not weights: on 12 powers of x, w is ill-conditioned at a tiny alpha.
        if not kit.matches(P_val @ w + b, model.predict(P_val), rtol=1e-5, atol=1e-6):
            return (
                f"your ridge_fit(P, y, {model.alpha:g}) differs from Ridge on these features: "
                f"fix {RIDGE_TITLE!r} first"
            )
    return ""


def test_validation_curve_matches(submission, seed):
    """validation_curve gives the training and validation MSE of ridge for every alpha"""
    data, alphas = _wave(seed, n_train=15, n_val=100), 10.0 ** np.arange(-4, 3)
    got, want, parts = _curves(submission, data, 9, alphas)
    hint = parts or (
        "for each alpha in order: ridge_fit on the training features, then "
        "mean((X @ w + b - y) ** 2) on the training and on the validation set"
    )
    for label, got_mse, want_mse in zip(("train_mse", "val_mse"), got, want, strict=True):
        name = f"validation_curve's {label} (degree 9, alphas 1e-4 ... 1e2)"
        kit.assert_array_close(got_mse, want_mse, name=name, rtol=1e-6, atol=1e-9, hint=hint)


def test_validation_curve_u_shape(submission):
    """the curve shows underfitting and overfitting: training error rises, validation dips"""
    alphas = 10.0 ** np.arange(-6, 3)
    (train, val), want, parts = _curves(submission, _wave(CURVE_SEED, n_train=20), 12, alphas)
    labels = [f"{alpha:g}" for alpha in alphas]
    first = f" Hint: {parts}" if parts else ""
    if not np.all(np.diff(train) > 0):
        step = int(np.argmin(np.diff(train)))
        raise kit.CheckFailure(
            f"validation_curve's train_mse should rise with alpha (a stronger penalty fits the "
            f"training data less closely), but it goes from {train[step]:.4g} at alpha="
            f"{labels[step]} to {train[step + 1]:.4g} at alpha={labels[step + 1]}.{first}"
        )
    best = int(np.argmin(val))
    if best in (0, len(alphas) - 1):
        raise kit.CheckFailure(
            f"validation_curve's val_mse is lowest at the end of the grid (alpha={labels[best]}); "
            "on this data a tiny alpha overfits the 20 points and a huge one underfits, so the "
            f"validation error should be lowest in between.{first}"
        )
    for label, got_mse, want_mse in zip(("train_mse", "val_mse"), (train, val), want, strict=True):
        name = f"validation_curve's {label} (degree 12)"
        kit.assert_array_close(got_mse, want_mse, name=name, rtol=1e-5, atol=1e-9, hint=parts)


# --------------------------------------------------------------------------- early stopping
def _mse(X: np.ndarray, w: np.ndarray, b: float, y: np.ndarray) -> float:
    return float(np.mean((X @ w + b - y) ** 2))


def _descent_path(X_train, y_train, X_val, y_val, lr, n_iter):
    """Trusted gradient descent on the training MSE: the weights and validation MSE per step."""
    n, w, b, path = len(y_train), np.zeros(X_train.shape[1]), 0.0, []
    for _ in range(n_iter):
        residual = X_train @ w + b - y_train
        w = w - lr * (2.0 / n) * (X_train.T @ residual)
        b = float(b - lr * (2.0 / n) * residual.sum())
        path.append((w, b))
    return path, np.array([_mse(X_val, w, b, y_val) for w, b in path])


def _stopping_point(val: np.ndarray, patience: int) -> tuple[int, int]:
    """(best iteration, stopping iteration), both counted from 1, for a validation curve."""
    best, best_iter, waited = np.inf, 0, 0
    for t, loss in enumerate(val, start=1):
        if loss < best:
            best, best_iter, waited = loss, t, 0
        else:
            waited += 1
            if waited >= patience:
                return best_iter, t
    return best_iter, len(val)


@pytest.mark.points(2)
def test_early_stopping(submission, reference, metrics):
    """fit_early_stopping returns the weights of the best validation iteration, stopping on time"""
    x_train, y_train, x_val, y_val = _wave(STOPPING_SEED)
    P_train = reference.polynomial_features(x_train, STOPPING_DEGREE)
    P_val = reference.polynomial_features(x_val, STOPPING_DEGREE)
    lr, max_iter = STOPPING_LR, STOPPING_MAX_ITER
    path, val = _descent_path(P_train, y_train, P_val, y_val, lr, max_iter)
    overall = int(np.argmin(val)) + 1
    best_10, stop_10 = _stopping_point(val, 10)
    kinds = {"w": array((P_train.shape[1],)), "b": kit.py_float, "best_iter": kit.integer}
    # Third case: max_iter ends the run before patience does, on an iteration that improves
    # the validation loss, so a loop that runs max_iter - 1 iterations returns another one.
    for patience, max_iter in [(10, STOPPING_MAX_ITER), (20, STOPPING_MAX_ITER), (10, best_10)]:
        best_iter, stop_iter = _stopping_point(val[:max_iter], patience)
        reached = max_iter < STOPPING_MAX_ITER
        usable = best_iter == stop_iter == max_iter if reached else best_iter < stop_iter < overall
        if not usable or stop_10 <= best_10:
            raise RuntimeError("the early-stopping data no longer has the shape this check needs")
        call = f"fit_early_stopping(..., lr={lr}, max_iter={max_iter}, patience={patience})"
        args = (P_train, y_train, P_val, y_val, lr, max_iter, patience)
        result = submission.call_logged("fit_early_stopping", *args, log=metrics.emit, timeout=30)
        got_w, got_b, got_iter = kit.unpack(result, "fit_early_stopping", **kinds)
        if not 1 <= got_iter <= max_iter:
            raise kit.CheckFailure(f"{call} returned best_iter={got_iter}, outside 1..{max_iter}")
        got_val, claimed = _mse(P_val, got_w, got_b, y_val), val[got_iter - 1]
        if not np.isclose(got_val, claimed, rtol=1e-6, atol=0.0):
            later = np.flatnonzero(np.isclose(val, got_val, rtol=1e-6, atol=0.0)) + 1
            origin = f" (those of iteration {later[0]})" if later.size else ""
            if later.size and later[0] == got_iter + 1:
                raise kit.CheckFailure(
                    f"{call}: the returned weights are those of iteration {later[0]} (after "
                    f"{later[0]} steps), but best_iter={got_iter}: count the iterations from 1, "
                    "so that the first step is iteration 1"
                )
            raise kit.CheckFailure(
                f"{call}: the returned weights{origin} have validation MSE {got_val:.6g}, but "
                f"iteration best_iter={got_iter} had {claimed:.6g}. Keep a copy of w and b "
                "(w.copy()) whenever the validation loss improves, and return that copy, not "
                "the weights of the last iteration"
            )
        if got_iter < best_iter:
            raise kit.CheckFailure(
                f"{call} stopped too early: best_iter={got_iter}, but the validation loss "
                f"improved again at iteration {best_iter} before {patience} iterations in a row "
                "went without improvement. Reset the count to 0 on every improvement"
            )
        if got_iter > stop_iter:
            raise kit.CheckFailure(
                f"{call} did not stop in time: best_iter={got_iter}, but after iteration "
                f"{best_iter} the validation loss did not improve for {patience} iterations, so "
                f"training should have stopped at iteration {stop_iter}"
            )
        if reached and got_iter != best_iter:
            raise kit.CheckFailure(
                f"{call} returned best_iter={got_iter}, expected {best_iter}: the validation "
                f"loss improves at iteration {max_iter}, the last one max_iter allows; run "
                f"iterations 1 to max_iter inclusive (for t in range(1, max_iter + 1))"
            )
        if got_iter != best_iter:
            raise kit.CheckFailure(
                f"{call} returned best_iter={got_iter}, expected {best_iter}: count iterations "
                "from 1 (after the first step) and improve only on a strictly lower loss"
            )
        want_w, want_b = path[best_iter - 1]
        kit.expect_close(got_w, want_w, name=f"{call}: w", rtol=1e-6, atol=1e-9)
        kit.expect_close(got_b, want_b, name=f"{call}: b", rtol=1e-6, atol=1e-9)
    _expect_strict_improvement(submission, metrics, kinds)


def _expect_strict_improvement(submission, metrics, kinds: dict) -> None:
    """A loss that stops changing is no improvement: the best stays the first iteration.

    With X^T X / N = 1, zero-mean features and lr = 0.5, the first step lands exactly on the
    least-squares solution (w = 1, b = 1, all numbers exact in binary), so every later
    iteration has exactly the same validation loss; only "strictly lower" keeps best_iter = 1.
    """
    X_train, y_train = np.array([[1.0], [-1.0], [1.0], [-1.0]]), np.array([3.0, -1.0, 1.0, 1.0])
    X_val, y_val = np.array([[2.0], [0.0]]), np.array([0.0, 0.0])
    call = "fit_early_stopping(..., lr=0.5, max_iter=20, patience=3) on a loss that stays flat"
    args = (X_train, y_train, X_val, y_val, 0.5, 20, 3)
    result = submission.call_logged("fit_early_stopping", *args, log=metrics.emit, timeout=30)
    got_w, got_b, got_iter = kit.unpack(result, "fit_early_stopping", **dict(kinds, w=array((1,))))
    if got_iter != 1:
        raise kit.CheckFailure(
            f"{call} returned best_iter={got_iter}, expected 1: the first step reaches the "
            "least-squares solution, so the validation loss is exactly the same at every "
            "iteration after it. An equal loss is no improvement: improve only on a strictly "
            "lower loss (<, not <=), and stop after `patience` iterations without one"
        )
    kit.expect_close(got_w, np.array([1.0]), name=f"{call}: w", rtol=1e-9, atol=1e-12)
    kit.expect_close(got_b, 1.0, name=f"{call}: b", rtol=1e-9, atol=1e-12)


VALUE_CHECKS = ("ridge_matches_sklearn", "ridge_gradient_descent", "soft_threshold",
                "lasso_matches_sklearn", "polynomial_features",
                "validation_curve_matches")  # fmt: skip


@pytest.mark.needs_passing(*VALUE_CHECKS)
def test_written_by_hand(submission, exercise, source_tree):
    """ridge, lasso and the polynomial features are written with NumPy, not taken from sklearn"""
    advice = (
        "Solve the systems and sweep the coordinates yourself with NumPy: sklearn's Ridge and "
        "Lasso are what the checks compare your weights with"
    )
    kit.expect_no_shortcuts(source_tree, exercise.path, READY_MADE, advice=advice)
