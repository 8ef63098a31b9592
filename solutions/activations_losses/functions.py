"""Activation functions, their derivatives, and loss functions, from elementary tensor operations.

Your task: write every function below, in order; later ones may call earlier ones.

- activations: `sigmoid`, `tanh`, `relu`, `leaky_relu`, `elu`, each followed by its
  derivative `*_grad`;
- losses for regression: `mse`, `mae`;
- losses for classification: `binary_cross_entropy`, `binary_cross_entropy_with_logits`,
  `softmax_cross_entropy`, `hinge`; and `kl_divergence` between two distributions.

Rules. Use elementary operations only: torch.exp, torch.log, torch.log1p, torch.expm1,
torch.where, torch.clamp, abs, arithmetic, indexing and reductions (.sum, .mean, .max). Not
allowed here: torch.nn (torch.nn.functional included), the ready-made torch.sigmoid,
torch.tanh, torch.relu, torch.softmax, torch.logsumexp, torch.logaddexp and friends, and
autograd. Results keep the input's dtype and device, and no function changes its inputs
(build new tensors: no x[...] = ..., no in-place clamp_). Every loss returns a 0-d tensor:
the mean over the batch.
Inputs of +-1000 must give finite, correct values. At a kink (x == 0) a derivative takes the
value torch takes. lesson.md derives the formulas and the stable forms; `mllab hint
activations_losses` gives one hint at a time. Then run `mllab check activations_losses`.
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
    # TODO: compute the logistic function in its stable form from the docstring, so that
    #       exp only ever sees numbers <= 0: inputs of +-1000 give finite, correct values.
    # BEGIN SOLUTION
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
    # END SOLUTION


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """d sigmoid(x) / dx, elementwise: s * (1 - s) with s = sigmoid(x).

    x: any shape, floating -> the same shape, dtype and device.
    """
    # TODO: the derivative from the docstring, built on your own sigmoid.
    # BEGIN SOLUTION
    s = sigmoid(x)
    return s * (1 - s)
    # END SOLUTION


def tanh(x: torch.Tensor) -> torch.Tensor:
    """The hyperbolic tangent, elementwise: tanh(x) = (e^x - e^-x) / (e^x + e^-x).

    Stable form: tanh(x) = 2 * sigmoid(2x) - 1.

    x: any shape, floating -> the same shape, dtype and device; values in [-1, 1].
    """
    # TODO: build tanh on your stable sigmoid with the identity in the docstring; the ratio
    #       of exponentials as written is inf / inf, NaN, when x is 1000.
    # BEGIN SOLUTION
    return 2 * sigmoid(2 * x) - 1
    # END SOLUTION


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    """d tanh(x) / dx, elementwise: 1 - tanh(x)^2.

    x: any shape, floating -> the same shape, dtype and device.
    """
    # TODO: the derivative from the docstring, built on your own tanh.
    # BEGIN SOLUTION
    return 1 - tanh(x) ** 2
    # END SOLUTION


def relu(x: torch.Tensor) -> torch.Tensor:
    """The rectified linear unit, elementwise: relu(x) = max(x, 0).

    x: any shape, floating -> the same shape, dtype and device.
    """
    # TODO: keep the positive part of every element; negatives become 0.
    # BEGIN SOLUTION
    return torch.clamp(x, min=0)
    # END SOLUTION


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """d relu(x) / dx, elementwise: 1 where x > 0, else 0 (0 at the kink x == 0, as torch does).

    x: any shape, floating -> the same shape, dtype and device; values 0.0 and 1.0.
    """
    # TODO: the slope of relu, elementwise: 0 at the kink x == 0, as torch has it. The
    #       result holds numbers in x's dtype, not True/False.
    # BEGIN SOLUTION
    return (x > 0).to(x.dtype)
    # END SOLUTION


def leaky_relu(x: torch.Tensor, slope: float = 0.01) -> torch.Tensor:
    """Leaky ReLU, elementwise: x where x > 0, else slope * x.

    x: any shape, floating; slope a small positive float -> the same shape, dtype and device.
    """
    # TODO: choose, element by element, between the two branches of the docstring.
    # BEGIN SOLUTION
    return torch.where(x > 0, x, slope * x)
    # END SOLUTION


def leaky_relu_grad(x: torch.Tensor, slope: float = 0.01) -> torch.Tensor:
    """d leaky_relu(x) / dx, elementwise: 1 where x > 0, else slope (slope at x == 0).

    x: any shape, floating; slope a small positive float -> the same shape, dtype and device.
    """
    # TODO: the slope of leaky_relu: 1 above 0 and `slope` elsewhere, x == 0 included.
    #       Even constant values must come back as a tensor of x's shape, dtype and device.
    # BEGIN SOLUTION
    ones = torch.ones_like(x)
    return torch.where(x > 0, ones, slope * ones)
    # END SOLUTION


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """The exponential linear unit, elementwise: x where x > 0, else alpha * (exp(x) - 1).

    Stable form: an elementwise choice computes both branches everywhere, so evaluate the
    exponential on min(x, 0), not on x; then no branch overflows at x = 1000.

    x: any shape, floating; alpha a positive float -> the same shape, dtype and device.
    """
    # TODO: the two branches of the docstring, chosen elementwise, with the exponential branch
    #       kept finite for large positive x (see the stable form).
    # BEGIN SOLUTION
    # exp of the positive entries is never used; clamping keeps it from overflowing to inf.
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0)))
    # END SOLUTION


def elu_grad(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """d elu(x) / dx, elementwise: 1 where x > 0, else alpha * exp(x) (alpha at x == 0).

    Stable form: as in elu, evaluate the exponential on min(x, 0).

    x: any shape, floating; alpha a positive float -> the same shape, dtype and device.
    """
    # TODO: the slope of elu from the docstring (alpha at x == 0), finite for inputs of +-1000.
    # BEGIN SOLUTION
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(torch.clamp(x, max=0)))
    # END SOLUTION


# ------------------------------------------------------------------------------------ losses


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error: the mean over all elements of (pred - target)^2.

    pred, target: the same shape, floating -> a 0-d tensor of their dtype, on their device.
    """
    # TODO: the mean, over every element, of the squared difference: one 0-d tensor.
    # BEGIN SOLUTION
    return ((pred - target) ** 2).mean()
    # END SOLUTION


def mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error: the mean over all elements of |pred - target|.

    pred, target: the same shape, floating -> a 0-d tensor of their dtype, on their device.
    """
    # TODO: the mean, over every element, of the absolute difference: one 0-d tensor.
    # BEGIN SOLUTION
    return (pred - target).abs().mean()
    # END SOLUTION


def binary_cross_entropy(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of predicted probabilities p against labels y, mean over elements.

    Maths:  loss = mean( -(y * log(p) + (1 - y) * log(1 - p)) )

    Each log is clamped from below at -100, as torch does, so p of exactly 0 or 1 still gives
    a finite loss (and 0 * log(0) counts as 0, not NaN).

    p: (N,) probabilities in [0, 1]; y: (N,) of 0.0 and 1.0; both floating, same dtype
    -> a 0-d tensor of that dtype.
    """
    # TODO: the formula of the docstring, with each of the two logs clamped from below at
    #       -100 before it is weighted, so p of exactly 0 or 1 gives a finite loss; then the
    #       mean over the elements.
    # BEGIN SOLUTION
    log_p = torch.clamp(torch.log(p), min=-100)
    log_not_p = torch.clamp(torch.log(1 - p), min=-100)
    return -(y * log_p + (1 - y) * log_not_p).mean()
    # END SOLUTION


def binary_cross_entropy_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of p = sigmoid(z) against y, computed from the logits z, stably.

    Maths:  -(y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z)))
          = max(z, 0) - z * y + log(1 + exp(-|z|))       (per element; then the mean)

    z: (N,) real logits; y: (N,) of 0.0 and 1.0; both floating, same dtype
    -> a 0-d tensor of that dtype: the mean over the N elements.
    """
    # TODO: evaluate the stable right-hand form of the docstring per element, then the mean.
    #       Never take the log of a sigmoid: for a logit of -1000 the sigmoid rounds to 0.
    # BEGIN SOLUTION
    per_element = torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
    return per_element.mean()
    # END SOLUTION


def softmax_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of softmax(logits) against class indices, mean over the batch.

    Maths:  for row i, loss_i = -log softmax(logits[i])[targets[i]]
                              = logsumexp(logits[i]) - logits[i, targets[i]]
            logsumexp(v) = m + log(sum(exp(v - m))) with m = max(v), so no exp overflows.
            loss = mean over the N rows of loss_i

    logits: (N, C) floating; targets: (N,) int64 in [0, C) -> a 0-d tensor of logits' dtype.
    """
    # TODO: one loss per row (the row's log-sum-exp minus the logit of its target class),
    #       then the mean over the N rows. Shift every row by its own maximum before any exp,
    #       so logits of +-1000 stay finite; pick the target logits without a Python loop.
    # BEGIN SOLUTION
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_sum = torch.log(torch.exp(shifted).sum(dim=1))
    rows = torch.arange(logits.shape[0], device=logits.device)
    return (log_sum - shifted[rows, targets]).mean()
    # END SOLUTION


def hinge(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Hinge loss (as in a linear SVM), mean over the batch.

    Maths:  loss = mean( max(0, 1 - y * scores) )

    scores: (N,) real; y: (N,) labels -1.0 or +1.0 (not 0/1); both floating, same dtype
    -> a 0-d tensor of that dtype.
    """
    # TODO: the formula of the docstring, averaged. The labels already are -1 and +1: use
    #       them as they come, with no conversion.
    # BEGIN SOLUTION
    return torch.clamp(1 - y * scores, min=0).mean()
    # END SOLUTION


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Kullback-Leibler divergence KL(p || q), row by row, then the mean over the rows.

    Maths:  KL(p || q) = sum over k of p[k] * log(p[k] / q[k])
            terms with p[k] == 0 count as 0; q[k] must be > 0 wherever p[k] > 0.
            loss = mean over the N rows of KL(p[i] || q[i])

    p, q: (N, K) floating, each row a probability distribution (entries >= 0, summing to 1)
    -> a 0-d tensor of their dtype.
    """
    # TODO: one divergence per row (a sum over its K entries), then the mean over the N rows.
    #       Entries where p is 0 must add exactly 0: keep them out of the log, since
    #       0 times log 0 is NaN, not 0.
    # BEGIN SOLUTION
    # Where p is 0 the ratio is set to 1, so its term is 0 * log(1) = 0 instead of 0 * -inf.
    ratio = torch.where(p > 0, p / q, torch.ones_like(p))
    return (p * torch.log(ratio)).sum(dim=1).mean()
    # END SOLUTION
