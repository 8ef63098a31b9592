"""Normalization, dropout and initialisation: the layers that make deep networks trainable.

Your task: write the seven functions after this docstring, in order.

- `batchnorm_forward` normalises each feature over the batch (training mode) or with running
  averages (evaluation mode), and keeps those running averages up to date as torch does;
- `batchnorm_backward` is its gradient, worked out by hand;
- `layernorm_forward` normalises each example over its own features;
- `dropout` zeroes entries at random while training and rescales the rest;
- `init_gain`, `xavier_uniform` and `kaiming_normal` draw starting weights whose scale keeps
  signals from exploding or vanishing as they pass through many layers.

Every function is pure: it returns new tensors and leaves the ones it was given as they were
(torch's BatchNorm1d updates its buffers in place; here the new running averages are
returned instead). Results keep the dtype and device of the inputs. The checks compare your
numbers with nn.BatchNorm1d, nn.LayerNorm and torch's autograd in float64, so follow the
docstrings' conventions exactly (which variance, where eps goes, which way momentum points).

Write these layers with tensor arithmetic: no torch.nn (nor torch.nn.functional or
torch.nn.init) inside them, and no autograd in batchnorm_backward. At the bottom, provided
functions let the checks call your code with plain values and train a deep network with your
batch norm: leave them as they are. Read lesson.md for the ideas, ask `mllab hint
normalization` when stuck, and run `mllab check normalization`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Log = Callable[[str, float, int], None]


def batchnorm_forward(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch normalization of a batch of feature vectors, as nn.BatchNorm1d computes it.

    Training mode (training=True), with the statistics of this batch, per feature j:
        mu_j    = (1/N) sum_i x[i, j]
        var_j   = (1/N) sum_i (x[i, j] - mu_j)^2                  (biased: divide by N)
        xhat    = (x - mu) / sqrt(var + eps)
        out     = gamma * xhat + beta
    and the running averages move towards this batch's statistics:
        new_running_mean = (1 - momentum) * running_mean + momentum * mu
        new_running_var  = (1 - momentum) * running_var  + momentum * var_unbiased
    where var_unbiased = var * N / (N - 1) (divide by N - 1), as torch does.

    Evaluation mode (training=False): the batch's own statistics are not used at all:
        out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
    and the running averages are returned unchanged.

    Shapes: x (N, D), with N >= 2 in training mode (any N >= 1 in evaluation mode);
    gamma, beta, running_mean, running_var (D,). All on one device, one floating dtype.
    Returns (out, new_running_mean, new_running_var): out (N, D), the others (D,), with x's
    dtype and device. Nothing given is modified in place.
    """
    # TODO: in training mode, normalise each feature (each column) with this batch's mean and
    #       biased variance, then scale by gamma and shift by beta; move the running averages
    #       a fraction `momentum` of the way towards the batch's mean and UNBIASED variance.
    #       In evaluation mode, normalise with the running averages and return them as they
    #       were. Build new tensors: the running averages you were given keep their values.
    # BEGIN SOLUTION
    if not training:
        out = gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta
        return out, running_mean, running_var
    n = x.shape[0]
    mean = x.mean(dim=0)
    var = ((x - mean) ** 2).mean(dim=0)
    out = gamma * (x - mean) / torch.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return out, new_mean, new_var
    # END SOLUTION


def batchnorm_backward(
    dout: torch.Tensor, x: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of training-mode batch normalization, worked out by hand (no autograd).

    The forward pass is batchnorm_forward's training mode: out = gamma * xhat + beta with
    xhat = (x - mu) / sqrt(var + eps), mu and var (biased) taken over the batch, per feature.
    Given dout = dL/dout, with inv_std = 1 / sqrt(var + eps) and dxhat = dout * gamma:
        dbeta  = sum_i dout[i]
        dgamma = sum_i dout[i] * xhat[i]
        dx     = inv_std / N * (N * dxhat - sum_i dxhat[i] - xhat * sum_i dxhat[i] * xhat[i])
    (sums over the batch, dim 0, one value per feature). dx has the two extra terms because mu
    and var depend on every row of x: moving one x[i, j] moves the whole column's xhat.

    Shapes: dout and x (N, D), N >= 2; gamma (D,). Same device and floating dtype.
    Returns (dx, dgamma, dbeta): dx (N, D), dgamma and dbeta (D,), with x's dtype and device.
    """
    # TODO: recompute this batch's mean, biased variance and normalised xhat as the forward
    #       pass did, then apply the three formulas of the docstring. Every sum runs over the
    #       batch (the rows), leaving one number per feature. No autograd: this is the
    #       gradient autograd would give, derived in the lesson.
    # BEGIN SOLUTION
    n = x.shape[0]
    mean = x.mean(dim=0)
    var = ((x - mean) ** 2).mean(dim=0)
    inv_std = 1 / torch.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    dbeta = dout.sum(dim=0)
    dgamma = (dout * xhat).sum(dim=0)
    dxhat = dout * gamma
    dx = inv_std / n * (n * dxhat - dxhat.sum(dim=0) - xhat * (dxhat * xhat).sum(dim=0))
    return dx, dgamma, dbeta
    # END SOLUTION


def layernorm_forward(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Layer normalization over the last axis, as nn.LayerNorm(D) computes it.

    Each example (each vector along the last axis) is normalised with its own statistics:
        mu  = mean of x[..., :]                 (over the D features of that one vector)
        var = mean of (x[..., :] - mu)^2        (biased: divide by D)
        out = gamma * (x - mu) / sqrt(var + eps) + beta
    There are no running averages: training and evaluation compute the same thing.

    Shapes: x (..., D), e.g. (N, D) or (B, T, D); gamma and beta (D,).
    Returns out with x's shape, dtype and device. Built from differentiable tensor
    operations, so that autograd can take its gradient.
    """
    # TODO: normalise every vector along the LAST axis with its own mean and biased variance
    #       (keep that axis so the statistics broadcast back), then scale by gamma and shift
    #       by beta. Unlike batch norm, no statistic is shared between examples.
    # BEGIN SOLUTION
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta
    # END SOLUTION


def dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator) -> torch.Tensor:
    """Inverted dropout: drop each entry with probability p while training, rescale the rest.

    Training (training=True): for every entry, independently, keep it with probability 1 - p
    and set it to 0 otherwise; kept entries are multiplied by 1 / (1 - p), so that the
    expected value of every output entry equals the input entry:
        out = x * mask / (1 - p),   mask[i] = 1 with probability 1 - p, else 0
    The random draws come from `generator` (a torch.Generator on x's device), never from
    torch's global random state: the same generator state gives the same mask.

    Evaluation (training=False), or p == 0: out equals x (nothing dropped, nothing scaled).

    Shapes: x any shape; 0 <= p < 1. Returns a tensor of x's shape, dtype and device
    (in evaluation mode it may be x itself). x keeps its values.
    """
    # TODO: outside training, or with p of zero, hand x back unchanged. Otherwise draw one
    #       uniform number per entry from the given generator (on x's device, in x's dtype),
    #       keep the entries whose draw says "keep" (probability 1 - p) and scale the kept
    #       ones by 1/(1 - p) so the expected output equals the input.
    # BEGIN SOLUTION
    if not training or p == 0:
        return x
    draws = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    keep = (draws >= p).to(x.dtype)
    return x * keep / (1 - p)
    # END SOLUTION


def init_gain(nonlinearity: str, negative_slope: float = 0.01) -> float:
    """The recommended gain for a layer followed by `nonlinearity`, as nn.init.calculate_gain.

        "linear", "sigmoid"   1
        "tanh"                5 / 3
        "relu"                sqrt(2)
        "leaky_relu"          sqrt(2 / (1 + negative_slope^2))

    A ReLU zeroes half of its inputs on average, so it halves the second moment of what
    passes through it; a gain of sqrt(2) on the weights (variance times 2) makes up for it.

    `nonlinearity` is one of the five names above. Returns a Python float.
    """
    # TODO: return the gain of the table above for the given name, as a float.
    # BEGIN SOLUTION
    if nonlinearity in ("linear", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + negative_slope**2))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")
    # END SOLUTION


def xavier_uniform(
    fan_in: int, fan_out: int, gain: float, generator: torch.Generator
) -> torch.Tensor:
    """Xavier (Glorot) uniform weights for a linear layer with fan_in inputs and fan_out outputs.

    Every entry is drawn independently and uniformly from [-a, a] with
        a = gain * sqrt(6 / (fan_in + fan_out)),
    so that its variance is a^2 / 3 = gain^2 * 2 / (fan_in + fan_out): the compromise between
    keeping the forward signal's variance (1 / fan_in) and the backward gradient's
    (1 / fan_out). nn.init.xavier_uniform_ draws the same distribution.

    The draws come from `generator`; the weights live on its device (generator.device).
    Returns a float32 tensor of shape (fan_out, fan_in), the layout of nn.Linear's weight.
    """
    # TODO: work out the bound a of the docstring, then fill a (fan_out, fan_in) float32
    #       tensor on the generator's device with independent uniform draws on [-a, a],
    #       taking the randomness from the given generator.
    # BEGIN SOLUTION
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    draws = torch.rand((fan_out, fan_in), generator=generator, device=generator.device)
    return (2 * draws - 1) * bound
    # END SOLUTION


def kaiming_normal(
    fan_in: int, fan_out: int, gain: float, generator: torch.Generator
) -> torch.Tensor:
    """Kaiming (He) normal weights for a linear layer with fan_in inputs and fan_out outputs.

    Every entry is drawn independently from a normal distribution with mean 0 and standard
    deviation
        std = gain / sqrt(fan_in),
    i.e. variance gain^2 / fan_in: it keeps the variance of the forward signal the same from
    layer to layer. For ReLU layers, gain = init_gain("relu") = sqrt(2), variance 2 / fan_in.
    nn.init.kaiming_normal_ (mode="fan_in") draws the same distribution.

    The draws come from `generator`; the weights live on its device (generator.device).
    Returns a float32 tensor of shape (fan_out, fan_in), the layout of nn.Linear's weight.
    """
    # TODO: work out the standard deviation of the docstring (it scales with the number of
    #       INPUTS of the layer), then fill a (fan_out, fan_in) float32 tensor on the
    #       generator's device with independent normal draws of that spread, taking the
    #       randomness from the given generator.
    # BEGIN SOLUTION
    std = gain / math.sqrt(fan_in)
    draws = torch.randn((fan_out, fan_in), generator=generator, device=generator.device)
    return draws * std
    # END SOLUTION


# ------------------------------------------------------------------------------------------
# Provided for the checks: they call your functions with what cannot be sent from the grader
# (a torch.Generator, autograd), and train a deep network with your batch norm. There is
# nothing to write below this line.


def layernorm_gradients(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, dout: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradients of sum(layernorm_forward(x, gamma, beta) * dout), by autograd."""
    x, gamma, beta = (t.detach().clone().requires_grad_(True) for t in (x, gamma, beta))
    with torch.enable_grad():
        out = layernorm_forward(x, gamma, beta)
        grads = torch.autograd.grad((out * dout).sum(), (x, gamma, beta), allow_unused=True)
    dx, dgamma, dbeta = (
        torch.zeros_like(leaf) if grad is None else grad.detach()
        for leaf, grad in zip((x, gamma, beta), grads, strict=True)
    )
    return dx, dgamma, dbeta


def dropout_from_seed(x: torch.Tensor, p: float, training: bool, seed: int) -> torch.Tensor:
    """dropout with a new generator on x's device, seeded with `seed`."""
    return dropout(x, p, training, torch.Generator(device=x.device).manual_seed(seed))


def xavier_uniform_from_seed(
    fan_in: int, fan_out: int, gain: float, seed: int, device: str
) -> torch.Tensor:
    """xavier_uniform with a new generator on `device`, seeded with `seed`."""
    generator = torch.Generator(device=device).manual_seed(seed)
    return xavier_uniform(fan_in, fan_out, gain, generator)


def kaiming_normal_from_seed(
    fan_in: int, fan_out: int, gain: float, seed: int, device: str
) -> torch.Tensor:
    """kaiming_normal with a new generator on `device`, seeded with `seed`."""
    generator = torch.Generator(device=device).manual_seed(seed)
    return kaiming_normal(fan_in, fan_out, gain, generator)


class _YourBatchNorm(torch.autograd.Function):
    """Training-mode batch norm: batchnorm_forward forwards, batchnorm_backward backwards."""

    @staticmethod
    def forward(ctx, x, gamma, beta, running_mean, running_var):  # type: ignore[override]
        out, new_mean, new_var = batchnorm_forward(x, gamma, beta, running_mean, running_var, True)
        ctx.save_for_backward(x, gamma)
        ctx.mark_non_differentiable(new_mean, new_var)
        return out, new_mean, new_var

    @staticmethod
    def backward(ctx, dout, _mean_grad, _var_grad):  # type: ignore[override]
        x, gamma = ctx.saved_tensors
        dx, dgamma, dbeta = batchnorm_backward(dout, x, gamma)
        return dx, dgamma, dbeta, None, None


def train_deep_networks(
    weights: list[torch.Tensor],
    biases: list[torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    lr: float,
    batch_size: int,
    seed: int,
    log: Log | None = None,
) -> dict[str, dict[str, list[torch.Tensor]]]:
    """Train one deep sigmoid network twice from the same weights: with your batch norm, and
    without; both see the same batches. Returns each network's trained parameters.

    Layer k: h = sigmoid(batch_norm(h @ weights[k].T + biases[k])) for every hidden layer (the
    batch norm only in the first network), then scores = h @ weights[-1].T + biases[-1].
    Cross-entropy loss, SGD with momentum 0.9. Logs "with batch norm" and "without" (the mean
    loss of the last 5 steps) every 5 steps.
    """
    hidden = len(weights) - 1
    runs = {}
    for name in ("with batch norm", "without"):
        params = {
            "weights": [w.detach().clone().requires_grad_(True) for w in weights],
            "biases": [b.detach().clone().requires_grad_(True) for b in biases],
        }
        if name == "with batch norm":
            params["gammas"] = [torch.ones_like(b).requires_grad_(True) for b in biases[:hidden]]
            params["betas"] = [torch.zeros_like(b).requires_grad_(True) for b in biases[:hidden]]
        stats = {
            "running_means": [torch.zeros_like(b) for b in biases[:hidden]],
            "running_vars": [torch.ones_like(b) for b in biases[:hidden]],
        }
        leaves = [t for group in params.values() for t in group]
        optimizer = torch.optim.SGD(leaves, lr=lr, momentum=0.9)
        batches = torch.Generator().manual_seed(seed)
        recent: list[float] = []
        for step in range(1, steps + 1):
            rows = torch.randint(len(y), (batch_size,), generator=batches).to(X.device)
            h = X[rows]
            for k in range(hidden):
                h = h @ params["weights"][k].T + params["biases"][k]
                if "gammas" in params:
                    h, mean, var = _YourBatchNorm.apply(
                        h,
                        params["gammas"][k],
                        params["betas"][k],
                        stats["running_means"][k],
                        stats["running_vars"][k],
                    )
                    stats["running_means"][k], stats["running_vars"][k] = mean, var
                h = torch.sigmoid(h)
            scores = h @ params["weights"][-1].T + params["biases"][-1]
            loss = torch.nn.functional.cross_entropy(scores, y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            recent.append(loss.item())
            if log is not None and step % 5 == 0:
                log(name, sum(recent) / len(recent), step)
                recent = []
        result = {key: [t.detach().clone() for t in group] for key, group in params.items()}
        if "gammas" in params:
            result.update({key: [t.detach().clone() for t in ts] for key, ts in stats.items()})
        runs[name] = result
    return runs
