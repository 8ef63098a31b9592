"""Linear regression in NumPy: predictions, error metrics, feature scaling and two ways to fit.

What you write, in order (later functions may call earlier ones):

1. `predict`, the model itself;
2. `mse`, `rmse`, `mae` and `r2`, how far predictions are from the targets;
3. `standardize`, feature scaling with statistics from the training rows only;
4. `fit_closed_form`, least squares solved directly, intercept included;
5. `gradients` and `fit_gd`, the same fit found by gradient descent on the mean squared error.

Rules that hold throughout:
- Arrays are float64 NumPy arrays of the shapes in each docstring; b is a Python float, and so
  is every metric.
- Never modify an input in place: build new arrays, so the caller's data keeps its values.
- The metrics take (y_true, y_pred) in that order, as sklearn.metrics does.

Read lesson.md, then run `mllab check linear_regression`; `mllab hint linear_regression` gives
hints one at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LogFn = Callable[[str, float, int], None]


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Predictions of the linear model: y_hat = X @ w + b.

    Shapes: X (N, D) float64, w (D,) float64, b a float -> (N,) float64.
    """
    # TODO: the model's prediction for every row: its weighted sum of features plus the
    #       intercept, one number per row.
    # BEGIN SOLUTION
    return X @ w + b
    # END SOLUTION


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error: (1/N) * sum((y_true - y_pred) ** 2).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    # TODO: the docstring's mean of squared differences, as a Python float.
    # BEGIN SOLUTION
    return float(np.mean((y_true - y_pred) ** 2))
    # END SOLUTION


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error: sqrt(mse), in the units of y.

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    # TODO: your mse brought back to the units of y; a Python float.
    # BEGIN SOLUTION
    return float(np.sqrt(mse(y_true, y_pred)))
    # END SOLUTION


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error: (1/N) * sum(|y_true - y_pred|).

    Shapes: y_true (N,), y_pred (N,) float64 -> a float.
    """
    # TODO: the mean size of the differences, whatever their sign; a Python float.
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
    # TODO: compare your squared error with that of the lazy model that always predicts the
    #       mean of y_true (never of y_pred), as the docstring's formula does.
    # BEGIN SOLUTION
    ss_res = np.sum((y_true - y_pred) ** 2)
    ss_tot = np.sum((y_true - np.mean(y_true)) ** 2)
    return float(1.0 - ss_res / ss_tot)
    # END SOLUTION


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale every feature to mean 0 and standard deviation 1 on the training rows.

    For every feature (column) j, mean_j and std_j are taken over the training rows only, std
    being the population standard deviation (divide by N: ddof=0, as StandardScaler). Both
    sets are transformed with these same numbers: x_scaled = (x - mean_j) / std_j. The test
    rows' own statistics are never used. Every feature of X_train varies (std_j > 0).

    Shapes: X_train (N, D), X_test (M, D) float64 -> (X_train_scaled (N, D), X_test_scaled (M, D)).
    """
    # TODO: one mean and one population std per feature, from the training rows only, and
    #       apply those same numbers to both sets. Return new arrays: the caller's X_train
    #       and X_test must keep their values.
    # BEGIN SOLUTION
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    return (X_train - mean) / std, (X_test - mean) / std
    # END SOLUTION


def fit_closed_form(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares with an intercept: the (w, b) minimizing sum((X @ w + b - y) ** 2).

    With A = [X, 1] (X with a column of ones appended) and theta = (w_1, ..., w_D, b), this is
    the least-squares problem: minimise |A @ theta - y|^2 over theta, whose solution satisfies
    the normal equations A.T @ A @ theta = A.T @ y. Solve it with a least-squares solver, which
    is stable when features are nearly redundant; never form a matrix inverse.

    Shapes: X (N, D), y (N,) float64 -> (w (D,) float64, b a float).
    """
    # TODO: fold the intercept in as the weight of a constant feature, solve the
    #       least-squares problem in one go with a solver (no matrix inverse), and hand back
    #       the weights and the intercept separately.
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
    # TODO: the two gradients from the docstring, both built from the residuals (prediction
    #       minus target). Keep the factor 2 and the division by N in both.
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
    # TODO: the docstring's loop with your gradients: zeros to start, the loss recorded
    #       (and logged, when asked) before each update, both parameters updated every step.
    #       Run all n_iter steps even when the losses blow up: no early stop, no clipping.
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
