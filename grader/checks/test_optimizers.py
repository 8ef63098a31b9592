"""Checks for the optimizers exercise: step functions against torch.optim, clipping, training."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
import torch
from sklearn.datasets import load_diabetes

from grader.codec import type_name
from grader.compare import assert_close, assert_number_close, expect_tensor
from grader.errors import CheckFailure

pytestmark = pytest.mark.exercise("optimizers")

F32, F64 = torch.float32, torch.float64
STEPS = 100
SHAPES = {"weight": (3, 4), "bias": (3,)}
# float64 runs of the same formulas agree to ~1e-15; 1e-7 leaves room for a different but
# equivalent order of operations, and is far below what any mistake in a formula gives.
TRAJECTORY_TOL: dict[str, Any] = {"rtol": 1e-7, "atol": 1e-10}
F32_TOL = {"rtol": 1e-5, "atol": 1e-6}

Tensors = dict[str, torch.Tensor]
GradFn = Callable[[Tensors], Tensors]

HINTS = {
    "sgd_step": "g = grad + weight_decay * p, then p - lr * g",
    "momentum_step": (
        "g = grad + weight_decay * p; v = momentum * v + g (v starts at zeros); "
        "then p - lr * v, or p - lr * (g + momentum * v) with nesterov=True"
    ),
    "adam_step": (
        "count the step first (t = 1 on the first call); m = b1*m + (1-b1)*g, "
        "v = b2*v + (1-b2)*g**2; divide by (1 - b1**t) and (1 - b2**t); "
        "p - lr * m_hat / (sqrt(v_hat) + eps), with eps outside the square root"
    ),
}


# ------------------------------------------------------------------------------------ helpers


def _quadratic(rng: torch.Generator, device: torch.device, scale: float = 1.0):
    """A start point and the gradient of loss = scale * sum(0.5 * h * (p - c)**2) over names."""
    start, centre, curvature = {}, {}, {}
    for name, shape in SHAPES.items():
        start[name] = torch.randn(shape, generator=rng, dtype=F64).to(device)
        centre[name] = torch.randn(shape, generator=rng, dtype=F64).to(device)
        curvature[name] = (0.5 + 2.5 * torch.rand(shape, generator=rng, dtype=F64)).to(device)

    def grad_fn(params: Tensors) -> Tensors:
        return {n: scale * curvature[n] * (params[n] - centre[n]) for n in SHAPES}

    return start, grad_fn


def _torch_run(optimizer: Callable[..., Any], start: Tensors, grad_fn: GradFn, steps: int):
    """The parameters after each of `steps` steps of a torch.optim optimizer, fed by grad_fn."""
    leaves = {n: p.detach().clone().requires_grad_(True) for n, p in start.items()}
    opt = optimizer(list(leaves.values()))
    history = []
    for _ in range(steps):
        grads = grad_fn({n: p.detach() for n, p in leaves.items()})
        for name, leaf in leaves.items():
            leaf.grad = grads[name].clone()
        opt.step()
        history.append({n: p.detach().clone() for n, p in leaves.items()})
    return history


def _expect_tensors(value: Any, like: Tensors, what: str) -> Tensors:
    """Check that `value` is a dict with the names of `like`, each a tensor shaped like it."""
    if type(value) is not dict:
        raise CheckFailure(f"{what} should be a dict {{name: tensor}}, got {type_name(value)}")
    if set(value) != set(like):
        missing, extra = sorted(set(like) - set(value)), sorted(set(value) - set(like))
        raise CheckFailure(
            f"{what} has the names {sorted(value)}, expected {sorted(like)} "
            f"(missing {missing}, unexpected {extra}); keep one entry per parameter"
        )
    for name, tensor in like.items():
        expect_tensor(
            value[name],
            name=f"{what}[{name!r}]",
            shape=tensor.shape,
            dtype=tensor.dtype,
            device=tensor.device,
        )
    return value


def _step(submission, function: str, params: Tensors, grads: Tensors, state: Any, **hyper):
    """One learner step, with the shape of what it returns checked."""
    result = submission.call(function, params, grads, state, **hyper)
    if type(result) is not tuple or len(result) != 2:
        raise CheckFailure(
            f"{function} should return a tuple (new_params, new_state), got {type_name(result)}"
        )
    new_params = _expect_tensors(result[0], params, f"{function}'s new_params")
    if type(result[1]) is not dict:
        raise CheckFailure(
            f"{function}'s new_state should be a dict, got {type_name(result[1])}; "
            "return the state even when the optimizer keeps nothing in it"
        )
    return new_params, result[1]


def _follow(submission, function: str, hyper: dict, optimizer, start, grad_fn, label: str):
    """Run the learner's steps next to torch's for STEPS steps; fail at the first difference."""
    expected = _torch_run(optimizer, start, grad_fn, STEPS)
    params, state = start, dict[str, Any]()
    for step, want in enumerate(expected, start=1):
        params, state = _step(submission, function, params, grad_fn(params), state, **hyper)
        for name in SHAPES:
            assert_close(
                params[name],
                want[name],
                name=f"{function} ({label}): {name} after step {step}",
                dtype=F64,
                **TRAJECTORY_TOL,
                hint=HINTS[function],
            )


def _find_change(before: Any, after: Any, path: str) -> str | None:
    """The path of the first value that differs between two decoded values, or None."""
    if type(before) is dict:
        if type(after) is not dict or set(before) != set(after):
            return path
        for key in before:
            changed = _find_change(before[key], after[key], f"{path}[{key!r}]")
            if changed:
                return changed
        return None
    if type(before) is torch.Tensor:
        same = type(after) is torch.Tensor and after.shape == before.shape
        return None if same and torch.equal(after.cpu(), before.cpu()) else path
    return None if type(after) is type(before) and after == before else path


# ------------------------------------------------------------------------------------- checks


def test_weight_decay(submission, device, rng):
    """apply_weight_decay adds weight_decay * p to each gradient"""
    params = {n: torch.randn(s, generator=rng).to(device) for n, s in SHAPES.items()}
    grads = {n: torch.randn(s, generator=rng).to(device) for n, s in SHAPES.items()}
    for weight_decay in (0.0, 0.05):
        got = submission.apply_weight_decay(params, grads, weight_decay)
        _expect_tensors(got, params, f"apply_weight_decay(weight_decay={weight_decay})")
        for name in SHAPES:
            assert_close(
                got[name],
                grads[name] + weight_decay * params[name],
                name=f"apply_weight_decay(weight_decay={weight_decay})[{name!r}]",
                **F32_TOL,
                hint="g + weight_decay * p: the gradient of the extra (wd / 2) * p**2",
            )


def test_sgd_step(submission, device, rng):
    """sgd_step matches one step of torch.optim.SGD, with and without weight decay"""
    start, grad_fn = _quadratic(rng, device)
    start32 = {n: p.float() for n, p in start.items()}

    def grads32(params: Tensors) -> Tensors:
        return {
            n: g.float() for n, g in grad_fn({n: p.double() for n, p in params.items()}).items()
        }

    for weight_decay in (0.0, 0.1):
        want = _torch_run(
            lambda ps, wd=weight_decay: torch.optim.SGD(ps, lr=0.1, weight_decay=wd),
            start32,
            grads32,
            1,
        )[0]
        got, _ = _step(
            submission, "sgd_step", start32, grads32(start32), {}, lr=0.1,
            weight_decay=weight_decay,
        )  # fmt: skip
        for name in SHAPES:
            assert_close(
                got[name],
                want[name],
                name=f"sgd_step (lr=0.1, weight_decay={weight_decay}): {name}",
                dtype=F32,
                **F32_TOL,
                hint=HINTS["sgd_step"],
            )


@pytest.mark.points(2)
def test_momentum_steps(submission, device, rng):
    """momentum_step follows torch.optim.SGD(momentum=0.9) for 100 steps"""
    start, grad_fn = _quadratic(rng, device)
    for weight_decay in (0.0, 0.05):
        hyper = {"lr": 0.05, "momentum": 0.9, "weight_decay": weight_decay}
        _follow(
            submission,
            "momentum_step",
            hyper,
            lambda ps, h=hyper: torch.optim.SGD(ps, **h),
            start,
            grad_fn,
            f"momentum=0.9, weight_decay={weight_decay}",
        )


def test_nesterov_steps(submission, device, rng):
    """momentum_step with nesterov=True follows torch.optim.SGD(nesterov=True) for 100 steps"""
    start, grad_fn = _quadratic(rng, device)
    hyper = {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01, "nesterov": True}
    _follow(
        submission,
        "momentum_step",
        hyper,
        lambda ps: torch.optim.SGD(ps, **hyper),
        start,
        grad_fn,
        "nesterov, momentum=0.8, weight_decay=0.01",
    )


@pytest.mark.points(2)
def test_adam_steps(submission, device, rng):
    """adam_step follows torch.optim.Adam for 100 steps, with and without weight decay"""
    start, grad_fn = _quadratic(rng, device)
    cases = (
        {"lr": 0.05},
        {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.05},
    )
    for hyper in cases:
        label = ", ".join(f"{key}={value}" for key, value in hyper.items())
        _follow(
            submission,
            "adam_step",
            hyper,
            lambda ps, h=hyper: torch.optim.Adam(ps, **h),
            start,
            grad_fn,
            label,
        )


def test_adam_small_gradients(submission, device, rng):
    """adam_step matches torch.optim.Adam when every gradient is 10,000 times smaller"""
    start, grad_fn = _quadratic(rng, device, scale=1e-4)
    _follow(
        submission,
        "adam_step",
        {"lr": 0.05},
        lambda ps: torch.optim.Adam(ps, lr=0.05),
        start,
        grad_fn,
        "gradients of size about 1e-4, where eps = 1e-8 is no longer negligible",
    )


def test_inputs_unchanged(submission, device, rng):
    """the step functions and clip_grad_norm leave their arguments as they were"""
    start, grad_fn = _quadratic(rng, device)
    calls = (
        ("sgd_step", {"lr": 0.1, "weight_decay": 0.01}),
        ("momentum_step", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
        ("adam_step", {"lr": 0.05, "weight_decay": 0.01}),
    )
    for function, hyper in calls:
        params, state = start, dict[str, Any]()
        # Three steps: from the second on, the state holds tensors that could be modified.
        for _ in range(3):
            grads = grad_fn(params)
            _, after = submission.call_with_inputs(function, params, grads, state, **hyper)
            for label, before, now in zip(
                ("params", "grads", "state"), (params, grads, state), after, strict=True
            ):
                changed = _find_change(before, now, label)
                if changed:
                    raise CheckFailure(
                        f"{function} modified its argument {changed} in place; build new "
                        "tensors and new dicts (p - lr * v, not p.sub_(...) or p -= ...; "
                        "{**state, ...}, not state[...] = ...)"
                    )
            params, state = _step(submission, function, params, grads, state, **hyper)
    grads = grad_fn(start)
    _, after = submission.call_with_inputs("clip_grad_norm", grads, 0.1)
    changed = _find_change(grads, after[0], "grads")
    if changed:
        raise CheckFailure(
            f"clip_grad_norm modified its argument {changed} in place (as torch's "
            "clip_grad_norm_ does); return new tensors g * scale instead"
        )


def test_clip_grad_norm(submission, device, rng):
    """clip_grad_norm matches torch.nn.utils.clip_grad_norm_ above and below the threshold"""
    grads = {
        "weight": torch.randn(5, 3, generator=rng, dtype=F64).to(device),
        "bias": 3 * torch.randn(5, generator=rng, dtype=F64).to(device),
    }
    total = float(torch.cat([g.reshape(-1) for g in grads.values()]).norm())
    for dtype in (F64, F32):
        for max_norm, label in ((total / 4, "clipped"), (total * 2, "below the threshold")):
            leaves = [g.to(dtype).clone().requires_grad_(True) for g in grads.values()]
            for leaf, g in zip(leaves, grads.values(), strict=True):
                leaf.grad = g.to(dtype).clone()
            want_total = torch.nn.utils.clip_grad_norm_(leaves, max_norm)
            case = f"clip_grad_norm with max_norm = {max_norm:.4g} ({label}, {dtype})"
            result = submission.clip_grad_norm({n: g.to(dtype) for n, g in grads.items()}, max_norm)
            if type(result) is not tuple or len(result) != 2:
                raise CheckFailure(
                    f"clip_grad_norm should return a tuple (new_grads, total_norm), "
                    f"got {type_name(result)}"
                )
            got = _expect_tensors(
                result[0], {n: g.to(dtype) for n, g in grads.items()}, f"{case}: new_grads"
            )
            assert_number_close(
                result[1],
                float(want_total),
                name=f"{case}: total_norm",
                rtol=1e-5,
                hint="the norm of all gradients together, sqrt of the sum of every g**2",
            )
            want = {n: leaf.grad for n, leaf in zip(grads, leaves, strict=True)}
            for name in grads:
                assert_close(
                    got[name],
                    want[name],
                    name=f"{case}: new_grads[{name!r}]",
                    rtol=1e-5 if dtype == F32 else 1e-10,
                    atol=1e-7 if dtype == F32 else 1e-12,
                    hint="one scale min(1, max_norm / (total + 1e-6)) for every tensor, "
                    "from the global norm, not each tensor's own norm",
                )


# ----------------------------------------------------------------------------------- training

TRAIN_STEPS = 50
LOSS_TARGET = 0.5  # the start (all zeros) has loss 1.0; least squares reaches 0.481
OPTIMIZERS = (
    ("sgd", "sgd_step", {"lr": 0.1}),
    ("momentum", "momentum_step", {"lr": 0.05, "momentum": 0.9}),
    ("adam", "adam_step", {"lr": 0.1}),
)


@functools.lru_cache(maxsize=1)
def _diabetes() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's diabetes data, features and target standardized to mean 0, std 1."""
    features, target = load_diabetes(return_X_y=True)
    X, y = torch.tensor(features, dtype=F64), torch.tensor(target, dtype=F64)
    return (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()


def _mse_and_grads(params: Tensors, X: torch.Tensor, y: torch.Tensor) -> tuple[float, Tensors]:
    """Mean squared error of the linear model X @ weight + bias, and its exact gradient."""
    residual = X @ params["weight"] + params["bias"] - y
    grads = {"weight": 2 * X.T @ residual / len(y), "bias": 2 * residual.mean()}
    return float((residual**2).mean()), grads


@pytest.mark.points(2)
def test_trains_linear_regression(submission, device, metrics):
    """each optimizer fits a linear regression on the diabetes data in 50 steps"""
    X, y = (t.to(device) for t in _diabetes())
    for series, function, hyper in OPTIMIZERS:
        params = {
            "weight": torch.zeros(X.shape[1], dtype=F64, device=device),
            "bias": torch.zeros((), dtype=F64, device=device),
        }
        state: dict = {}
        loss, grads = _mse_and_grads(params, X, y)
        metrics.emit(f"{series} loss", loss, step=0)
        for step in range(1, TRAIN_STEPS + 1):
            params, state = _step(submission, function, params, grads, state, **hyper)
            loss, grads = _mse_and_grads(params, X, y)
            metrics.emit(f"{series} loss", loss, step=step)
        if not loss < LOSS_TARGET:
            settings = ", ".join(f"{key}={value}" for key, value in hyper.items())
            raise CheckFailure(
                f"after {TRAIN_STEPS} steps of {function} ({settings}) the mean squared error "
                f"is {loss:.4g}; a correct {series} gets below {LOSS_TARGET} (it starts at "
                "1.0 and the best possible is 0.481)"
            )
