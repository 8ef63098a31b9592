"""Checks for activations_losses: activations, their derivatives and losses against torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from grader import kit
from grader.kit import Mistake

pytestmark = pytest.mark.exercise("activations_losses")

F32, F64 = torch.float32, torch.float64
# float32 results are compared with a float64 oracle run on the same float32-rounded inputs.
TOLERANCE = {F32: {"rtol": 1e-5, "atol": 1e-6}, F64: {"rtol": 1e-9, "atol": 1e-12}}
LOSS_TOLERANCE = {F32: {"rtol": 1e-4, "atol": 1e-5}, F64: {"rtol": 1e-9, "atol": 1e-12}}
EXTREMES = (-1000.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1000.0)
KINKS = (0.0, -0.0, 1e-3, -1e-3)


def _hinge(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Two-class multi-margin loss with scores (0, s) is the binary hinge loss halved.
    pairs = torch.stack([torch.zeros_like(scores), scores], dim=1)
    return F.multi_margin_loss(pairs, ((y + 1) / 2).long(), margin=1.0) * 2


# torch's version of each function, called like the learner's: activations as oracle(x, *extra).
ORACLES: dict[str, Callable[..., torch.Tensor]] = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu, "leaky_relu": F.leaky_relu,
    "elu": F.elu, "mse": F.mse_loss, "mae": F.l1_loss,
    "binary_cross_entropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "softmax_cross_entropy": F.cross_entropy, "hinge": _hinge,
    "kl_divergence": lambda p, q: F.kl_div(q.log(), p, reduction="batchmean"),
}  # fmt: skip
# (function, extra arguments after x): the defaults (slope 0.01, alpha 1.0), then others.
ACTIVATIONS = (("sigmoid", ()), ("tanh", ()), ("relu", ()), ("leaky_relu", ()),
               ("leaky_relu", (0.2,)), ("elu", ()), ("elu", (0.5,)))  # fmt: skip
PARAMETER = {"leaky_relu": "slope", "elu": "alpha"}
# The tensor arguments of each loss, named as in the docstrings (activations take x).
ARGUMENTS = {"mse": ("pred", "target"), "mae": ("pred", "target"),
             "binary_cross_entropy": ("p", "y"), "binary_cross_entropy_with_logits": ("z", "y"),
             "softmax_cross_entropy": ("logits", "targets"), "hinge": ("scores", "y"),
             "kl_divergence": ("p", "q")}  # fmt: skip
RULES = {
    "sigmoid": "sigmoid(x) = 1 / (1 + exp(-x)), in the docstring's stable form",
    "tanh": "tanh(x) = 2 * sigmoid(2x) - 1",
    "relu": "relu(x) = max(x, 0), elementwise",
    "leaky_relu": "x where x > 0, slope * x elsewhere, with the slope argument (default 0.01)",
    "elu": "x where x > 0, alpha * (exp(x) - 1) elsewhere, with the alpha argument (default 1.0)",
    "sigmoid_grad": "the derivative is s * (1 - s) with s = sigmoid(x)",
    "tanh_grad": "the derivative is 1 - tanh(x)**2",
    "relu_grad": "1 where x > 0 and 0 elsewhere, x == 0 included, as numbers in x's dtype",
    "leaky_relu_grad": "1 where x > 0 and the slope argument elsewhere, x == 0 included",
    "elu_grad": "1 where x > 0 and alpha * exp(x) elsewhere (alpha at x == 0)",
    "mse": "the mean of (pred - target)**2 over every element",
    "mae": "the mean of |pred - target| over every element",
    "binary_cross_entropy": "mean(-(y * log(p) + (1 - y) * log(1 - p))), each log clamped at -100",
    "binary_cross_entropy_with_logits": "the mean of max(z, 0) - z * y + log(1 + exp(-|z|))",
    "softmax_cross_entropy": "the mean over rows of logsumexp(logits[i]) - logits[i, targets[i]]",
    "hinge": "mean(max(0, 1 - y * scores)), with the labels -1 and +1",
    "kl_divergence": "the mean over rows of the sum over k of p[k] * log(p[k] / q[k])",
}
# Shown when a result holds NaN or inf where the expected values are finite.
OVERFLOW = {
    "sigmoid": "exp of a large number overflows to inf (exp(1000) is inf even in float64), and "
    "inf / inf is NaN; the docstring's stable form feeds exp only -|x|, which is never above 0",
    "tanh": "the ratio of exponentials is inf / inf at x = +-1000; build tanh on your stable "
    "sigmoid, tanh(x) = 2 * sigmoid(2x) - 1",
    "elu": "exp(x) overflows for large x (and 0 * inf is NaN); evaluate the exponential on "
    "min(x, 0) only, as the docstring's stable form says",
    "binary_cross_entropy": "log(0) is -inf, and 0 * -inf is NaN, not 0: clamp each of the two "
    "logs from below at -100 before weighting it",
    "binary_cross_entropy_with_logits": "an exp overflowed or a log met 0; in the docstring's "
    "stable form, max(z, 0) - z * y + log(1 + exp(-|z|)), exp never sees a positive number",
    "softmax_cross_entropy": "exp(1000) is inf in every float type, so log(sum(exp(logits))) "
    "overflows. Shift each row by its maximum m first: logsumexp(v) = m + log(sum(exp(v - m))),"
    " where every exponent is <= 0 and the largest term is exp(0) = 1",
    "kl_divergence": "a term with p[k] == 0 counts as 0, but 0 * log(0) is NaN: keep those "
    "terms out of the log",
}
AT_KINK = "at the kink x == 0 the derivative takes torch's value: only x > 0 is the straight branch"
ONE_NUMBER = "a loss is one number: a 0-d tensor, the mean over the batch"


def _trusted(function: str, *inputs: torch.Tensor, extra: tuple = ()) -> torch.Tensor:
    """torch's value on float64 inputs (for an activation's *_grad, its autograd derivative)."""
    oracle = ORACLES[function.removesuffix("_grad")]
    if not function.endswith("_grad"):
        return oracle(*inputs, *extra)
    return kit.autograd_gradients(lambda t: oracle(t, *extra), list(inputs))[0]


def _mistakes(function: str, inputs: tuple, want: torch.Tensor, extra: tuple) -> list[Mistake]:
    """What the usual mistakes in `function` give on these float64 inputs (computed lazily)."""
    x, second = inputs[0], inputs[-1]
    ones, rows = torch.ones_like(x), x.shape[0]
    slope = alpha = extra[0] if extra else (0.01 if function.startswith("leaky") else 1.0)
    summed = Mistake(f"this is {rows} times the expected value: the loss is the mean over the "
                     f"batch ({rows} here), not the sum", lambda: rows * want)  # fmt: skip
    table = {
        "sigmoid": [Mistake("this is sigmoid(-x): the sign of the exponent is flipped",
                            lambda: torch.sigmoid(-x))],
        "sigmoid_grad": [Mistake("this is sigmoid(x) itself: the sigmoid is not its own "
                                 "derivative, s * (1 - s) is", lambda: torch.sigmoid(x))],
        "relu_grad": [Mistake(AT_KINK, lambda: (x >= 0).to(F64))],
        "leaky_relu_grad": [
            Mistake("where x <= 0 the derivative is the slope argument, not 0",
                    lambda: (x > 0).to(F64)),
            Mistake(AT_KINK, lambda: torch.where(x >= 0, ones, slope * ones)),
        ],
        "elu_grad": [Mistake(AT_KINK, lambda: torch.where(x >= 0, ones, alpha * torch.exp(x)))],
        "binary_cross_entropy_with_logits": [summed, Mistake(
            "this is the log of a sigmoid, clamped: sigmoid(-1000) rounds to 0 and log(0) is "
            "-inf, which the clamp turns into -100. Work from the logits with the docstring's "
            "stable form", lambda: F.binary_cross_entropy(torch.sigmoid(x), second))],
        "softmax_cross_entropy": [summed, Mistake(
            "the softmax runs down the batch: normalise each row over its own classes",
            lambda: -torch.log_softmax(x, 0)[torch.arange(rows), second].mean() if rows > 1
            else None)],
        "hinge": [summed, Mistake(
            "the labels were converted as if they came as 0/1; they already are -1 and +1",
            lambda: torch.clamp(1 - (2 * second - 1) * x, min=0).mean())],
        "kl_divergence": [
            Mistake("this is KL(q || p): the arguments are swapped. KL is not symmetric: weight "
                    "by p, the first argument, p * log(p / q)",
                    lambda: ORACLES["kl_divergence"](second, x)),
            Mistake(f"this is {rows} times the expected value: sum within each row, then take "
                    f"the mean over the {rows} rows, not the sum", lambda: rows * want),
            Mistake(f"this is 1/{x.shape[-1]} of the expected value: sum over the entries of "
                    "each row; only the rows are averaged", lambda: want / x.shape[-1]),
        ],
    }  # fmt: skip
    mistakes = table.get(function, [summed] if want.dim() == 0 else [])
    if extra:  # leaky_relu's slope or elu's alpha
        parameter = PARAMETER[function.removesuffix("_grad")]
        hint = f"this ignores the {parameter} argument ({extra[0]:g}) and uses the default"
        mistakes.append(Mistake(hint, lambda: _trusted(function, x)))
    return mistakes


def _check(submission: Any, function: str, inputs: tuple, device: torch.device,
           label: str = "x", extra: tuple = ()) -> None:  # fmt: skip
    """function(*inputs, *extra) in both dtypes against torch's, run in float64."""
    label = ", ".join([label, *map(repr, extra)])
    for dtype in (F32, F64):
        rounded = tuple(t.to(dtype) if t.is_floating_point() else t for t in inputs)
        got = kit.call_unchanged(submission, function, *(t.to(device) for t in rounded), *extra,
                                 names=ARGUMENTS.get(function, ("x",)))  # fmt: skip
        exact = tuple(t.to(F64) if t.is_floating_point() else t for t in rounded)
        want = _trusted(function, *exact, extra=extra)
        loss = want.dim() == 0  # a loss adds up rounding errors over the whole batch
        hint, tensor = RULES[function], type(got) is torch.Tensor
        if tensor and got.is_floating_point() and not bool(torch.isfinite(got.cpu()).all()):
            hint = OVERFLOW.get(function.removesuffix("_grad"), hint)
        if loss and tensor and got.dim() > 0:
            hint = ONE_NUMBER
        kit.expect_close(
            got, want, name=f"{function}({label}) in {kit.fmt_dtype(dtype)}",
            hint=hint, mistakes=_mistakes(function, exact, want, extra), dtype=dtype,
            device=device, **(LOSS_TOLERANCE if loss else TOLERANCE)[dtype],
        )  # fmt: skip


def _random_x(rng: torch.Generator) -> torch.Tensor:
    x = torch.randn(4, 50, generator=rng, dtype=F64) * 4
    x[0, :3] = 0.0
    return x


@pytest.mark.points(2)
def test_activations(submission, device, rng):
    """sigmoid, tanh, relu, leaky_relu and elu match torch on random inputs"""
    x = _random_x(rng)
    for function, extra in ACTIVATIONS:
        _check(submission, function, (x,), device, extra=extra)


@pytest.mark.points(2)
def test_activation_gradients(submission, device, rng):
    """each *_grad function matches the derivative torch's autograd computes"""
    x = _random_x(rng)
    for function, extra in ACTIVATIONS:
        _check(submission, f"{function}_grad", (x,), device, extra=extra)


def test_gradients_at_kinks(submission, device):
    """at x == 0, relu_grad gives 0, leaky_relu_grad the slope and elu_grad alpha"""
    x, label = torch.tensor(KINKS, dtype=F64), f"x = {list(KINKS)}"
    for function, extra in ACTIVATIONS:
        if function in ("relu", "leaky_relu", "elu"):
            _check(submission, f"{function}_grad", (x,), device, label, extra)


def test_activations_extreme_inputs(submission, device):
    """activations and their derivatives stay finite and correct at x = +-1000"""
    x, label = torch.tensor(EXTREMES, dtype=F64), "x = [-1000, -100, -30, -1, 0, 1, 30, 100, 1000]"
    for function, extra in ACTIVATIONS:
        for name in (function, f"{function}_grad"):
            _check(submission, name, (x,), device, label, extra)


# ---------------------------------------------------------------------------------------- losses


def test_regression_losses(submission, device, rng):
    """mse and mae match torch's mse_loss and l1_loss (means over the batch)"""
    pred, target = (torch.randn(64, generator=rng, dtype=F64) * 3 for _ in range(2))
    for function in ("mse", "mae"):
        _check(submission, function, (pred, target), device, "pred, target")


def test_binary_cross_entropy(submission, device, rng):
    """binary_cross_entropy matches torch, including probabilities of exactly 0 and 1"""
    p = 0.01 + 0.98 * torch.rand(40, generator=rng, dtype=F64)
    y = (torch.rand(40, generator=rng) < 0.5).to(F64)
    edges = (torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5]), torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0]))
    _check(submission, "binary_cross_entropy", (p, y), device, "p, y")
    _check(submission, "binary_cross_entropy", edges, device,
           "p = [0, 1, 0, 1, 0.5], y = [0, 1, 1, 0, 1]")  # fmt: skip


def test_binary_cross_entropy_with_logits(submission, device, rng):
    """binary_cross_entropy_with_logits matches torch on random logits"""
    z = torch.randn(40, generator=rng, dtype=F64) * 4
    y = (torch.rand(40, generator=rng) < 0.5).to(F64)
    _check(submission, "binary_cross_entropy_with_logits", (z, y), device, "z, y")


def test_softmax_cross_entropy(submission, device, rng):
    """softmax_cross_entropy matches torch's cross_entropy on random logits"""
    logits = torch.randn(16, 5, generator=rng, dtype=F64) * 3
    targets = torch.randint(0, 5, (16,), generator=rng)
    _check(submission, "softmax_cross_entropy", (logits, targets), device,
           "logits (16, 5), targets (16,)")  # fmt: skip


@pytest.mark.points(2)
def test_stable_losses_at_extreme_logits(submission, device):
    """softmax_cross_entropy and BCE with logits stay finite and correct at logits of +-1000"""
    rows = ([1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0], [-1000.0] * 3, [0.0, 0.0, 1000.0])
    for row, target in zip(rows, (0, 1, 2, 0), strict=True):
        label = f"logits = [{', '.join(f'{v:g}' for v in row)}], target = {target}"
        inputs = (torch.tensor([row], dtype=F64), torch.tensor([target]))
        _check(submission, "softmax_cross_entropy", inputs, device, label)
    for z, y in ((1000.0, 1.0), (-1000.0, 1.0), (1000.0, 0.0), (-1000.0, 0.0), (0.0, 1.0)):
        inputs = (torch.tensor([z], dtype=F64), torch.tensor([y], dtype=F64))
        label = f"z = [{z:g}], y = [{y:g}]"
        _check(submission, "binary_cross_entropy_with_logits", inputs, device, label)


def test_hinge(submission, device, rng):
    """hinge matches max(0, 1 - y * score) averaged, with labels -1 and +1"""
    scores = torch.randn(50, generator=rng, dtype=F64) * 2
    y = torch.where(torch.rand(50, generator=rng) < 0.5, -1.0, 1.0).to(F64)
    _check(submission, "hinge", (scores, y), device, "scores, y in {-1, +1}")


def test_kl_divergence(submission, device, rng):
    """kl_divergence(p, q) matches torch's kl_div, zeros in p included"""
    weights = torch.rand(2, 8, 6, generator=rng, dtype=F64) + 0.05
    p, q = weights / weights.sum(dim=2, keepdim=True)
    _check(submission, "kl_divergence", (p, q), device, "p, q (8, 6)")
    p = torch.cat([torch.zeros(8, 2, dtype=F64), p[:, 2:]], dim=1)
    p = p / p.sum(dim=1, keepdim=True)
    _check(submission, "kl_divergence", (p, q), device, "p with zeros, q")


# ------------------------------------------------------------------------------ the source file

READY_MADE = kit.Shortcuts(
    "a ready-made version",
    names={"torch.nn", "torch.special", "torch._C", "torch.ops", "scipy.special"}
    | {f"torch.{name}" for name in ("sigmoid", "sigmoid_", "tanh", "tanh_", "relu", "relu_",
       "softmax", "log_softmax", "logsumexp", "selu", "celu", "rrelu", "prelu", "threshold",
       "binary_cross_entropy_with_logits", "kl_div", "hinge_embedding_loss", "logaddexp",
       "logaddexp2")},
    methods={"sigmoid", "sigmoid_", "tanh", "tanh_", "relu", "relu_", "softmax", "log_softmax",
             "logsumexp", "logaddexp", "logaddexp2"},
)  # fmt: skip
AUTOGRAD = kit.Shortcuts(
    "autograd",
    names={"torch.autograd", "torch.func", "torch.enable_grad"},
    methods={"backward", "grad", "requires_grad", "requires_grad_"},
)
ZERO, ONE, HALF = torch.zeros(3), torch.ones(3), torch.full((3, 2), 0.5)
SMOKE_CALLS: dict[str, tuple[torch.Tensor, ...]] = {
    **{name: (ZERO,) for name in RULES if name not in ARGUMENTS},  # activations and *_grad
    "mse": (ZERO, ONE), "mae": (ZERO, ONE), "binary_cross_entropy": (ZERO + 0.5, ONE),
    "binary_cross_entropy_with_logits": (ZERO, ONE), "hinge": (ZERO, ONE),
    "softmax_cross_entropy": (HALF, torch.zeros(3, dtype=torch.int64)),
    "kl_divergence": (HALF, HALF),
}  # fmt: skip


@pytest.mark.needs_passing("activations", "activation_gradients", "regression_losses",
                           "binary_cross_entropy", "binary_cross_entropy_with_logits",
                           "softmax_cross_entropy", "hinge", "kl_divergence")  # fmt: skip
def test_elementary_operations_only(submission, exercise, source_tree):
    """every function runs, and the file avoids torch.nn, ready-made versions and autograd"""
    for function, args in SMOKE_CALLS.items():
        submission.call(function, *args)
    kit.expect_no_shortcuts(
        source_tree, exercise.path, READY_MADE, AUTOGRAD,
        advice="Build each function from torch.exp, torch.log, torch.log1p, torch.expm1, "
        "torch.where, torch.clamp, arithmetic and reductions; call your own sigmoid (plain "
        "`sigmoid(x)`) where you need it",
    )  # fmt: skip
