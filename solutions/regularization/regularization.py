"""Regularization: ridge and lasso regression, the bias-variance trade-off, and early stopping.

Your task: write the seven functions below, in order; later ones may call earlier ones.

- `ridge_fit` solves L2-penalised least squares in closed form, leaving the bias unpenalised;
- `ridge_gradient_descent` reaches the same solution step by step;
- `soft_threshold` and `lasso_fit` solve the L1-penalised problem by coordinate descent;
- `polynomial_features` and `validation_curve` show under- and overfitting as alpha changes;
- `fit_early_stopping` trains by gradient descent and keeps the weights that did best on a
  validation set.

Rules. Use NumPy only: arrays in, arrays (and Python numbers) out; every w is float64 and
every b a Python float. The bias b is never penalised. Each objective has its own scaling
(written in its docstring), and it decides what a given alpha means. Never modify an input
in place. lesson.md derives the formulas and works them by hand; `mllab hint regularization`
gives one hint at a time. Then run `mllab check regularization`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LogFn = Callable[[str, float, int], None]


def ridge_fit(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge regression in closed form, with an unpenalised bias (scikit-learn's `Ridge`).

    Minimises   ||y - X w - b||^2 + alpha * ||w||^2     (a sum, no 1/N; b is not penalised)

    Solution: with x_mean (D,) the column means of X, y_mean the mean of y, and the centred
    data Xc = X - x_mean, yc = y - y_mean,
                (Xc^T Xc + alpha I) w = Xc^T yc          (a D x D linear system)
                b = y_mean - x_mean . w

    Shapes: X (N, D) float64, y (N,) float64, alpha >= 0.
    Returns (w, b): w (D,) float64 and b a Python float.
    """
    # TODO: solve the docstring's centred system for w (a linear solve is more accurate than
    #       inverting the matrix), then recover the unpenalised bias from the means.
    # BEGIN SOLUTION
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ yc)
    return w, float(y_mean - x_mean @ w)
    # END SOLUTION


def ridge_gradient_descent(
    X: np.ndarray, y: np.ndarray, alpha: float, lr: float, n_iter: int
) -> tuple[np.ndarray, float]:
    """Ridge regression by full-batch gradient descent, starting from w = 0, b = 0.

    Minimises   J(w, b) = (1/N) * (||X w + b - y||^2 + alpha * ||w||^2)
    (the ridge objective divided by N: same minimiser, gradients that do not grow with N).

    Each of the n_iter steps, with the residual r = X w + b - y (N,) of the current w and b:
                grad_w = (2/N) * (X^T r + alpha * w)
                grad_b = (2/N) * (sum of the entries of r)    (no alpha: b is not penalised)
                w <- w - lr * grad_w,   b <- b - lr * grad_b

    Shapes: X (N, D) float64, y (N,) float64; alpha >= 0, lr > 0, n_iter >= 0.
    Returns (w, b) after n_iter steps: w (D,) float64 and b a Python float.
    """
    # TODO: take n_iter full-batch steps from zero weights. Both gradients of a step come
    #       from the same residual, computed before either parameter moves; only w feels
    #       alpha.
    # BEGIN SOLUTION
    n = X.shape[0]
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(n_iter):
        residual = X @ w + b - y
        grad_w = (2.0 / n) * (X.T @ residual + alpha * w)
        grad_b = (2.0 / n) * residual.sum()
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, float(b)
    # END SOLUTION


def soft_threshold(z: np.ndarray, threshold: float) -> np.ndarray:
    """The soft-thresholding operator, elementwise: shrink towards 0 by `threshold`, or stop at 0.

    S(z, t) = sign(z) * max(|z| - t, 0)
            = z - t if z > t;   0 if -t <= z <= t;   z + t if z < -t

    Shapes: z any shape float64, threshold >= 0. Returns an array of z's shape.
    """
    # TODO: apply the operator to every element at once, for z of any shape (no Python loop).
    # BEGIN SOLUTION
    return np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0)
    # END SOLUTION


def lasso_fit(
    X: np.ndarray, y: np.ndarray, alpha: float, n_sweeps: int
) -> tuple[np.ndarray, float]:
    """Lasso regression by cyclic coordinate descent (scikit-learn's `Lasso`).

    Minimises   (1/(2N)) * ||y - X w - b||^2 + alpha * ||w||_1      (b is not penalised)

    Centre X and y as in ridge_fit and start from w = 0. Let c_j (N,) be column j of Xc and
    r = yc - Xc w the current residual. A sweep visits j = 0, 1, ..., D-1 in order and sets
    w_j to the exact minimiser over w_j with the other weights fixed:
                rho_j = c_j . (r + c_j w_j) / N     (c_j against the residual left without it)
                z_j   = c_j . c_j / N
                w_j  <- S(rho_j, alpha) / z_j       (S = soft_threshold)
    The next coordinate sees the new w_j (and the residual that goes with it). After n_sweeps
    sweeps, b = y_mean - x_mean . w.

    Shapes: X (N, D) float64 with no constant column, y (N,) float64; alpha > 0, n_sweeps >= 1.
    Returns (w, b): w (D,) float64, with entries exactly 0.0 where the lasso drops a feature,
    and b a Python float.
    """
    # TODO: run n_sweeps cyclic sweeps of the coordinate update in the docstring on centred
    #       data. Keep the residual in step with w after every single coordinate, divide both
    #       rho_j and z_j by N, and recover the unpenalised bias from the means at the end.
    # BEGIN SOLUTION
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(d)
    residual = yc.copy()
    for _ in range(n_sweeps):
        for j in range(d):
            column = Xc[:, j]
            rho = column @ (residual + column * w[j]) / n
            new = float(soft_threshold(np.asarray(rho), alpha)) / col_sq[j]
            residual -= column * (new - w[j])
            w[j] = new
    return w, float(y_mean - x_mean @ w)
    # END SOLUTION


def polynomial_features(x: np.ndarray, degree: int) -> np.ndarray:
    """The powers x, x^2, ..., x^degree of a 1-D input, one column per power.

    No column of ones: the bias is fitted separately (and left unpenalised).

    Shapes: x (N,) float64, degree >= 1. Returns (N, degree) float64: row i, column k holds
    x_i to the power k + 1.
    """
    # TODO: build every power column at once (broadcasting), lowest power first.
    # BEGIN SOLUTION
    return x[:, None] ** np.arange(1, degree + 1)
    # END SOLUTION


def validation_curve(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    degree: int,
    alphas: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation mean squared error of ridge on polynomial features, per alpha.

    For each alpha in order: fit ridge (ridge_fit) on the polynomial features of the training
    points, then measure MSE = mean over the rows of (x . w + b - y)^2 on the training set and
    on the validation set, both with that one fit.

    Shapes: x_train (N,), y_train (N,), x_val (M,), y_val (M,) float64; alphas (A,) float64.
    Returns (train_mse, val_mse), two (A,) float64 arrays in the order of alphas.
    """
    # TODO: one ridge fit per alpha on the training features (built once, with your own
    #       functions); record its error on both sets, in the order of alphas.
    # BEGIN SOLUTION
    P_train = polynomial_features(x_train, degree)
    P_val = polynomial_features(x_val, degree)
    train_mse, val_mse = np.empty(len(alphas)), np.empty(len(alphas))
    for i, alpha in enumerate(alphas):
        w, b = ridge_fit(P_train, y_train, float(alpha))
        train_mse[i] = np.mean((P_train @ w + b - y_train) ** 2)
        val_mse[i] = np.mean((P_val @ w + b - y_val) ** 2)
    return train_mse, val_mse
    # END SOLUTION


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
      1. one gradient step on the training MSE (1/N) * ||X_train w + b - y_train||^2, with
         the residual r = X_train w + b - y_train (N,) of the current weights:
             w <- w - lr * (2/N) * X_train^T r,   b <- b - lr * (2/N) * (sum of r)
      2. the training and validation MSE of the new (w, b), as Python floats; if log is given,
         report both: log("train loss", train_mse, t) and log("validation loss", val_mse, t)
      3. if val_mse is strictly below the best so far: remember a copy of (w, b), best_iter = t,
         and reset the count of iterations without improvement to 0; otherwise add 1 to that
         count, and stop once it reaches `patience`.

    Shapes: X_train (N, D), y_train (N,), X_val (M, D), y_val (M,) float64;
    lr > 0, max_iter >= 1, patience >= 1.
    Returns (best_w, best_b, best_iter): the weights of the best validation iteration,
    w (D,) float64, b a Python float, and best_iter a Python int in 1..max_iter.
    """
    # TODO: run the three steps of the docstring from zero weights. Keep a snapshot of the
    #       best weights that later steps cannot change (not a second name for the same
    #       array), improve only on a strictly lower validation loss, and stop once `patience`
    #       iterations in a row brought no improvement.
    # BEGIN SOLUTION
    n = X_train.shape[0]
    w, b = np.zeros(X_train.shape[1]), 0.0
    best_w, best_b, best_iter, best_val = w.copy(), b, 0, np.inf
    waited = 0
    for t in range(1, max_iter + 1):
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
    # END SOLUTION
