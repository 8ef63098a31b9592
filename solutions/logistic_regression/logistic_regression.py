"""Logistic and softmax regression in NumPy: probabilities, likelihood, gradients and training.

Given, complete: `one_hot`, a helper for the softmax part.

What you write, in order (later functions may call earlier ones).

Two classes, labels 0 and 1:
1. `sigmoid`, which squashes a score into a probability without overflowing for large |z|;
2. `bernoulli_likelihood`, the probability the model gives to each observed label;
3. `predict_proba` and `predict`, from features to P(y = 1) and to labels;
4. `nll`, the mean negative log-likelihood (cross-entropy), and `gradients`, its gradient;
5. `fit_gd`, which trains (w, b) by gradient descent;
6. `boundary_line`, the decision boundary of a two-feature model as a line.

Several classes, labels 0 .. K-1:
7. `softmax`, `softmax_nll`, `softmax_gradients` and `fit_softmax`.

Rules that hold throughout:
- Arrays are float64 NumPy arrays (the softmax model's labels are int64); the binary model's
  b is a Python float, and so is every loss.
- Scores of +-1000 must give finite, correct results everywhere: exp of a large positive
  number overflows to inf, so each docstring says which form stays finite.
- Losses are means over the N rows, not sums, and gradients follow suit.
- Never modify an input in place: build new arrays.
- Write the maths yourself with NumPy: scikit-learn's models and losses, scipy.special's
  expit, softmax and logsumexp, and torch are what the checks compare with, not tools here.

Read lesson.md, then run `mllab check logistic_regression`; `mllab hint logistic_regression`
gives hints one at a time.
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

    The two forms 1 / (1 + exp(-z)) and exp(z) / (1 + exp(z)) are equal in exact arithmetic,
    but in float64 exp overflows to inf beyond about 709: the first form overflows for large
    negative z, the second for large positive z. The result must be correct and finite for
    every finite z, including z = +-1000, with no overflow on the way.

    Shapes: z any shape, float64 -> the same shape, float64, values in [0, 1].
    """
    # TODO: evaluate the logistic function elementwise so that no exponential is ever taken
    #       of a large positive number: for each sign of z, pick the form from the docstring
    #       that stays finite. Keep the input's shape.
    # BEGIN SOLUTION
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    # END SOLUTION


def bernoulli_likelihood(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The probability of each observed label: p ** y * (1 - p) ** (1 - y).

    That is p where y == 1 and 1 - p where y == 0.

    Shapes: p (N,) float64 in [0, 1], y (N,) float64 of 0.0 and 1.0 -> (N,) float64.
    """
    # TODO: the probability of the label that was observed, per row: the docstring's
    #       Bernoulli formula, which picks p for a 1 and one minus p for a 0.
    # BEGIN SOLUTION
    return p**y * (1.0 - p) ** (1.0 - y)
    # END SOLUTION


def predict_proba(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """P(y = 1 | x) for every row: sigmoid(X @ w + b).

    Shapes: X (N, D), w (D,) float64, b a float -> (N,) float64.
    """
    # TODO: each row's linear score, squashed by your sigmoid into the probability of label 1.
    # BEGIN SOLUTION
    return sigmoid(X @ w + b)
    # END SOLUTION


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Labels with a 0.5 threshold: 1 where predict_proba >= 0.5 (so z >= 0), else 0.

    A row exactly on the boundary (probability 0.5) is labelled 1.

    Shapes: X (N, D), w (D,) float64, b a float -> (N,) int64 of 0 and 1.
    """
    # TODO: label 1 where the probability is at least 0.5 (exactly 0.5 counts as 1),
    #       else 0, returned as int64 labels rather than booleans.
    # BEGIN SOLUTION
    return (predict_proba(X, w, b) >= 0.5).astype(np.int64)
    # END SOLUTION


def nll(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Mean negative log-likelihood (binary cross-entropy) of the labels y.

    With z = X @ w + b and p = sigmoid(z):
        nll = -(1/N) * sum(y * log(p) + (1 - y) * log(1 - p))
            =  (1/N) * sum(log(1 + exp(z)) - y * z)

    The two are equal in exact arithmetic, but the first takes log(0) once sigmoid rounds to
    exactly 1 (z above about 37) or to exactly 0 (z below about -745), and exp(z) in the second
    overflows for z above about 709 unless computed with care. The result must stay finite and
    accurate for confident predictions, z = +-1000 included: near 0 when they are right, large
    (about |z|) when they are wrong.

    Shapes: X (N, D), y (N,) of 0.0 and 1.0, w (D,) float64, b a float -> a float.
    """
    # TODO: the mean cross-entropy of the labels, computed from the scores by the second
    #       form so that no logarithm of 0 is ever taken. A mean over rows, as a Python float.
    # BEGIN SOLUTION
    z = X @ w + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z))
    # END SOLUTION


def gradients(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """Gradients of nll with respect to w and b.

    With p = predict_proba(X, w, b), one weight at a time (lesson.md derives it):
        d nll / dw[j] = (1/N) * sum_i (p[i] - y[i]) * X[i, j]        for j in 0 .. D-1
        d nll / db    = (1/N) * sum_i (p[i] - y[i])

    Shapes: X (N, D), y (N,), w (D,) float64, b a float -> (dw (D,) float64, db a float).
    """
    # TODO: all D weight gradients at once, without a Python loop: both gradients are built
    #       from the error "predicted probability minus label" (in that order) and averaged
    #       over the N rows; let the shapes pick the product, since dw has the shape of w.
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
    # TODO: the docstring's loop with your nll and gradients: zeros to start, the loss
    #       recorded (and logged, when asked) before each update, both parameters updated
    #       every step.
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
    # TODO: solve the boundary equation from the docstring for x1 and return the line's
    #       slope and intercept as two Python floats.
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
    # TODO: the row-wise softmax, with every row shifted by its own maximum before any
    #       exponential, so that scores of 1000 cannot overflow. Each row sums to 1.
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
    # TODO: minus the log-probability of each row's own label, averaged over the rows.
    #       Compute the log-probabilities in the shifted form of the docstring, never as the
    #       log of a softmax that may have rounded to 0.
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

    With P = softmax(X @ W + b) and Y = one_hot(y, K), one entry at a time:
        dW[j, k] = (1/N) * sum_i X[i, j] * (P[i, k] - Y[i, k])
        db[k]    = (1/N) * sum_i (P[i, k] - Y[i, k])

    Shapes: X (N, D), y (N,) int64, W (D, K), b (K,) float64 -> (dW (D, K), db (K,)) float64.
    """
    # TODO: the docstring's gradients as whole-array operations, like the binary ones: the
    #       error is the probabilities minus the one-hot labels (not the label numbers), one
    #       row per example; average over the N rows. dW has the shape of W.
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
    # TODO: the loop of fit_gd, for a weight matrix and a bias vector of the shapes in the
    #       docstring, both starting at zeros, with your softmax loss and gradients.
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
