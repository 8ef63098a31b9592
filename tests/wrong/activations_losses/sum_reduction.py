"""Expect failing: regression_losses
Mistake: mse and mae add up the errors with .sum() instead of averaging them with .mean().
Sum and mean differ only by the factor N, and both are called "the loss" in places,
but the result here is N times too large and the learning rate would have to depend on N.

Otherwise identical to solutions/activations_losses/functions.py.
"""

from __future__ import annotations

import torch

# ------------------------------------------------------------------------------- activations


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """The logistic function, elementwise: sigmoid(x) = 1 / (1 + exp(-x)).

    Stable form: with e = exp(-|x|), which is never larger than 1,
        sigmoid(x) = 1 / (1 + e)   where x >= 0
        sigmoid(x) = e / (1 + e)   where x < 0

    x: any shape, floating -> the same shape, dtype and device; values in [0, 1].
    """
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """d sigmoid(x) / dx, elementwise: s * (1 - s) with s = sigmoid(x).

    x: any shape, floating -> the same shape, dtype and device.
    """
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """The hyperbolic tangent, elementwise: tanh(x) = (e^x - e^-x) / (e^x + e^-x).

    Stable form: tanh(x) = 2 * sigmoid(2x) - 1.

    x: any shape, floating -> the same shape, dtype and device; values in [-1, 1].
    """
    return 2 * sigmoid(2 * x) - 1


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    """d tanh(x) / dx, elementwise: 1 - tanh(x)^2.

    x: any shape, floating -> the same shape, dtype and device.
    """
    return 1 - tanh(x) ** 2


def relu(x: torch.Tensor) -> torch.Tensor:
    """The rectified linear unit, elementwise: relu(x) = max(x, 0).

    x: any shape, floating -> the same shape, dtype and device.
    """
    return torch.clamp(x, min=0)


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """d relu(x) / dx, elementwise: 1 where x > 0, else 0 (0 at the kink x == 0, as torch does).

    x: any shape, floating -> the same shape, dtype and device; values 0.0 and 1.0.
    """
    return (x > 0).to(x.dtype)


def leaky_relu(x: torch.Tensor, slope: float = 0.01) -> torch.Tensor:
    """Leaky ReLU, elementwise: x where x > 0, else slope * x.

    x: any shape, floating; slope a small positive float -> the same shape, dtype and device.
    """
    return torch.where(x > 0, x, slope * x)


def leaky_relu_grad(x: torch.Tensor, slope: float = 0.01) -> torch.Tensor:
    """d leaky_relu(x) / dx, elementwise: 1 where x > 0, else slope (slope at x == 0).

    x: any shape, floating; slope a small positive float -> the same shape, dtype and device.
    """
    ones = torch.ones_like(x)
    return torch.where(x > 0, ones, slope * ones)


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """The exponential linear unit, elementwise: x where x > 0, else alpha * (exp(x) - 1).

    x: any shape, floating; alpha a positive float -> the same shape, dtype and device.
    """
    # exp of the positive entries is never used; clamping keeps it from overflowing to inf.
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0)))


def elu_grad(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """d elu(x) / dx, elementwise: 1 where x > 0, else alpha * exp(x) (alpha at x == 0).

    x: any shape, floating; alpha a positive float -> the same shape, dtype and device.
    """
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(torch.clamp(x, max=0)))


# ------------------------------------------------------------------------------------ losses


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error: the mean over all elements of (pred - target)^2.

    pred, target: the same shape, floating -> a 0-d tensor of their dtype, on their device.
    """
    return ((pred - target) ** 2).sum()


def mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error: the mean over all elements of |pred - target|.

    pred, target: the same shape, floating -> a 0-d tensor of their dtype, on their device.
    """
    return (pred - target).abs().sum()


def binary_cross_entropy(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of predicted probabilities p against labels y, mean over elements.

    Maths:  loss = mean( -(y * log(p) + (1 - y) * log(1 - p)) )

    Each log is clamped from below at -100, as torch does, so p of exactly 0 or 1 still gives
    a finite loss (and 0 * log(0) counts as 0, not NaN).

    p: (N,) probabilities in [0, 1]; y: (N,) of 0.0 and 1.0; both floating, same dtype
    -> a 0-d tensor of that dtype.
    """
    log_p = torch.clamp(torch.log(p), min=-100)
    log_not_p = torch.clamp(torch.log(1 - p), min=-100)
    return -(y * log_p + (1 - y) * log_not_p).mean()


def binary_cross_entropy_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of p = sigmoid(z) against y, computed from the logits z, stably.

    Maths:  -(y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z)))
          = max(z, 0) - z * y + log(1 + exp(-|z|))       (per element; then the mean)

    z: (N,) real logits; y: (N,) of 0.0 and 1.0; both floating, same dtype
    -> a 0-d tensor of that dtype: the mean over the N elements.
    """
    per_element = torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
    return per_element.mean()


def softmax_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of softmax(logits) against class indices, mean over the batch.

    Maths:  for row i, loss_i = -log softmax(logits[i])[targets[i]]
                              = logsumexp(logits[i]) - logits[i, targets[i]]
            logsumexp(v) = m + log(sum(exp(v - m))) with m = max(v), so no exp overflows.
            loss = mean over the N rows of loss_i

    logits: (N, C) floating; targets: (N,) int64 in [0, C) -> a 0-d tensor of logits' dtype.
    """
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_sum = torch.log(torch.exp(shifted).sum(dim=1))
    rows = torch.arange(logits.shape[0], device=logits.device)
    return (log_sum - shifted[rows, targets]).mean()


def hinge(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Hinge loss (as in a linear SVM), mean over the batch.

    Maths:  loss = mean( max(0, 1 - y * scores) )

    scores: (N,) real; y: (N,) labels -1.0 or +1.0 (not 0/1); both floating, same dtype
    -> a 0-d tensor of that dtype.
    """
    return torch.clamp(1 - y * scores, min=0).mean()


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Kullback-Leibler divergence KL(p || q), row by row, then the mean over the rows.

    Maths:  KL(p || q) = sum over k of p[k] * log(p[k] / q[k])
            terms with p[k] == 0 count as 0; q[k] must be > 0 wherever p[k] > 0.
            loss = mean over the N rows of KL(p[i] || q[i])

    p, q: (N, K) floating, each row a probability distribution (entries >= 0, summing to 1)
    -> a 0-d tensor of their dtype.
    """
    # Where p is 0 the ratio is set to 1, so its term is 0 * log(1) = 0 instead of 0 * -inf.
    ratio = torch.where(p > 0, p / q, torch.ones_like(p))
    return (p * torch.log(ratio)).sum(dim=1).mean()
