"""Linear regression in NumPy: predictions, error metrics, feature scaling and two ways to fit.

Your task: fill in the functions below, roughly in order.

- `predict` computes X @ w + b;
- `mse`, `rmse`, `mae` and `r2` measure how far predictions are from the targets;
- `standardize` rescales features with statistics from the training rows only;
- `fit_closed_form` solves least squares directly (with an intercept);
- `gradients` and `fit_gd` fit the same model by gradient descent on the mean squared error.

Arrays are float64 NumPy arrays; b is a Python float. Never modify an input in place (no
`X -= mean`): build new arrays. Read lesson.md, then run `mllab check linear_regression`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LogFn = Callable[[str, float, int], None]


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Predictions of the linear model: y_hat = X @ w + b.

    Shapes: X (N, D) float64, w (D,) float64, b a float -> (N,) float64.
    """
    # TODO: return X @ w + b (one number per row).
    # BEGIN SOLUTION
    return X @ w + b
    # END SOLUTION


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error: (1/N) * sum((y_true - y_pred) ** 2).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    # TODO: return float(np.mean((y_true - y_pred) ** 2)).
    # BEGIN SOLUTION
    return float(np.mean((y_true - y_pred) ** 2))
    # END SOLUTION


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error: sqrt(mse), in the units of y.

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    # TODO: return the square root (np.sqrt) of mse(y_true, y_pred), as a float.
    # BEGIN SOLUTION
    return float(np.sqrt(mse(y_true, y_pred)))
    # END SOLUTION


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error: (1/N) * sum(|y_true - y_pred|).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    # TODO: return the mean of np.abs(y_true - y_pred), as a float.
    # BEGIN SOLUTION
    return float(np.mean(np.abs(y_true - y_pred)))
    # END SOLUTION


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination: 1 - SS_res / SS_tot.

    SS_res = sum((y_true - y_pred) ** 2), SS_tot = sum((y_true - mean(y_true)) ** 2).
    1 is a perfect fit, 0 is no better than always predicting mean(y_true), and it can be
    negative. y_true is assumed not to be constant (SS_tot > 0).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    # TODO: compute ss_res and ss_tot as above (the mean is of y_true) and return
    #       float(1 - ss_res / ss_tot).
    # BEGIN SOLUTION
    ss_res = np.sum((y_true - y_pred) ** 2)
    ss_tot = np.sum((y_true - np.mean(y_true)) ** 2)
    return float(1.0 - ss_res / ss_tot)
    # END SOLUTION


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale every feature to mean 0 and standard deviation 1 on the training rows.

    mean = X_train.mean(axis=0), std = X_train.std(axis=0) (population std, ddof=0), and both
    sets are transformed with these same numbers: (X - mean) / std. The test rows' own
    statistics are never used. Every feature of X_train is assumed to vary (std > 0).

    Shapes: X_train (N, D), X_test (M, D) float64 -> (X_train_scaled (N, D), X_test_scaled (M, D)).
    """
    # TODO: compute mean and std per column (axis=0) from X_train only, then return the pair
    #       ((X_train - mean) / std, (X_test - mean) / std).
    # BEGIN SOLUTION
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    return (X_train - mean) / std, (X_test - mean) / std
    # END SOLUTION


def fit_closed_form(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares with an intercept: the (w, b) minimizing sum((X @ w + b - y) ** 2).

    Append a column of ones to X so that b is fitted like any other weight, and solve the
    system with np.linalg.lstsq (stable; no explicit matrix inverse).

    Shapes: X (N, D), y (N,) float64 -> (w (D,) float64, b a float).
    """
    # TODO: design = np.column_stack([X, np.ones(len(X))]);
    #       theta, *_ = np.linalg.lstsq(design, y, rcond=None);
    #       return theta[:-1] as w and float(theta[-1]) as b.
    # BEGIN SOLUTION
    design = np.column_stack([X, np.ones(len(X))])
    theta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return theta[:-1], float(theta[-1])
    # END SOLUTION


def gradients(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """Gradients of the mean squared error L = (1/N) * sum((X @ w + b - y) ** 2).

    With the residuals r = X @ w + b - y:
        dL/dw = (2/N) * X.T @ r        dL/db = (2/N) * sum(r)

    Shapes: X (N, D), y (N,), w (D,) float64, b a float -> (dw (D,) float64, db a float).
    """
    # TODO: r = predict(X, w, b) - y; return (2 / N * (X.T @ r), float(2 / N * np.sum(r)))
    #       with N = len(y).
    # BEGIN SOLUTION
    residuals = predict(X, w, b) - y
    n = len(y)
    return 2.0 / n * (X.T @ residuals), float(2.0 / n * np.sum(residuals))
    # END SOLUTION


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
    # TODO: start from w = np.zeros(X.shape[1]), b = 0.0 and losses = np.empty(n_iter).
    #       For step in range(n_iter): store the current mse in losses[step]; if log is not
    #       None, call log("loss", losses[step], step); get dw, db from gradients(...); then
    #       w = w - lr * dw and b = b - lr * db. Do not stop early or clip anything.
    #       Return w, float(b), losses.
    # BEGIN SOLUTION
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
    # END SOLUTION
