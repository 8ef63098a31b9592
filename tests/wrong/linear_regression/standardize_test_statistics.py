"""Expect failing: standardize
Mistake: standardize scales the test rows with their own mean and std.
Each set then looks perfectly centred, which hides how the test rows differ from the
training rows (a leak); a single test row even divides by a std of 0.

Otherwise identical to solutions/linear_regression/linear_regression.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LogFn = Callable[[str, float, int], None]


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Predictions of the linear model: y_hat = X @ w + b.

    Shapes: X (N, D) float64, w (D,) float64, b a float -> (N,) float64.
    """
    return X @ w + b


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error: (1/N) * sum((y_true - y_pred) ** 2).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    return float(np.mean((y_true - y_pred) ** 2))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error: sqrt(mse), in the units of y.

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error: (1/N) * sum(|y_true - y_pred|).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    return float(np.mean(np.abs(y_true - y_pred)))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination: 1 - SS_res / SS_tot.

    SS_res = sum((y_true - y_pred) ** 2), SS_tot = sum((y_true - mean(y_true)) ** 2).
    1 is a perfect fit, 0 is no better than always predicting mean(y_true), and it can be
    negative. y_true is assumed not to be constant (SS_tot > 0).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    ss_res = np.sum((y_true - y_pred) ** 2)
    ss_tot = np.sum((y_true - np.mean(y_true)) ** 2)
    return float(1.0 - ss_res / ss_tot)


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale every feature to mean 0 and standard deviation 1 on the training rows.

    mean = X_train.mean(axis=0), std = X_train.std(axis=0) (population std, ddof=0), and both
    sets are transformed with these same numbers: (X - mean) / std. The test rows' own
    statistics are never used. Every feature of X_train is assumed to vary (std > 0).

    Shapes: X_train (N, D), X_test (M, D) float64 -> (X_train_scaled (N, D), X_test_scaled (M, D)).
    """
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    return (X_train - mean) / std, (X_test - X_test.mean(axis=0)) / X_test.std(axis=0)


def fit_closed_form(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares with an intercept: the (w, b) minimizing sum((X @ w + b - y) ** 2).

    A column of ones is appended to X so that b is fitted like any other weight, and the
    system is solved with np.linalg.lstsq (stable; no explicit matrix inverse).

    Shapes: X (N, D), y (N,) float64 -> (w (D,) float64, b a float).
    """
    design = np.column_stack([X, np.ones(len(X))])
    theta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return theta[:-1], float(theta[-1])


def gradients(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """Gradients of the mean squared error L = (1/N) * sum((X @ w + b - y) ** 2).

    With the residuals r = X @ w + b - y:
        dL/dw = (2/N) * X.T @ r        dL/db = (2/N) * sum(r)

    Shapes: X (N, D), y (N,), w (D,) float64, b a float -> (dw (D,) float64, db a float).
    """
    residuals = predict(X, w, b) - y
    n = len(y)
    return 2.0 / n * (X.T @ residuals), float(2.0 / n * np.sum(residuals))


def fit_gd(
    X: np.ndarray, y: np.ndarray, n_iter: int, lr: float, log: LogFn | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """Fit (w, b) by n_iter steps of gradient descent on the MSE, starting from zeros.

    Each step k = 0, 1, ..., n_iter - 1:
        losses[k] = mse(y, predict(X, w, b))       (the loss before this step's update)
        log("loss", losses[k], k)                   (only when log is given)
        w, b = w - lr * dL/dw, b - lr * dL/db

    A learning rate that is too large makes the losses grow until they overflow to inf (and
    then nan); that is the honest result, so the loop runs all n_iter steps regardless.

    Shapes: X (N, D), y (N,) float64; n_iter an int; lr a float.
    Returns (w (D,) float64, b a float, losses (n_iter,) float64).
    """
    w = np.zeros(X.shape[1])
    b = 0.0
    losses = np.empty(n_iter)
    for step in range(n_iter):
        losses[step] = mse(y, predict(X, w, b))
        if log is not None:
            log("loss", losses[step], step)
        dw, db = gradients(X, y, w, b)
        w = w - lr * dw
        b = b - lr * db
    return w, float(b), losses
