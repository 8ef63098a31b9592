"""Checks for the optimizers exercise: step functions against torch.optim, clipping, training."""

import functools
from collections.abc import Callable
from typing import Any

import pytest
import torch

from grader import kit
from grader.kit import CheckFailure, Mistake, anything

pytestmark = pytest.mark.exercise("optimizers")

F32, F64 = torch.float32, torch.float64
STEPS = 100
SHAPES = {"weight": (3, 4), "bias": (3,)}
# float64 runs of the same formulas agree to ~1e-15; 1e-7 leaves room for a different but
# equivalent order of operations, and is far below what any mistake in a formula gives.
TOLERANCE = {F64: {"rtol": 1e-7, "atol": 1e-10}, F32: {"rtol": 1e-5, "atol": 1e-6}}

Tensors = dict[str, torch.Tensor]
GradFn = Callable[[Tensors], Tensors]

RULES = {
    "sgd_step": "g = grad + weight_decay * p, then p_new = p - lr * g",
    "momentum_step": "g = grad + weight_decay * p; v_new = momentum * v + g (v starts at "
    "zeros); p_new = p - lr * v_new, or p - lr * (g + momentum * v_new) with nesterov=True",
    "adam_step": "with t the number of this step (1 on the first): g = grad + weight_decay * "
    "p; m and v average g and g**2 (from zeros), corrected by (1 - beta1**t) and "
    "(1 - beta2**t); p_new = p - lr * m_hat / (sqrt(v_hat) + eps)",
}
# Known mistakes (each a change to the docstring's formulas, made in _trusted_run), with the
# hint given when a learner's parameters reproduce one; a mistake that does not concern a
# step leaves its formulas as they are.
MISTAKES = {
    "no_decay": "weight_decay is ignored: g = grad + weight_decay * p",
    "decay_sign": "the decay term has the wrong sign: g = grad + weight_decay * p",
    "decay_without_lr": "weight_decay * p is taken off p without lr; it belongs in g, which the "
    "step scales by lr",
    "velocity_from_p": "the velocity is built from the parameter: v_new = momentum * v + g, "
    "with v the old velocity from the state",
    "dampening": "g enters the velocity times (1 - momentum); torch.optim's adds g as it is",
    "state_ignored": "each step starts its running values from zeros: take them from the state",
    "nesterov_ignored": "with nesterov=True the step goes along g + momentum * v_new, not v_new",
    "eps_inside": "your eps is inside the square root; it belongs outside it, added to sqrt(v_hat)",
    "no_bias_correction": "m and v lack the bias correction by (1 - beta1**t), (1 - beta2**t)",
    "late_count": "the first step counts as t = 1 (1 - beta1**0 is 0): count before correcting",
}
READY_MADE = kit.Shortcuts(
    "torch's own optimizers and clipping",
    names={"torch.optim", "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_norm",
           "torch.nn.utils.clip_grad", "torch.nn.utils.get_total_norm",
           "torch.nn.utils.clip_grads_with_norm_"},
)  # fmt: skip
IN_PLACE = (
    "build new tensors and new dicts (p - lr * v, not p -= ... or p.sub_(...); "
    "{**state, ...}, not state[...] = ...) so the caller's {name} keeps its values"
)


def _quadratic(rng: torch.Generator, device: torch.device, scale: float = 1.0, dtype=F64):
    """A start point and the gradient of loss = scale * sum(0.5 * h * (p - c)**2) over names."""
    start, centre, curvature = {}, {}, {}
    for name, shape in SHAPES.items():
        start[name] = torch.randn(shape, generator=rng, dtype=F64).to(device, dtype)
        centre[name] = torch.randn(shape, generator=rng, dtype=F64).to(device)
        curvature[name] = (0.5 + 2.5 * torch.rand(shape, generator=rng, dtype=F64)).to(device)

    def grad_fn(params: Tensors) -> Tensors:  # computed in float64, returned in params' dtype
        grads = {n: scale * curvature[n] * (params[n].to(F64) - centre[n]) for n in SHAPES}
        return {n: g.to(params[n].dtype) for n, g in grads.items()}

    return start, grad_fn


def _trusted_run(function: str, hyper: dict, start: Tensors, grad_fn: GradFn, steps: int,
                 mistake: str, name: str) -> torch.Tensor:  # fmt: skip
    """Parameter `name` after `steps` steps of the docstring's formulas made with one mistake."""
    h = {"momentum": 0.0, "weight_decay": 0.0, "nesterov": False, "betas": (0.9, 0.999),
         "eps": 1e-8, **hyper}  # fmt: skip
    (b1, b2), mu, keep = h["betas"], h["momentum"], 0.0 if mistake == "state_ignored" else 1.0
    decay = {"no_decay": 0.0, "decay_without_lr": 0.0, "decay_sign": -h["weight_decay"]}
    wd = decay.get(mistake, h["weight_decay"])
    params, m, v = start, {n: 0 * p for n, p in start.items()}, {n: 0 * p for n, p in start.items()}
    for t in range(1, steps + 1):
        grads, new = grad_fn(params), {}
        for n, p in params.items():
            g = grads[n] + wd * p
            if function == "adam_step":
                m[n], v[n] = keep * b1 * m[n] + (1 - b1) * g, keep * b2 * v[n] + (1 - b2) * g * g
                k = 1 if mistake == "state_ignored" else t - (mistake == "late_count")
                m_hat, v_hat = m[n] / (1 - b1**k), v[n] / (1 - b2**k)
                if mistake == "no_bias_correction":
                    m_hat, v_hat = m[n], v[n]
                inside = mistake == "eps_inside"
                step = m_hat / ((v_hat + h["eps"]).sqrt() if inside else v_hat.sqrt() + h["eps"])
            elif function == "momentum_step":
                old = p if mistake == "velocity_from_p" else keep * m[n]
                m[n] = mu * old + (1 - mu if mistake == "dampening" else 1.0) * g
                step = g + mu * m[n] if h["nesterov"] and mistake != "nesterov_ignored" else m[n]
            else:
                step = g
            taken_off = h["weight_decay"] * p if mistake == "decay_without_lr" else 0.0
            new[n] = p - h["lr"] * step - taken_off
        params = new
    return params[name]


def _tensors(value: Any, what: str, like: Tensors, verb: str = "return") -> Tensors:
    """A dict with the names of `like`, each a tensor of its shape, dtype and device."""
    kinds: dict[str, Any] = {n: kit.tensor(t.shape, t.dtype, t.device) for n, t in like.items()}
    return dict(zip(like, kit.unpack_dict(value, what, verb=verb, **kinds), strict=True))


def _step(result: Any, function: str, params: Tensors) -> tuple[Tensors, dict]:
    """A step's (new_params, new_state), checked: new_params shaped like params."""
    new_params, state = kit.unpack(result, function, new_params=anything, new_state=anything)
    if type(state) is not dict:
        raise CheckFailure(f"{function}'s new_state should be a dict, got {kit.describe(state)}; "
                           "return it even when the optimizer keeps nothing in it")  # fmt: skip
    return _tensors(new_params, f"{function}'s new_params", params, verb="be"), state


def _follow(submission, function: str, hypers: list[dict], start: Tensors, grad_fn: GradFn,
            steps: int = STEPS, note: str = "") -> None:  # fmt: skip
    """Run the learner's steps next to torch.optim's from `start`, with each of `hypers` in
    turn; fail at the first step that differs."""
    for hyper in hypers:
        label = ", ".join(f"{key}={value}" for key, value in hyper.items()) + (note and f"; {note}")
        leaves = {n: torch.nn.Parameter(p.clone()) for n, p in start.items()}
        optimizer = torch.optim.Adam if function == "adam_step" else torch.optim.SGD
        trusted, params, state = optimizer(list(leaves.values()), **hyper), start, dict[str, Any]()
        for step in range(1, steps + 1):
            for name, grad in grad_fn({n: p.detach() for n, p in leaves.items()}).items():
                leaves[name].grad = grad.clone()
            trusted.step()
            result = submission.call(function, params, grad_fn(params), state, **hyper)
            params, state = _step(result, function, params)
            for name, leaf in leaves.items():
                want = leaf.detach()
                mistakes = [
                    Mistake(MISTAKES[mistake], functools.partial(
                        _trusted_run, function, hyper, start, grad_fn, step, mistake, name))
                    for mistake in MISTAKES
                ]  # fmt: skip
                kit.expect_close(
                    params[name], want, name=f"{function} ({label}): {name} after step {step}",
                    hint=RULES[function], mistakes=mistakes, dtype=want.dtype,
                    **TOLERANCE[want.dtype],
                )  # fmt: skip


def test_weight_decay(submission, device, rng):
    """apply_weight_decay adds weight_decay * p to each gradient"""
    params, grads = ({n: torch.randn(s, generator=rng).to(device) for n, s in SHAPES.items()}
                     for _ in range(2))  # fmt: skip
    for wd in (0.0, 0.05):
        what = f"apply_weight_decay(weight_decay={wd})"
        got = _tensors(submission.apply_weight_decay(params, grads, wd), what, params)
        for name in SHAPES:
            p, g = params[name], grads[name]
            kit.expect_close(
                got[name], g + wd * p, name=f"{what}[{name!r}]", **TOLERANCE[F32],
                hint="g + weight_decay * p: the gradient of the extra (wd / 2) * p**2",
                mistakes=[Mistake("the decay term is half the size: the gradient of (wd / 2) * "
                                  "p**2 is wd * p", g + wd / 2 * p),
                          Mistake("the decay term has the wrong sign", g - wd * p)],
            )  # fmt: skip


def test_sgd_step(submission, device, rng):
    """sgd_step matches one step of torch.optim.SGD, with and without weight decay"""
    hypers = [{"lr": 0.1, "weight_decay": wd} for wd in (0.0, 0.1)]
    _follow(submission, "sgd_step", hypers, *_quadratic(rng, device, dtype=F32), steps=1)


@pytest.mark.points(2)
def test_momentum_steps(submission, device, rng):
    """momentum_step follows torch.optim.SGD(momentum=0.9) for 100 steps"""
    hypers = [{"lr": 0.05, "momentum": 0.9, "weight_decay": wd} for wd in (0.0, 0.05)]
    _follow(submission, "momentum_step", hypers, *_quadratic(rng, device))


def test_nesterov_steps(submission, device, rng):
    """momentum_step with nesterov=True follows torch.optim.SGD(nesterov=True) for 100 steps"""
    hyper = {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01, "nesterov": True}
    _follow(submission, "momentum_step", [hyper], *_quadratic(rng, device))


@pytest.mark.points(2)
def test_adam_steps(submission, device, rng):
    """adam_step follows torch.optim.Adam for 100 steps, with and without weight decay"""
    hypers = [{"lr": 0.05}, {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.05}]
    _follow(submission, "adam_step", hypers, *_quadratic(rng, device))


def test_adam_small_gradients(submission, device, rng):
    """adam_step matches torch.optim.Adam when every gradient is 10,000 times smaller"""
    note = "gradients of size about 1e-4, where eps = 1e-8 is no longer negligible"
    _follow(submission, "adam_step", [{"lr": 0.05}], *_quadratic(rng, device, 1e-4), note=note)


@pytest.mark.needs_passing("sgd_step", "momentum_steps", "adam_steps", "clip_grad_norm")
def test_inputs_unchanged(submission, device, rng):
    """the step functions and clip_grad_norm leave their arguments as they were"""
    start, grad_fn = _quadratic(rng, device)
    for function, hyper in (
        ("sgd_step", {"lr": 0.1, "weight_decay": 0.01}),
        ("momentum_step", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
        ("adam_step", {"lr": 0.05, "weight_decay": 0.01}),
    ):
        params, state = start, dict[str, Any]()
        # Three steps: from the second on, the state holds tensors that could be modified.
        for _ in range(3):
            result = kit.call_unchanged(
                submission, function, params, grad_fn(params), state, kwargs=hyper,
                names=("params", "grads", "state"), how=IN_PLACE,
            )  # fmt: skip
            params, state = _step(result, function, params)
    kit.call_unchanged(
        submission, "clip_grad_norm", grad_fn(start), 0.1, names=("grads",),
        how="return new tensors g * scale (torch's clip_grad_norm_ scales in place; this one "
        "must not) so the caller's {name} keep their values",
    )  # fmt: skip


def test_clip_grad_norm(submission, device, rng):
    """clip_grad_norm matches torch.nn.utils.clip_grad_norm_ above and below the threshold"""
    grads = {"weight": torch.randn(5, 3, generator=rng, dtype=F64).to(device),
             "bias": 3 * torch.randn(5, generator=rng, dtype=F64).to(device)}  # fmt: skip
    norms = [float(g.norm()) for g in grads.values()]
    total = sum(norm**2 for norm in norms) ** 0.5
    for dtype, max_norm in ((dtype, m) for dtype in (F64, F32) for m in (total / 4, total * 2)):
        sent = {n: g.to(dtype) for n, g in grads.items()}
        leaves = [torch.nn.Parameter(g.clone()) for g in sent.values()]
        for leaf in leaves:
            leaf.grad = leaf.detach().clone()
        want_total = float(torch.nn.utils.clip_grad_norm_(leaves, max_norm))
        case = f"{'clipped' if max_norm < total else 'below the threshold'}, {dtype}"
        new, norm = kit.unpack(submission.clip_grad_norm(sent, max_norm), "clip_grad_norm",
                               context=case, new_grads=anything,
                               total_norm=kit.tensor((), device=device))  # fmt: skip
        name = f"clip_grad_norm with max_norm = {max_norm:.4g} ({case})"
        kit.expect_close(
            norm, want_total, name=f"{name}: total_norm", rtol=1e-5,
            hint="the norm of all gradients together, sqrt of the sum of every g**2",
            mistakes=[Mistake("this is the norm after clipping; return the one from before",
                              min(total, max_norm)),
                      Mistake("this is the sum of each tensor's own norm", sum(norms))],
        )  # fmt: skip
        new = _tensors(new, f"{name}: new_grads", sent)
        for (key, g), leaf in zip(sent.items(), leaves, strict=True):
            alone = g * min(1.0, max_norm / (float(g.norm()) + 1e-6))
            kit.expect_close(
                new[key], leaf.grad, name=f"{name}: new_grads[{key!r}]",
                **(TOLERANCE[F32] if dtype == F32 else {"rtol": 1e-10, "atol": 1e-12}),
                hint="one scale, min(1, max_norm / (total + 1e-6)) with total the norm of all "
                "the gradients together, for every tensor",
                mistakes=[Mistake("each tensor was scaled by its own norm; clipping uses one "
                                  "scale, from the norm of all the gradients together", alone)],
            )  # fmt: skip


def test_keeps_float32(submission, device, rng):
    """every step and clip_grad_norm keep float32 tensors float32, on their device"""
    start, grad_fn = _quadratic(rng, device, dtype=F32)
    for function, hyper in (
        ("sgd_step", {"lr": 0.1, "weight_decay": 0.01}),
        ("momentum_step", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True}),
        ("adam_step", {"lr": 0.05, "weight_decay": 0.01}),
    ):
        params, state = start, dict[str, Any]()
        for _ in range(3):  # the state made by the first step feeds the next ones
            result = submission.call(function, params, grad_fn(params), state, **hyper)
            params, state = _step(result, function, params)  # checks dtype and device
    result = submission.clip_grad_norm(grad_fn(start), 0.1)
    new, _ = kit.unpack(result, "clip_grad_norm", new_grads=anything, total_norm=anything)
    _tensors(new, "clip_grad_norm's new_grads (float32)", start, verb="be")


@pytest.mark.needs_passing(
    "weight_decay", "sgd_step", "momentum_steps", "nesterov_steps", "adam_steps", "clip_grad_norm"
)
def test_no_ready_made_optimizers(submission, exercise, source_tree):
    """the steps and the clipping are written by hand: no torch.optim, no torch's clipping"""
    submission.apply_weight_decay({"w": torch.ones(2)}, {"w": torch.ones(2)}, 0.1)
    kit.expect_no_shortcuts(
        source_tree, exercise.path, READY_MADE,
        advice="This exercise is about writing each update rule yourself from its formula; the "
        "checks already compare your numbers with torch.optim's",
    )  # fmt: skip


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
    X, y = (torch.tensor(values, dtype=F64) for values in kit.diabetes())
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
    zeros = functools.partial(torch.zeros, dtype=F64, device=device)
    for series, function, hyper in OPTIMIZERS:
        params, state = {"weight": zeros(X.shape[1]), "bias": zeros(())}, dict[str, Any]()
        loss, grads = _mse_and_grads(params, X, y)
        metrics.emit(f"{series} loss", loss, step=0)
        for step in range(1, TRAIN_STEPS + 1):
            result = submission.call(function, params, grads, state, **hyper)
            params, state = _step(result, function, params)
            loss, grads = _mse_and_grads(params, X, y)
            metrics.emit(f"{series} loss", loss, step=step)
        if not loss < LOSS_TARGET:
            settings = ", ".join(f"{key}={value}" for key, value in hyper.items())
            raise CheckFailure(
                f"after {TRAIN_STEPS} steps of {function} ({settings}) the mean squared error "
                f"is {loss:.4g}; a correct {series} gets below {LOSS_TARGET} (it starts at "
                "1.0 and the best possible is 0.481)"
            )
