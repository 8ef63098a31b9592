"""Logistic and softmax regression in NumPy: probabilities, likelihood, gradients and training.

Your task: write the functions below, in order (one_hot is given).

Two classes (labels 0 and 1):

- `sigmoid` squashes a score into a probability, without overflowing for large |z|;
- `bernoulli_likelihood` is the probability the model gives to each observed label;
- `predict_proba` and `predict` turn features into P(y = 1) and into labels;
- `nll` is the mean negative log-likelihood (cross-entropy), `gradients` its gradient;
- `fit_gd` trains (w, b) by gradient descent;
- `boundary_line` gives the decision boundary of a two-feature model as a line.

Several classes (labels 0 .. K-1): `softmax`, `softmax_nll`, `softmax_gradients` and
`fit_softmax`. `one_hot` is a helper.

Arrays are float64 NumPy arrays (labels of the softmax model are int64); b of the binary
model is a Python float. Never modify an input in place: build new arrays.
Read lesson.md, then run `mllab check logistic_regression`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LogFn = Callable[[str, float, int], None]


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Labels as rows of an identity matrix: Y[i, k] = 1.0 if y[i] == k else 0.0.

    Shapes: y (N,) int64 with values in 0 .. n_classes-1 -> (N, n_classes) float64.
    """
    return np.eye(n_classes)[y]


# ------------------------------------------------------------------------------ two classes


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)), elementwise, finite for every finite z.

    For z >= 0 use 1 / (1 + exp(-z)); for z < 0 use exp(z) / (1 + exp(z)). Either way
    np.exp only sees numbers <= 0, so it never overflows.

    Shapes: z any shape, float64 -> the same shape, float64, values in [0, 1].
    """
    # TODO: e = np.exp(-np.abs(z)) (never overflows: the exponent is <= 0); return
    #       np.where(z >= 0, 1 / (1 + e), e / (1 + e)).
    # BEGIN SOLUTION
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    # END SOLUTION


def bernoulli_likelihood(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The probability of each observed label: p ** y * (1 - p) ** (1 - y).

    That is p where y == 1 and 1 - p where y == 0.

    Shapes: p (N,) float64 in [0, 1], y (N,) float64 of 0.0 and 1.0 -> (N,) float64.
    """
    # TODO: return p ** y * (1 - p) ** (1 - y).
    # BEGIN SOLUTION
    return p**y * (1.0 - p) ** (1.0 - y)
    # END SOLUTION


def predict_proba(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """P(y = 1 | x) for every row: sigmoid(X @ w + b).

    Shapes: X (N, D), w (D,) float64, b a float -> (N,) float64.
    """
    # TODO: return sigmoid(X @ w + b).
    # BEGIN SOLUTION
    return sigmoid(X @ w + b)
    # END SOLUTION


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Labels with a 0.5 threshold: 1 where predict_proba >= 0.5 (so z >= 0), else 0.

    A row exactly on the boundary (probability 0.5) is labelled 1.

    Shapes: X (N, D), w (D,) float64, b a float -> (N,) int64 of 0 and 1.
    """
    # TODO: compare predict_proba(X, w, b) with 0.5 using >= and convert the bool array
    #       with .astype(np.int64).
    # BEGIN SOLUTION
    return (predict_proba(X, w, b) >= 0.5).astype(np.int64)
    # END SOLUTION


def nll(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Mean negative log-likelihood (binary cross-entropy) of the labels y.

    With z = X @ w + b and p = sigmoid(z):
        nll = -(1/N) * sum(y * log(p) + (1 - y) * log(1 - p))
            =  (1/N) * sum(log(1 + exp(z)) - y * z)

    The second form, with np.logaddexp(0, z) for log(1 + exp(z)), never takes log(0), so it
    stays finite even for confidently wrong predictions.

    Shapes: X (N, D), y (N,) of 0.0 and 1.0, w (D,) float64, b a float -> a float.
    """
    # TODO: z = X @ w + b; return float(np.mean(np.logaddexp(0, z) - y * z)).
    #       (Or clip p = sigmoid(z) into [1e-15, 1 - 1e-15] and use the first form.)
    # BEGIN SOLUTION
    z = X @ w + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z))
    # END SOLUTION


def gradients(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """Gradients of nll with respect to w and b.

    With p = predict_proba(X, w, b):
        d nll / dw = X.T @ (p - y) / N        d nll / db = mean(p - y)

    Shapes: X (N, D), y (N,), w (D,) float64, b a float -> (dw (D,) float64, db a float).
    """
    # TODO: error = predict_proba(X, w, b) - y; return (X.T @ error / N, float(np.mean(error)))
    #       with N = len(y).
    # BEGIN SOLUTION
    error = predict_proba(X, w, b) - y
    return X.T @ error / len(y), float(np.mean(error))
    # END SOLUTION


def fit_gd(
    X: np.ndarray, y: np.ndarray, n_iter: int, lr: float, log: LogFn | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """Fit (w, b) by n_iter steps of gradient descent on nll, starting from zeros.

    Each step k = 0, 1, ..., n_iter - 1:
        losses[k] = nll(X, y, w, b)            (the loss before this step's update)
        log("loss", losses[k], k)              (only when log is given)
        w, b = w - lr * dw, b - lr * db        (dw, db from gradients)

    Shapes: X (N, D), y (N,) of 0.0 and 1.0; n_iter an int; lr a float.
    Returns (w (D,) float64, b a float, losses (n_iter,) float64).
    """
    # TODO: start from w = np.zeros(X.shape[1]), b = 0.0, losses = np.empty(n_iter). In each
    #       step store nll(X, y, w, b) in losses[step], call log("loss", losses[step], step)
    #       if log is not None, get dw, db from gradients, then w = w - lr * dw and
    #       b = b - lr * db. Return w, float(b), losses.
    # BEGIN SOLUTION
    w = np.zeros(X.shape[1])
    b = 0.0
    losses = np.empty(n_iter)
    for step in range(n_iter):
        losses[step] = nll(X, y, w, b)
        if log is not None:
            log("loss", losses[step], step)
        dw, db = gradients(X, y, w, b)
        w = w - lr * dw
        b = b - lr * db
    return w, float(b), losses
    # END SOLUTION


def boundary_line(w: np.ndarray, b: float) -> tuple[float, float]:
    """The decision boundary of a two-feature model as a line x1 = slope * x0 + intercept.

    The boundary is where w[0] * x0 + w[1] * x1 + b = 0 (probability exactly 0.5); solving for
    x1 gives slope = -w[0] / w[1] and intercept = -b / w[1]. Assumes w[1] != 0.

    Shapes: w (2,) float64, b a float -> (slope, intercept), two floats.
    """
    # TODO: return (float(-w[0] / w[1]), float(-b / w[1])).
    # BEGIN SOLUTION
    return float(-w[0] / w[1]), float(-b / w[1])
    # END SOLUTION


# ---------------------------------------------------------------------------- several classes


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax: P[i, k] = exp(Z[i, k]) / sum_j exp(Z[i, j]).

    Subtracting each row's maximum first leaves the result unchanged (the factor exp(-max)
    cancels) and keeps np.exp from overflowing: the largest exponent becomes 0.

    Shapes: Z (N, K) float64 -> (N, K) float64, each row summing to 1.
    """
    # TODO: shifted = Z - Z.max(axis=1, keepdims=True); e = np.exp(shifted);
    #       return e / e.sum(axis=1, keepdims=True).
    # BEGIN SOLUTION
    shifted = Z - Z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
    # END SOLUTION


def softmax_nll(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    """Mean negative log-likelihood (cross-entropy) of the labels y under softmax(X @ W + b).

    nll = -(1/N) * sum_i log P[i, y[i]], with log P computed stably as
    log P[i, k] = s[i, k] - log(sum_j exp(s[i, j])) where s = Z - max over the row.

    Shapes: X (N, D), y (N,) int64 in 0 .. K-1, W (D, K), b (K,) float64 -> a float.
    """
    # TODO: Z = X @ W + b; shifted = Z minus its row max (keepdims=True);
    #       log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True));
    #       return float(-np.mean(log_probs[np.arange(len(y)), y])).
    # BEGIN SOLUTION
    Z = X @ W + b
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_probs[np.arange(len(y)), y]))
    # END SOLUTION


def softmax_gradients(
    X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of softmax_nll with respect to W and b.

    With P = softmax(X @ W + b) and Y = one_hot(y, K):
        dW = X.T @ (P - Y) / N        db = mean over rows of (P - Y)

    Shapes: X (N, D), y (N,) int64, W (D, K), b (K,) float64 -> (dW (D, K), db (K,)) float64.
    """
    # TODO: error = softmax(X @ W + b) - one_hot(y, W.shape[1]) (shape (N, K));
    #       return (X.T @ error / N, error.mean(axis=0)).
    # BEGIN SOLUTION
    error = softmax(X @ W + b) - one_hot(y, W.shape[1])
    return X.T @ error / len(y), error.mean(axis=0)
    # END SOLUTION


def fit_softmax(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    n_iter: int,
    lr: float,
    log: LogFn | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit (W, b) by n_iter steps of gradient descent on softmax_nll, starting from zeros.

    Each step k: losses[k] = softmax_nll(X, y, W, b) before the update; log("loss",
    losses[k], k) when log is given; then W, b = W - lr * dW, b - lr * db.

    Shapes: X (N, D) float64, y (N,) int64 in 0 .. n_classes-1; n_iter an int; lr a float.
    Returns (W (D, n_classes), b (n_classes,), losses (n_iter,)), all float64.
    """
    # TODO: as fit_gd, with W = np.zeros((X.shape[1], n_classes)), b = np.zeros(n_classes),
    #       softmax_nll for the losses and softmax_gradients for dW, db. Return W, b, losses.
    # BEGIN SOLUTION
    W = np.zeros((X.shape[1], n_classes))
    b = np.zeros(n_classes)
    losses = np.empty(n_iter)
    for step in range(n_iter):
        losses[step] = softmax_nll(X, y, W, b)
        if log is not None:
            log("loss", losses[step], step)
        dW, db = softmax_gradients(X, y, W, b)
        W = W - lr * dW
        b = b - lr * db
    return W, b, losses
    # END SOLUTION
