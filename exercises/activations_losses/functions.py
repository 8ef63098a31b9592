"""Activation functions, their derivatives, and loss functions, from elementary tensor operations.

Your task: fill in every function below, in order.

- activations: `sigmoid`, `tanh`, `relu`, `leaky_relu`, `elu`, each with a `*_grad` derivative;
- losses for regression: `mse`, `mae`;
- losses for classification: `binary_cross_entropy`, `binary_cross_entropy_with_logits`,
  `softmax_cross_entropy`, `hinge`; and `kl_divergence` between two distributions.

Use elementary operations only: torch.exp, torch.log, torch.log1p, torch.expm1, torch.where,
torch.clamp, abs, arithmetic, indexing and reductions (.sum, .mean, .max). Not allowed here:
torch.nn (torch.nn.functional included), the ready-made torch.sigmoid, torch.tanh, torch.relu,
torch.softmax, torch.logsumexp and friends, and autograd. Every loss returns a 0-d tensor that
averages over the batch. Inputs of +-1000 must give finite, correct values.
Read lesson.md for the ideas, then run `mllab check activations_losses`.
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
    # TODO: set e = torch.exp(-x.abs()) (always in (0, 1], so it cannot overflow), then
    #       return torch.where(x >= 0, 1 / (1 + e), e / (1 + e)).
    raise NotImplementedError("activations_losses: implement sigmoid")


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """d sigmoid(x) / dx, elementwise: s * (1 - s) with s = sigmoid(x).

    x: any shape, floating -> the same shape, dtype and device.
    """
    # TODO: s = sigmoid(x); return s * (1 - s).
    raise NotImplementedError("activations_losses: implement sigmoid_grad")


def tanh(x: torch.Tensor) -> torch.Tensor:
    """The hyperbolic tangent, elementwise: tanh(x) = (e^x - e^-x) / (e^x + e^-x).

    Stable form: tanh(x) = 2 * sigmoid(2x) - 1.

    x: any shape, floating -> the same shape, dtype and device; values in [-1, 1].
    """
    # TODO: return 2 * sigmoid(2 * x) - 1 (the naive ratio of exponentials gives inf / inf = NaN
    #       at x = 1000).
    raise NotImplementedError("activations_losses: implement tanh")


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    """d tanh(x) / dx, elementwise: 1 - tanh(x)^2.

    x: any shape, floating -> the same shape, dtype and device.
    """
    # TODO: return 1 - tanh(x) ** 2.
    raise NotImplementedError("activations_losses: implement tanh_grad")


def relu(x: torch.Tensor) -> torch.Tensor:
    """The rectified linear unit, elementwise: relu(x) = max(x, 0).

    x: any shape, floating -> the same shape, dtype and device.
    """
    # TODO: return torch.clamp(x, min=0).
    raise NotImplementedError("activations_losses: implement relu")


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """d relu(x) / dx, elementwise: 1 where x > 0, else 0 (0 at the kink x == 0, as torch does).

    x: any shape, floating -> the same shape, dtype and device; values 0.0 and 1.0.
    """
    # TODO: return (x > 0) converted to x's dtype with .to(x.dtype) (strictly greater: 0 at x == 0).
    raise NotImplementedError("activations_losses: implement relu_grad")


def leaky_relu(x: torch.Tensor, slope: float = 0.01) -> torch.Tensor:
    """Leaky ReLU, elementwise: x where x > 0, else slope * x.

    x: any shape, floating; slope a small positive float -> the same shape, dtype and device.
    """
    # TODO: return torch.where(x > 0, x, slope * x).
    raise NotImplementedError("activations_losses: implement leaky_relu")


def leaky_relu_grad(x: torch.Tensor, slope: float = 0.01) -> torch.Tensor:
    """d leaky_relu(x) / dx, elementwise: 1 where x > 0, else slope (slope at x == 0).

    x: any shape, floating; slope a small positive float -> the same shape, dtype and device.
    """
    # TODO: return 1.0 where x > 0 and slope elsewhere (x == 0 included), as a tensor like x;
    #       torch.ones_like(x) and torch.where help.
    raise NotImplementedError("activations_losses: implement leaky_relu_grad")


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """The exponential linear unit, elementwise: x where x > 0, else alpha * (exp(x) - 1).

    x: any shape, floating; alpha a positive float -> the same shape, dtype and device.
    """
    # TODO: return x where x > 0, else alpha * (exp(x) - 1); torch.expm1(v) computes exp(v) - 1.
    #       Feed exp only torch.clamp(x, max=0), so the branch torch.where discards never overflows.
    raise NotImplementedError("activations_losses: implement elu")


def elu_grad(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """d elu(x) / dx, elementwise: 1 where x > 0, else alpha * exp(x) (alpha at x == 0).

    x: any shape, floating; alpha a positive float -> the same shape, dtype and device.
    """
    # TODO: return 1.0 where x > 0, else alpha * exp(x) (alpha at x == 0); clamp as in elu.
    raise NotImplementedError("activations_losses: implement elu_grad")


# ------------------------------------------------------------------------------------ losses


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error: the mean over all elements of (pred - target)^2.

    pred, target: the same shape, floating -> a 0-d tensor of their dtype, on their device.
    """
    # TODO: return ((pred - target) ** 2).mean().
    raise NotImplementedError("activations_losses: implement mse")


def mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error: the mean over all elements of |pred - target|.

    pred, target: the same shape, floating -> a 0-d tensor of their dtype, on their device.
    """
    # TODO: return the mean of (pred - target).abs().
    raise NotImplementedError("activations_losses: implement mae")


def binary_cross_entropy(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of predicted probabilities p against labels y, mean over elements.

    Maths:  loss = mean( -(y * log(p) + (1 - y) * log(1 - p)) )

    Each log is clamped from below at -100, as torch does, so p of exactly 0 or 1 still gives
    a finite loss (and 0 * log(0) counts as 0, not NaN).

    p: (N,) probabilities in [0, 1]; y: (N,) of 0.0 and 1.0; both floating, same dtype
    -> a 0-d tensor of that dtype.
    """
    # TODO: take torch.log(p) and torch.log(1 - p), clamp each with min=-100, combine them
    #       with y and 1 - y as in the formula, and return minus the mean.
    raise NotImplementedError("activations_losses: implement binary_cross_entropy")


def binary_cross_entropy_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of p = sigmoid(z) against y, computed from the logits z, stably.

    Maths:  -(y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z)))
          = max(z, 0) - z * y + log(1 + exp(-|z|))       (per element; then the mean)

    z: (N,) real logits; y: (N,) of 0.0 and 1.0; both floating, same dtype
    -> a 0-d tensor of that dtype: the mean over the N elements.
    """
    # TODO: compute per element torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
    #       and return its mean. Do not call sigmoid and then log: log(0) is -inf at z = -1000.
    raise NotImplementedError("activations_losses: implement binary_cross_entropy_with_logits")


def softmax_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of softmax(logits) against class indices, mean over the batch.

    Maths:  for row i, loss_i = -log softmax(logits[i])[targets[i]]
                              = logsumexp(logits[i]) - logits[i, targets[i]]
            logsumexp(v) = m + log(sum(exp(v - m))) with m = max(v), so no exp overflows.
            loss = mean over the N rows of loss_i

    logits: (N, C) floating; targets: (N,) int64 in [0, C) -> a 0-d tensor of logits' dtype.
    """
    # TODO: subtract each row's max (logits.max(dim=1, keepdim=True).values) to get `shifted`,
    #       take log of the row sums of exp(shifted), pick shifted[rows, targets] with
    #       rows = torch.arange(N, device=logits.device), and return the mean of the difference.
    raise NotImplementedError("activations_losses: implement softmax_cross_entropy")


def hinge(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Hinge loss (as in a linear SVM), mean over the batch.

    Maths:  loss = mean( max(0, 1 - y * scores) )

    scores: (N,) real; y: (N,) labels -1.0 or +1.0 (not 0/1); both floating, same dtype
    -> a 0-d tensor of that dtype.
    """
    # TODO: return torch.clamp(1 - y * scores, min=0).mean(); y is already -1 or +1.
    raise NotImplementedError("activations_losses: implement hinge")


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Kullback-Leibler divergence KL(p || q), row by row, then the mean over the rows.

    Maths:  KL(p || q) = sum over k of p[k] * log(p[k] / q[k])
            terms with p[k] == 0 count as 0; q[k] must be > 0 wherever p[k] > 0.
            loss = mean over the N rows of KL(p[i] || q[i])

    p, q: (N, K) floating, each row a probability distribution (entries >= 0, summing to 1)
    -> a 0-d tensor of their dtype.
    """
    # TODO: set ratio = p / q where p > 0 and 1 elsewhere (torch.where), sum p * log(ratio)
    #       over dim=1 (one KL per row), and return the mean over the rows.
    raise NotImplementedError("activations_losses: implement kl_divergence")
