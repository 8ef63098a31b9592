"""Expect failing: early_stopping
Mistake: the step updates w in place (w -= ...) and the best weights are saved as
best_w = w without a copy, so best_w is the same array as w and follows it to the last
iteration: the returned w is the one from `patience` iterations after the best.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np


def fit_early_stopping(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    lr: float,
    max_iter: int,
    patience: int,
    log: LogFn | None = None,
) -> tuple[np.ndarray, float, int]:
    """Linear regression by gradient descent on the training MSE, stopped early on validation.

    Start from w = 0, b = 0. Iteration t = 1, 2, ..., max_iter:
      1. one gradient step on the training MSE (1/N) * ||X_train @ w + b - y_train||^2:
         r = X_train @ w + b - y_train;  w -= lr * (2/N) * X_train.T @ r;  b -= lr * (2/N) * r.sum()
      2. the training and validation MSE of the new (w, b); if log is given, report both:
         log("train loss", train_mse, t) and log("validation loss", val_mse, t)
      3. if val_mse is strictly below the best so far: remember a copy of (w, b), best_iter = t,
         and reset the count of iterations without improvement to 0; otherwise add 1 to that
         count, and stop once it reaches `patience`.

    Shapes: X_train (N, D), y_train (N,), X_val (M, D), y_val (M,) float64;
    lr > 0, max_iter >= 1, patience >= 1.
    Returns (best_w, best_b, best_iter): the weights of the best validation iteration,
    w (D,) float64, b a Python float, and best_iter a Python int in 1..max_iter.
    """
    n = X_train.shape[0]
    w, b = np.zeros(X_train.shape[1]), 0.0
    best_w, best_b, best_iter, best_val = w.copy(), b, 0, np.inf
    waited = 0
    for t in range(1, max_iter + 1):
        residual = X_train @ w + b - y_train
        w -= lr * (2.0 / n) * (X_train.T @ residual)
        b = b - lr * (2.0 / n) * residual.sum()
        train_mse = float(np.mean((X_train @ w + b - y_train) ** 2))
        val_mse = float(np.mean((X_val @ w + b - y_val) ** 2))
        if log is not None:
            log("train loss", train_mse, t)
            log("validation loss", val_mse, t)
        if val_mse < best_val:
            best_w, best_b, best_iter, best_val = w, float(b), t, val_mse
            waited = 0
        else:
            waited += 1
            if waited >= patience:
                break
    return best_w, best_b, best_iter
