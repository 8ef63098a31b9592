"""Expect failing: early_stopping
Mistake: the loop runs for t in range(1, max_iter), one iteration short of max_iter.
Harmless while patience ends the run, but when max_iter does, the last iteration is lost.

Everything else comes from solutions/regularization/regularization.py.
"""

import numpy as np


def fit_early_stopping(X_train, y_train, X_val, y_val, lr, max_iter, patience, log=None):
    """Gradient descent stopped early on the validation loss (one iteration short)."""
    n = X_train.shape[0]
    w, b = np.zeros(X_train.shape[1]), 0.0
    best_w, best_b, best_iter, best_val = w.copy(), b, 0, np.inf
    waited = 0
    for t in range(1, max_iter):
        residual = X_train @ w + b - y_train
        w = w - lr * (2.0 / n) * (X_train.T @ residual)
        b = b - lr * (2.0 / n) * residual.sum()
        train_mse = float(np.mean((X_train @ w + b - y_train) ** 2))
        val_mse = float(np.mean((X_val @ w + b - y_val) ** 2))
        if log is not None:
            log("train loss", train_mse, t)
            log("validation loss", val_mse, t)
        if val_mse < best_val:
            best_w, best_b, best_iter, best_val = w.copy(), float(b), t, val_mse
            waited = 0
        else:
            waited += 1
            if waited >= patience:
                break
    return best_w, best_b, best_iter
