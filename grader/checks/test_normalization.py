"""Checks for the normalization exercise: batch and layer norm, dropout, Xavier and He init."""

from __future__ import annotations

import functools
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.compare import assert_equal, fmt_number
from grader.datasets import digits_split
from grader.errors import CheckFailure
from grader.gradcheck import autograd_gradients
from grader.kit import (
    Mistake,
    Shortcuts,
    anything,
    call_unchanged,
    expect_close,
    expect_no_shortcuts,
    likely_mistake,
    py_float,
    tensor,
    unpack,
    unpack_dict,
)

pytestmark = pytest.mark.exercise("normalization")

F32, F64 = torch.float32, torch.float64
# float64 against torch: the same formulas agree to ~1e-15; a mistake moves them far more.
F64_TOL: dict[str, float] = {"rtol": 1e-9, "atol": 1e-11}
F32_TOL: dict[str, float] = {"rtol": 1e-4, "atol": 1e-5}
TOLERANCE = {F64: F64_TOL, F32: F32_TOL}

BATCHNORM_RULE = (
    "per feature (column): xhat = (x - mean) / sqrt(var + eps) with the batch's mean and "
    "BIASED variance (divide by N), then out = gamma * xhat + beta"
)
RUNNING_RULE = (
    "new = (1 - momentum) * old + momentum * batch statistic: momentum is the weight of the "
    "NEW value; the running variance takes the UNBIASED variance (divide by N - 1)"
)
EVAL_RULE = (
    "in evaluation mode: out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta, "
    "the batch's own statistics unused"
)
BACKWARD_RULE = (
    "with dxhat = dout * gamma and sums over the batch (dim 0): dbeta = sum(dout), "
    "dgamma = sum(dout * xhat), dx = inv_std / N * (N * dxhat - sum(dxhat) - xhat * "
    "sum(dxhat * xhat))"
)
LAYERNORM_RULE = (
    "each vector along the LAST axis is normalised with its own mean and biased variance "
    "(keepdim=True so they broadcast), then out = gamma * xhat + beta"
)
DROPOUT_RULE = "keep each entry with probability 1 - p and divide the kept ones by (1 - p)"

# The layers the exercise asks learners to write, each judged in its own check: torch.nn, and
# torch's normalization and dropout kernels under every path torch offers them (the batch norm
# kernels include the pieces of its backward pass).
KERNELS = (
    "batch_norm", "native_batch_norm", "_native_batch_norm_legit",
    "_native_batch_norm_legit_no_training", "_batch_norm_impl_index", "batch_norm_stats",
    "batch_norm_elemt", "batch_norm_update_stats", "batch_norm_gather_stats",
    "batch_norm_gather_stats_with_counts", "batch_norm_backward_reduce",
    "batch_norm_backward_elemt", "native_batch_norm_backward", "cudnn_batch_norm",
    "miopen_batch_norm", "layer_norm", "native_layer_norm", "native_layer_norm_backward",
    "instance_norm", "group_norm", "native_group_norm", "rms_norm", "_fused_rms_norm",
    "dropout", "dropout_", "native_dropout", "_fused_dropout", "feature_dropout",
    "feature_dropout_", "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout",
    "feature_alpha_dropout_",
)  # fmt: skip
LAYER_SHORTCUTS = frozenset(
    {"torch.nn", "torch._VF"}
    | {
        f"{where}.{name}"
        for name in KERNELS
        for where in ("torch", "torch.ops.aten", "torch._C._VariableFunctions")
    }
)

# The deep network of the training check: 7 sigmoid hidden layers of 64 units on the digits.
# Without batch norm it stays at chance level (the sigmoids' gradients vanish through the
# layers); with it the reference reaches about 95% on held-out digits, on every seed tried.
DEPTH, WIDTH, CLASSES = 7, 64, 10
TRAIN_SETTINGS = {"steps": 300, "lr": 0.1, "batch_size": 64}
HELD_OUT = 400
SPLIT_SEED = 0
MIN_ACCURACY = 0.85  # with batch norm, on held-out digits
MIN_LEAD = 0.4  # with batch norm, at least this much more accurate than without
TRAIN_TIMEOUT = 120.0


# ------------------------------------------------------------------------------------ helpers


def _expect_own_code(source_tree, exercise, function: str, *, autograd: bool = False) -> None:
    """`function` computes its layer itself: no torch.nn, no fused torch layer (no autograd)."""
    rules = [Shortcuts("a ready-made layer", names=LAYER_SHORTCUTS, functions={function})]
    if autograd:
        rules.append(
            Shortcuts(
                "autograd",
                names={"torch.autograd", "torch.func"},
                methods={"backward", "grad", "requires_grad", "requires_grad_"},
                functions={function},
            )
        )
    expect_no_shortcuts(
        source_tree,
        exercise.path,
        *rules,
        advice=f"Write {function} with tensor arithmetic (mean, sums, sqrt, broadcasting).",
    )


def _features(rng: torch.Generator, n: int, d: int) -> torch.Tensor:
    """A batch whose features have very different means and spreads, as real activations do."""
    shift = 3 * torch.randn(d, generator=rng, dtype=F64)
    scale = 0.5 + 2 * torch.rand(d, generator=rng, dtype=F64)
    return torch.randn(n, d, generator=rng, dtype=F64) * scale + shift


def _affine(rng: torch.Generator, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """gamma and beta away from 1 and 0, so that forgetting either shows."""
    gamma = 1 + 0.5 * torch.randn(d, generator=rng, dtype=F64)
    beta = 0.5 * torch.randn(d, generator=rng, dtype=F64)
    return gamma, beta


def _running(rng: torch.Generator, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Running averages as after some training: neither the zeros nor the ones they start at."""
    return (
        torch.randn(d, generator=rng, dtype=F64),
        0.5 + 2 * torch.rand(d, generator=rng, dtype=F64),
    )


def _torch_batchnorm(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    """nn.BatchNorm1d in float64 on the CPU: (out, new_running_mean, new_running_var)."""
    layer = nn.BatchNorm1d(x.shape[1], eps=eps, momentum=momentum, dtype=F64)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        layer.running_mean.copy_(running_mean)
        layer.running_var.copy_(running_var)
        layer.train(training)
        out = layer(x.to("cpu", F64))
    return out, layer.running_mean.clone(), layer.running_var.clone()


def _batch_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """mean, biased and unbiased variance of each column, in float64 on the CPU."""
    x = x.to("cpu", F64)
    return x.mean(0), x.var(0, correction=0), x.var(0, correction=1)


def _on(device: torch.device, dtype: torch.dtype, *tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.to(device, dtype) for t in tensors]


def _batchnorm(submission, x, gamma, beta, running_mean, running_var, training, momentum, eps):
    """The learner's batchnorm_forward, with its three parts checked for kind and place."""
    n, d = x.shape
    result = submission.batchnorm_forward(
        x, gamma, beta, running_mean, running_var, training, momentum, eps
    )
    like = {"dtype": x.dtype, "device": x.device}
    return unpack(
        result,
        "batchnorm_forward",
        out=tensor((n, d), **like),
        new_running_mean=tensor((d,), **like),
        new_running_var=tensor((d,), **like),
    )


# ------------------------------------------------------------------------------- batch norm


@pytest.mark.points(2)
def test_batchnorm_train_forward(submission, exercise, source_tree, device, rng):
    """batchnorm_forward in training mode matches nn.BatchNorm1d, with the batch's statistics"""
    cases = (
        (16, 5, 0.1, 1e-5, F64),
        (3, 4, 0.1, 1e-3, F64),  # 3 rows: the two variances give standard deviations 22% apart
        (32, 8, 0.2, 1e-5, F32),
    )
    for n, d, momentum, eps, dtype in cases:
        x, (gamma, beta), (mean_r, var_r) = _features(rng, n, d), _affine(rng, d), _running(rng, d)
        want, _, _ = _torch_batchnorm(x, gamma, beta, mean_r, var_r, True, momentum, eps)
        sent = _on(device, dtype, x, gamma, beta, mean_r, var_r)
        out, _, _ = _batchnorm(submission, *sent, True, momentum, eps)
        x64, g, b = (t.to(F64).cpu() for t in sent[:3])
        mean, var, unbiased = _batch_stats(x64)
        mistakes = [
            Mistake(
                "it matches the output normalised with the UNBIASED variance (divide by N - 1); "
                "normalise with the biased one (divide by N), as torch does",
                g * (x64 - mean) / torch.sqrt(unbiased + eps) + b,
            ),
            Mistake(
                "it matches (x - mean) / (sqrt(var) + eps): eps goes inside the square root",
                g * (x64 - mean) / (torch.sqrt(var) + eps) + b,
            ),
            Mistake(
                "it matches the output normalised with the running averages: in training mode "
                "the batch's own mean and variance are used",
                g * (x64 - sent[3].cpu().to(F64)) / torch.sqrt(sent[4].cpu().to(F64) + eps) + b,
            ),
            Mistake(
                "it matches the output with each ROW normalised (over the features, as layer "
                "norm does): batch norm takes each feature's statistics down its column, dim=0",
                g
                * (x64 - x64.mean(1, keepdim=True))
                / torch.sqrt(x64.var(1, correction=0, keepdim=True) + eps)
                + b,
            ),
            Mistake(
                "it matches xhat without gamma and beta: finish with gamma * xhat + beta",
                (x64 - mean) / torch.sqrt(var + eps),
            ),
        ]
        expect_close(
            out,
            want,
            name=f"batchnorm_forward's out ({n} rows, {d} features, eps={eps:g}, {dtype})",
            hint=BATCHNORM_RULE,
            mistakes=mistakes,
            **TOLERANCE[dtype],
        )
    _expect_own_code(source_tree, exercise, "batchnorm_forward")


@pytest.mark.points(2)
def test_batchnorm_running_statistics(submission, device, rng):
    """batchnorm_forward's running averages follow nn.BatchNorm1d's over several training steps"""
    d = 6
    gamma, beta = _affine(rng, d)
    for momentum in (0.1, 0.3):
        layer = nn.BatchNorm1d(d, momentum=momentum, dtype=F64)
        mean_r, var_r = torch.zeros(d, dtype=F64), torch.ones(d, dtype=F64)  # torch's start
        for step, n in enumerate((8, 16, 5, 32, 12), start=1):
            x = _features(rng, n, d)
            with torch.no_grad():
                layer.train()(x)
            sent_mean, sent_var = mean_r, var_r
            _, mean_r, var_r = _batchnorm(
                submission, *_on(device, F64, x, gamma, beta, mean_r, var_r), True, momentum, 1e-5
            )
            where = f"after training step {step} (batch of {n}, momentum={momentum})"
            batch_mean, biased, unbiased = _batch_stats(x)
            old_mean, old_var = sent_mean.cpu().to(F64), sent_var.cpu().to(F64)
            expect_close(
                mean_r,
                layer.running_mean,
                name=f"the new running_mean {where}",
                hint=RUNNING_RULE,
                mistakes=[
                    Mistake(
                        "it matches momentum * old + (1 - momentum) * batch mean: the weights "
                        "are the other way round; momentum is the weight of the batch's value",
                        momentum * old_mean + (1 - momentum) * batch_mean,
                    ),
                    Mistake(
                        "it is the batch's mean alone: move the old running mean only a "
                        "fraction momentum of the way towards it",
                        batch_mean,
                    ),
                ],
                **F64_TOL,
            )
            expect_close(
                var_r,
                layer.running_var,
                name=f"the new running_var {where}",
                hint=RUNNING_RULE,
                mistakes=[
                    Mistake(
                        "it matches the update with the BIASED batch variance (divide by N); "
                        "torch keeps the unbiased one (divide by N - 1) in the running average",
                        (1 - momentum) * old_var + momentum * biased,
                    ),
                    Mistake(
                        "it matches momentum * old + (1 - momentum) * batch variance: the "
                        "weights are the other way round",
                        momentum * old_var + (1 - momentum) * unbiased,
                    ),
                    Mistake(
                        "it matches the update with the biased variance times (N - 1) / N: "
                        "the unbiased variance is the biased one times N / (N - 1)",
                        (1 - momentum) * old_var + momentum * biased * (n - 1) / n,
                    ),
                ],
                **F64_TOL,
            )
            mean_r, var_r = mean_r.cpu(), var_r.cpu()


@pytest.mark.points(2)
def test_batchnorm_eval(submission, exercise, source_tree, device, rng):
    """batchnorm_forward in evaluation mode uses the running averages and leaves them untouched"""
    for n, d, dtype in ((10, 6, F64), (1, 6, F64), (20, 4, F32)):
        x, (gamma, beta), (mean_r, var_r) = _features(rng, n, d), _affine(rng, d), _running(rng, d)
        eps, momentum = 1e-5, 0.1
        sent = _on(device, dtype, x, gamma, beta, mean_r, var_r)
        want, _, _ = _torch_batchnorm(*sent, False, momentum, eps)
        out, new_mean, new_var = _batchnorm(submission, *sent, False, momentum, eps)
        case = f"training=False, {n} row{'s' if n > 1 else ''}, {dtype}"
        for name, got, given in (
            ("running_mean", new_mean, sent[3]),
            ("running_var", new_var, sent[4]),
        ):
            moved = not torch.equal(got.detach().cpu(), given.cpu())
            if moved:
                raise CheckFailure(
                    f"batchnorm_forward ({case}) returned a new {name} that differs from the "
                    f"one it was given; in evaluation mode the running averages are only read: "
                    f"return them unchanged"
                )
        x64, g, b = (t.to(F64).cpu() for t in sent[:3])
        batch = (
            g * (x64 - x64.mean(0)) / torch.sqrt(x64.var(0, correction=0) + eps) + b
            if n > 1
            else None
        )
        expect_close(
            out,
            want,
            name=f"batchnorm_forward's out ({case})",
            hint=EVAL_RULE,
            mistakes=[
                Mistake(
                    "it matches the output normalised with this batch's own statistics, as in "
                    "training mode: in evaluation mode use the running averages",
                    batch,
                )
            ],
            **TOLERANCE[dtype],
        )
    _expect_own_code(source_tree, exercise, "batchnorm_forward")


def _torch_batchnorm_grads(dout, x, gamma, beta, eps):
    """dx, dgamma, dbeta of sum(batch_norm(x) * dout) in training mode, by torch's autograd."""

    def forward(x_, gamma_, beta_):
        return F.batch_norm(x_, None, None, gamma_, beta_, training=True, eps=eps)

    return autograd_gradients(forward, [x, gamma, beta], upstream=dout.to("cpu", F64))


@pytest.mark.points(3)
def test_batchnorm_backward(submission, exercise, source_tree, device, rng):
    """batchnorm_backward gives dx, dgamma and dbeta equal to autograd's through nn.BatchNorm1d"""
    for n, d, eps, dtype in ((12, 5, 1e-5, F64), (2, 3, 1e-3, F64), (64, 8, 1e-5, F32)):
        x, (gamma, beta) = _features(rng, n, d), _affine(rng, d)
        dout = torch.randn(n, d, generator=rng, dtype=F64)
        sent = _on(device, dtype, dout, x, gamma)
        dout64, x64, g = (t.to(F64).cpu() for t in sent)
        want_dx, want_dgamma, want_dbeta = _torch_batchnorm_grads(dout64, x64, g, beta, eps)
        result = submission.batchnorm_backward(*sent, eps)
        like = {"dtype": dtype, "device": device}
        dx, dgamma, dbeta = unpack(
            result,
            "batchnorm_backward",
            dx=tensor((n, d), **like),
            dgamma=tensor((d,), **like),
            dbeta=tensor((d,), **like),
        )
        case = f"({n} rows, {d} features, eps={eps:g}, {dtype})"
        tol = TOLERANCE[dtype]
        mean, var, unbiased = _batch_stats(x64)
        inv_std = 1 / torch.sqrt(var + eps)
        xhat = (x64 - mean) * inv_std
        dxhat = dout64 * g
        # The same formulas with the unbiased variance: a slip that only shows in xhat's scale.
        inv_std_u = 1 / torch.sqrt(unbiased + eps)
        xhat_u = (x64 - mean) * inv_std_u
        unbiased_hint = (
            "it matches the formulas with xhat and inv_std from the UNBIASED variance (divide "
            "by N - 1); the forward pass normalises with the biased one (divide by N)"
        )
        expect_close(
            dbeta,
            want_dbeta,
            name=f"batchnorm_backward's dbeta {case}",
            hint=BACKWARD_RULE,
            mistakes=[Mistake("it is N times too small: sum dout over the batch", want_dbeta / n)],
            **tol,
        )
        expect_close(
            dgamma,
            want_dgamma,
            name=f"batchnorm_backward's dgamma {case}",
            hint=BACKWARD_RULE,
            mistakes=[
                Mistake(
                    "it matches sum(dout * x): gamma multiplies the NORMALISED xhat",
                    (dout64 * x64).sum(0),
                ),
                Mistake("it is N times too small: sum over the batch", want_dgamma / n),
                Mistake(unbiased_hint, (dout64 * xhat_u).sum(0)),
            ],
            **tol,
        )
        mistakes = [
            Mistake(
                "it matches dout * gamma * inv_std, which treats the batch's mean and variance "
                "as constants; both depend on every row of x, which adds the two sums of the "
                "formula",
                dxhat * inv_std,
            ),
            Mistake(
                "it keeps the path through the mean but misses the one through the variance: "
                "subtract xhat * sum(dxhat * xhat) as well",
                inv_std / n * (n * dxhat - dxhat.sum(0)),
            ),
            Mistake(
                "it matches the formula with dout in place of dxhat: multiply dout by gamma "
                "first (out = gamma * xhat + beta)",
                inv_std / n * (n * dout64 - dout64.sum(0) - xhat * (dout64 * xhat).sum(0)),
            ),
            Mistake(
                unbiased_hint,
                inv_std_u / n * (n * dxhat - dxhat.sum(0) - xhat_u * (dxhat * xhat_u).sum(0)),
            ),
        ]
        expect_close(
            dx,
            want_dx,
            name=f"batchnorm_backward's dx {case}",
            hint=BACKWARD_RULE,
            mistakes=mistakes,
            **tol,
        )
    _expect_own_code(source_tree, exercise, "batchnorm_backward", autograd=True)


@pytest.mark.needs_passing(
    "batchnorm_train_forward",
    "batchnorm_eval",
    "batchnorm_backward",
    "layernorm_forward",
    "dropout_masks",
)
def test_inputs_unchanged(submission, device, rng):
    """batch norm, its backward pass, layer norm and dropout leave their inputs as they were"""
    n, d = 8, 5
    x, (gamma, beta), (mean_r, var_r) = _features(rng, n, d), _affine(rng, d), _running(rng, d)
    dout = torch.randn(n, d, generator=rng, dtype=F64)
    x, gamma, beta, mean_r, var_r, dout = _on(device, F64, x, gamma, beta, mean_r, var_r, dout)
    running = (
        "return NEW running averages, built from the old ones ((1 - momentum) * {name} + ...); "
        "torch's BatchNorm1d updates its buffers in place, but this function must not"
    )
    names = ("x", "gamma", "beta")
    for training in (True, False):
        call_unchanged(
            submission,
            "batchnorm_forward",
            x,
            gamma,
            beta,
            mean_r,
            var_r,
            training,
            names=(*names, "running_mean", "running_var"),
            how=running,
        )
    call_unchanged(submission, "batchnorm_backward", dout, x, gamma, names=("dout", *names[:2]))
    call_unchanged(submission, "layernorm_forward", x, gamma, beta, names=names)
    call_unchanged(submission, "dropout_from_seed", x, 0.5, True, 0, names=("x",))


# ------------------------------------------------------------------------------- layer norm


def _torch_layernorm(x, gamma, beta, eps):
    layer = nn.LayerNorm(x.shape[-1], eps=eps, dtype=F64)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        return layer(x.to("cpu", F64))


@pytest.mark.points(2)
def test_layernorm_forward(submission, exercise, source_tree, device, rng):
    """layernorm_forward matches nn.LayerNorm, normalising each example over its own features"""
    for shape, eps, dtype in (((6, 10), 1e-5, F64), ((3, 4, 8), 1e-3, F64), ((5, 16), 1e-5, F32)):
        d = shape[-1]
        x = torch.randn(shape, generator=rng, dtype=F64) * 2 + torch.randn(
            shape[:-1] + (1,), generator=rng, dtype=F64
        )
        gamma, beta = _affine(rng, d)
        sent = _on(device, dtype, x, gamma, beta)
        x64, g, b = (t.to(F64).cpu() for t in sent)
        want = _torch_layernorm(x64, g, b, eps)
        got = tensor(shape, dtype, device)(
            submission.layernorm_forward(*sent, eps), f"layernorm_forward ({shape}, {dtype})"
        )
        mean = x64.mean(-1, keepdim=True)
        mistakes = [
            Mistake(
                "it matches each FEATURE normalised over the batch (dim 0), as batch norm "
                "does: layer norm normalises each example over its own features, dim=-1",
                g * (x64 - x64.mean(0)) / torch.sqrt(x64.var(0, correction=0) + eps) + b,
            ),
            Mistake(
                "it matches the output normalised with the UNBIASED variance (divide by D - 1); "
                "nn.LayerNorm divides by D",
                g * (x64 - mean) / torch.sqrt(x64.var(-1, keepdim=True) + eps) + b,
            ),
            Mistake(
                "it matches xhat without gamma and beta: finish with gamma * xhat + beta",
                (x64 - mean) / torch.sqrt(x64.var(-1, correction=0, keepdim=True) + eps),
            ),
        ]
        expect_close(
            got,
            want,
            name=f"layernorm_forward's output (shape {shape}, eps={eps:g}, {dtype})",
            hint=LAYERNORM_RULE,
            mistakes=mistakes,
            **TOLERANCE[dtype],
        )
    _expect_own_code(source_tree, exercise, "layernorm_forward")


def test_layernorm_gradients(submission, device, rng):
    """autograd through layernorm_forward gives nn.LayerNorm's gradients for x, gamma and beta"""
    shape, eps = (4, 7), 1e-5
    x = torch.randn(shape, generator=rng, dtype=F64) * 2 + 1
    gamma, beta = _affine(rng, shape[-1])
    dout = torch.randn(shape, generator=rng, dtype=F64)
    sent = _on(device, F64, x, gamma, beta, dout)
    forward = submission.layernorm_forward(*sent[:3])
    expect_close(
        forward,
        _torch_layernorm(x, gamma, beta, eps),
        name="layernorm_forward's output",
        hint="make layernorm_forward pass its own check first: these are its gradients",
        **F64_TOL,
    )
    result = submission.layernorm_gradients(*sent)
    grads = unpack(
        result,
        "layernorm_gradients (provided)",
        dx=tensor(shape),
        dgamma=tensor(shape[-1:]),
        dbeta=tensor(shape[-1:]),
    )

    def trusted(x_, gamma_, beta_):
        return F.layer_norm(x_, shape[-1:], gamma_, beta_, eps)

    wants = autograd_gradients(trusted, [x, gamma, beta], upstream=dout)
    for name, got, want in zip(("dx", "dgamma", "dbeta"), grads, wants, strict=True):
        expect_close(
            got,
            want,
            name=f"the {name} autograd finds through layernorm_forward",
            hint=(
                "your forward values are right, so autograd lost its way: build the output "
                "from tensor operations on x, gamma and beta themselves, without .detach(), "
                ".item(), .data, NumPy or torch.no_grad()"
            ),
            **F64_TOL,
        )


# ---------------------------------------------------------------------------------- dropout


def _dropout(submission, x: torch.Tensor, p: float, training: bool, seed: int) -> torch.Tensor:
    got = submission.dropout_from_seed(x, p, training, seed)
    return tensor(x.shape, x.dtype, x.device)(got, f"dropout(p={p}, training={training})")


def _mask_seed(rng: torch.Generator) -> int:
    """A seed for a mask's generator, drawn here: the mask must not replay the draws of x."""
    return int(torch.randint(2**31, (), generator=rng))


def _positive(rng: torch.Generator, *shape: int) -> torch.Tensor:
    """Values in [0.5, 1.5]: never 0, so a 0 in the output can only be a dropped entry."""
    return 0.5 + torch.rand(shape, generator=rng, dtype=F64)


@pytest.mark.needs_passing("dropout_masks")
def test_dropout_identity(submission, device, rng):
    """dropout returns x as it is in evaluation mode and with p = 0"""
    x = _positive(rng, 50, 40).to(device)
    for p, training in ((0.5, False), (0.0, True)):
        got = _dropout(submission, x, p, training, _mask_seed(rng))
        dropped = int((got == 0).sum())
        if not training and dropped:
            raise CheckFailure(
                f"dropout(p=0.5, training=False) zeroed {dropped} of {x.numel()} entries; in "
                "evaluation mode dropout does nothing: return x"
            )
        assert_equal(
            got,
            x,
            name=f"dropout(p={p}, training={training})",
            hint=(
                "in evaluation mode nothing is dropped or scaled (the scaling already happened "
                "while training)"
                if not training
                else "with p = 0 every entry is kept and 1 / (1 - 0) = 1"
            ),
        )


@pytest.mark.points(2)
def test_dropout_masks(submission, exercise, source_tree, device, rng):
    """dropout drops a fraction p, scales the rest by 1/(1-p) and draws from its generator"""
    x = _positive(rng, 400, 250).to(device)
    seed = _mask_seed(rng)
    for p, dtype in ((0.3, F64), (0.75, F64), (0.5, F32)):  # float32: the dtype is kept
        sent = x.to(dtype)
        got = _dropout(submission, sent, p, True, seed)
        kept = got != 0
        rate = 1 - float(kept.double().mean())
        if abs(rate - p) > 0.01:
            flipped = abs(rate - (1 - p)) <= 0.01
            raise CheckFailure(
                f"dropout(p={p}) dropped a fraction {rate:.3f} of the {x.numel()} entries, "
                f"expected {p} (within 0.01); "
                + (
                    "that is 1 - p: p is the probability of DROPPING an entry"
                    if flipped
                    else "drop each entry independently with probability p"
                )
            )
        scaled = got[kept].cpu()
        unscaled = sent[kept].cpu().to(F64)
        expect_close(
            scaled,
            unscaled / (1 - p),
            name=f"dropout(p={p})'s output at the kept entries"
            + ("" if dtype == F64 else f" (x in {dtype})"),
            hint=DROPOUT_RULE,
            mistakes=[
                Mistake(
                    "they equal x unscaled: divide the kept entries by (1 - p), so that the "
                    "expected output equals x (inverted dropout)",
                    unscaled,
                ),
                Mistake(
                    "they are x * (1 - p): divide by (1 - p), do not multiply",
                    unscaled * (1 - p),
                ),
            ],
            **TOLERANCE[dtype],
        )
    first = _dropout(submission, x, 0.3, True, seed)
    again = _dropout(submission, x, 0.3, True, seed)
    if not torch.equal(again.cpu(), first.cpu()):
        raise CheckFailure(
            "dropout gave two different masks for two generators seeded alike; take every "
            "random draw from the generator you were given (generator=generator), not from "
            "torch's global random state"
        )
    other = _dropout(submission, x, 0.3, True, seed + 1)
    if float((other != first).double().mean()) < 0.1:
        raise CheckFailure(
            "dropout gave the same mask for generators with different seeds; draw the mask "
            "from the generator you were given"
        )
    _expect_own_code(source_tree, exercise, "dropout")


@pytest.mark.needs_passing("dropout_masks")
def test_dropout_expected_value(submission, device, rng):
    """dropout keeps the expected value: the mean over 25 draws of 20,000 entries equals x's"""
    x = _positive(rng, 200, 100).to(device)
    draws = 25
    for p in (0.5, 0.2):
        total = sum(_dropout(submission, x, p, True, _mask_seed(rng)) for _ in range(draws))
        ratio = float(total.sum()) / draws / float(x.sum())
        # Relative spread of this mean at p = 0.5: about 0.0015, so 0.01 is over 6 of them.
        if abs(ratio - 1) > 0.01:
            cause = (
                " without the 1/(1-p) scaling the mean would be 1 - p times x"
                if abs(ratio - (1 - p)) <= 0.01
                else ""
            )
            raise CheckFailure(
                f"with p={p}, the mean of dropout's output over {draws} draws is "
                f"{ratio:.4f} times x's, expected 1 (within 0.01):{cause or ' ' + DROPOUT_RULE}"
            )


# ----------------------------------------------------------------------------- initialisation


def test_init_gain(submission, exercise, source_tree):
    """init_gain gives nn.init.calculate_gain's gains for linear, sigmoid, tanh, relu, leaky_relu"""
    for args in (
        ("linear",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
    ):
        call = f"init_gain({', '.join(map(repr, args))})"
        got = py_float(submission.init_gain(*args), call)
        want = nn.init.calculate_gain(*args)
        mistakes = [
            Mistake("it is the gain squared (the factor of the variance): take its square root",
                    want**2),
        ]  # fmt: skip
        expect_close(
            got,
            want,
            name=call,
            hint="1 for linear and sigmoid, 5/3 for tanh, sqrt(2) for relu, "
            "sqrt(2 / (1 + negative_slope**2)) for leaky_relu",
            mistakes=[] if want == 1 else mistakes,
            rtol=1e-12,
            atol=1e-12,
        )
    _expect_own_code(source_tree, exercise, "init_gain")


def _draws(submission, function: str, fan_in: int, fan_out: int, gain: float, seed, device):
    call = f"{function}(fan_in={fan_in}, fan_out={fan_out}, gain={gain:.4g})"
    got = submission.call(f"{function}_from_seed", fan_in, fan_out, gain, seed, str(device))
    return tensor((fan_out, fan_in), F32, device)(got, call).cpu().to(F64), call


def _expect_reproducible(submission, function, got, seed, device) -> None:
    fan_out, fan_in = got.shape
    again, _ = _draws(submission, function, fan_in, fan_out, 1.0, seed, device)
    first, _ = _draws(submission, function, fan_in, fan_out, 1.0, seed + 1, device)
    repeat, _ = _draws(submission, function, fan_in, fan_out, 1.0, seed + 1, device)
    if not torch.equal(first, repeat):
        raise CheckFailure(
            f"{function} gave different weights for two generators seeded alike; take the "
            "draws from the generator you were given, not torch's global random state"
        )
    if torch.equal(first, again):
        raise CheckFailure(f"{function} gave the same weights for different seeds")


def _variance_message(call: str, got_var: float, want_var: float, formula: str, causes) -> str:
    cause = likely_mistake(got_var / want_var, causes, rtol=0.05, atol=0.0)
    return (
        f"{call} drew weights of variance {fmt_number(got_var)}, expected "
        f"{fmt_number(want_var)} = {formula} (within 5%)" + (f": {cause}" if cause else "")
    )


@pytest.mark.points(2)
def test_xavier_uniform(submission, exercise, source_tree, device, seed):
    """xavier_uniform draws uniformly from [-a, a], a = gain * sqrt(6 / (fan_in + fan_out))"""
    for fan_in, fan_out, gain in ((256, 128, 1.0), (64, 512, 5 / 3), (784, 32, math.sqrt(2))):
        w, call = _draws(submission, "xavier_uniform", fan_in, fan_out, gain, seed, device)
        bound = gain * math.sqrt(6 / (fan_in + fan_out))
        want_var = bound**2 / 3
        largest, smallest = float(w.max()), float(w.min())
        if largest > bound * (1 + 1e-6) or smallest < -bound * (1 + 1e-6):
            raise CheckFailure(
                f"{call} drew values from {smallest:.4g} to {largest:.4g}, outside [-a, a] with "
                f"a = gain * sqrt(6 / (fan_in + fan_out)) = {bound:.4g}; draw uniformly "
                "from that interval"
            )
        if largest < 0.98 * bound or smallest > -0.98 * bound:
            side = "negative" if smallest > -0.98 * bound else "positive"
            raise CheckFailure(
                f"{call} drew values from {smallest:.4g} to {largest:.4g}; uniform draws on "
                f"[-a, a] with a = {bound:.4g} reach close to both ends, but the {side} end is "
                "never reached: scale and shift uniform draws on [0, 1) onto [-a, a]"
            )
        got_var = float(w.var())
        if abs(got_var / want_var - 1) > 0.05:
            causes = [
                Mistake("the gain is missing: multiply a by gain", 1 / gain**2),
                Mistake(
                    "that is the variance of a uniform on [-a, a] with a = gain * sqrt(2 / "
                    "(fan_in + fan_out)), the normal's standard deviation; the uniform's "
                    "bound is sqrt(3) times larger",
                    1 / 3,
                ),
            ]
            raise CheckFailure(
                _variance_message(
                    call, got_var, want_var, "a**2 / 3", causes if gain != 1 else causes[1:]
                )
            )
    _expect_reproducible(submission, "xavier_uniform", w, seed, device)
    _expect_own_code(source_tree, exercise, "xavier_uniform")


@pytest.mark.points(2)
def test_kaiming_normal(submission, exercise, source_tree, device, seed):
    """kaiming_normal draws normal weights of standard deviation gain / sqrt(fan_in)"""
    for fan_in, fan_out, gain in (
        (512, 128, math.sqrt(2)),
        (100, 400, math.sqrt(2)),
        (300, 150, 5 / 3),
    ):
        w, call = _draws(submission, "kaiming_normal", fan_in, fan_out, gain, seed, device)
        want_var = gain**2 / fan_in
        got_var = float(w.var())
        if abs(got_var / want_var - 1) > 0.05:
            causes = [
                Mistake(
                    "that is gain**2 / fan_out: He initialisation divides by fan_in, the "
                    "number of inputs each output sums",
                    fan_in / fan_out,
                ),
                Mistake(
                    "the gain is missing: for a ReLU layer the variance is 2 / fan_in, not "
                    "1 / fan_in",
                    1 / gain**2,
                ),
                Mistake(
                    "that is 2 * gain**2 / fan_in: the 2 of ReLU's variance 2 / fan_in is the "
                    "gain squared, so it is already in gain; std = gain / sqrt(fan_in)",
                    2.0,
                ),
                Mistake(
                    "that is (gain**2 / fan_in)**2: gain / sqrt(fan_in) is the standard "
                    "deviation, multiply the standard normal draws by it (not by its square)",
                    want_var,
                ),
            ]
            raise CheckFailure(
                _variance_message(call, got_var, want_var, "gain**2 / fan_in", causes)
            )
        std = math.sqrt(want_var)
        mean = float(w.mean())
        if abs(mean) > 5 * std / math.sqrt(w.numel()):
            raise CheckFailure(f"{call} drew weights of mean {mean:.4g}, expected 0")
        tail = float((w.abs() > 2 * std).double().mean())
        if abs(tail - 0.0455) > 0.01:
            raise CheckFailure(
                f"{call}: {tail:.2%} of the weights lie beyond 2 standard deviations, where a "
                "normal distribution puts 4.55%; draw from a normal distribution "
                "(standard normal draws times the standard deviation)"
            )
    _expect_reproducible(submission, "kaiming_normal", w, seed, device)
    _expect_own_code(source_tree, exercise, "kaiming_normal")


# --------------------------------------------------------------------------------- training


@functools.lru_cache(maxsize=1)
def _digit_split() -> tuple[torch.Tensor, ...]:
    """Digits with pixels in [0, 1]: X_train, y_train, X_held_out, y_held_out (fixed split)."""
    return digits_split(HELD_OUT, seed=SPLIT_SEED)


def _start_weights(rng: torch.Generator) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """nn.Linear's default start for every layer: uniform on +-1/sqrt(fan_in)."""
    sizes = [64] + [WIDTH] * DEPTH + [CLASSES]
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / math.sqrt(fan_in)
        weights.append((2 * torch.rand(fan_out, fan_in, generator=rng) - 1) * bound)
        biases.append((2 * torch.rand(fan_out, generator=rng) - 1) * bound)
    return weights, biases


def _expect_layers(value: Any, name: str, like: list[torch.Tensor], device) -> list[torch.Tensor]:
    if type(value) not in (list, tuple) or len(value) != len(like):
        raise CheckFailure(
            f"train_deep_networks (provided) returned {name} of the wrong kind; restore it"
        )
    return [
        tensor(t.shape, t.dtype, device)(v, f"{name}[{k}]").cpu()
        for k, (v, t) in enumerate(zip(value, like, strict=True))
    ]


def _held_out(run: dict[str, list[torch.Tensor]], X: torch.Tensor, y: torch.Tensor):
    """Trusted: held-out loss and accuracy, batch norm (if any) in evaluation mode."""
    h = X
    with torch.no_grad():
        for k in range(DEPTH):
            h = h @ run["weights"][k].T + run["biases"][k]
            if "gammas" in run:
                h = F.batch_norm(
                    h, run["running_means"][k], run["running_vars"][k],
                    run["gammas"][k], run["betas"][k], training=False, eps=1e-5,
                )  # fmt: skip
            h = torch.sigmoid(h)
        scores = h @ run["weights"][-1].T + run["biases"][-1]
        loss = float(F.cross_entropy(scores, y))
        accuracy = float((scores.argmax(1) == y).double().mean())
    return loss, accuracy


@pytest.mark.points(2)
def test_trains_deep_network(submission, device, rng, seed, metrics):
    """with your batch norm a deep sigmoid network learns the digits; without it, it does not"""
    X_train, y_train, X_held, y_held = _digit_split()
    weights, biases = _start_weights(rng)
    result = submission.call_logged(
        "train_deep_networks",
        [w.to(device) for w in weights],
        [b.to(device) for b in biases],
        X_train.to(device),
        y_train.to(device),
        **TRAIN_SETTINGS,
        seed=seed,
        log=metrics.emit,
        timeout=TRAIN_TIMEOUT,
    )
    with_bn, without = unpack_dict(
        result,
        "train_deep_networks (provided)",
        **{"with batch norm": anything, "without": anything},
    )
    hidden = biases[:DEPTH]
    parts = {
        "weights": weights,
        "biases": biases,
        "gammas": hidden,
        "betas": hidden,
        "running_means": hidden,
        "running_vars": hidden,
    }
    runs = {}
    for label, run, keys in (
        ("with batch norm", with_bn, tuple(parts)),
        ("without", without, ("weights", "biases")),
    ):
        if type(run) is not dict or set(run) != set(keys):
            raise CheckFailure(
                f"train_deep_networks (provided) returned a {label!r} run of the wrong kind; "
                "restore it"
            )
        runs[label] = {key: _expect_layers(run[key], key, parts[key], device) for key in keys}
    bn_loss, bn_accuracy = _held_out(runs["with batch norm"], X_held, y_held)
    plain_loss, plain_accuracy = _held_out(runs["without"], X_held, y_held)
    story = (
        f"after {TRAIN_SETTINGS['steps']} steps the network with your batch norm classifies "
        f"{bn_accuracy:.1%} of {HELD_OUT} held-out digits (loss {bn_loss:.3f}), the same "
        f"network without it {plain_accuracy:.1%} (loss {plain_loss:.3f}), measured here"
    )
    if bn_accuracy < MIN_ACCURACY or bn_accuracy < plain_accuracy + MIN_LEAD:
        raise CheckFailure(
            f"{story}; expected at least {MIN_ACCURACY:.0%} and {MIN_LEAD:.0%} more than "
            "without. The training uses your batchnorm_forward (training mode, running "
            "averages) and batchnorm_backward, and evaluates with your running averages: "
            "make their checks pass first"
        )
