"""Checks for backprop: a two-layer MLP's forward pass and hand-written gradients."""

from __future__ import annotations

import ast
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from grader.compare import assert_close, expect_number, expect_tensor, fmt_number, rel_error
from grader.datasets import logic_table
from grader.errors import CheckFailure
from grader.gradcheck import assert_gradient, autograd_gradients, numerical_gradient

pytestmark = pytest.mark.exercise("backprop")

F32, F64 = torch.float32, torch.float64
KEYS = ("W1", "b1", "W2", "b2")
# Output layer first: a mistake near the loss spoils every gradient before it.
BACKWARD_ORDER = ("W2", "b2", "W1", "b1")
GRADIENT_HINTS = {
    "W2": "dW2 = h1.T @ dlogits, with dlogits = (softmax(logits) - one_hot(y)) / N",
    "b2": "db2 should sum over the batch: db2 = dlogits.sum(dim=0)",
    "W1": (
        "dW1 = X.T @ dz1 with dz1 = (dlogits @ W2.T) * (z1 > 0); check the transpose in the "
        "first layer's weight gradient"
    ),
    "b1": "db1 should sum over the batch, after the ReLU mask: db1 = dz1.sum(dim=0)",
}
LIKELY_MISTAKES = {
    "no_one_hot": (
        "it matches softmax(logits) / N without the one-hot subtracted: dlogits is "
        "softmax(logits) - one_hot(y), so subtract 1 at each row's true class"
    ),
    "no_mask": (
        "it matches the gradient without the ReLU mask: multiply by (z1 > 0) on the way "
        "back through the ReLU, dz1 = dh1 * (z1 > 0)"
    ),
    "no_mean": (
        "it is N times the expected gradient: the loss is a mean over the batch, so divide "
        "dlogits by N"
    ),
}
XOR_HIDDEN, XOR_STEPS, XOR_LR = 8, 150, 0.5

Params = dict[str, torch.Tensor]


def _problem(rng: torch.Generator, N: int = 12, D: int = 5, H: int = 7, C: int = 4) -> tuple:
    """Random parameters (biases not zero), inputs and labels; D != H so transposes show."""
    params = {
        "W1": torch.randn(D, H, generator=rng, dtype=F64) * 0.7,
        "b1": torch.randn(H, generator=rng, dtype=F64) * 0.3,
        "W2": torch.randn(H, C, generator=rng, dtype=F64) * 0.7,
        "b2": torch.randn(C, generator=rng, dtype=F64) * 0.3,
    }
    X = torch.randn(N, D, generator=rng, dtype=F64)
    y = torch.randint(0, C, (N,), generator=rng)
    return params, X, y


def _on(params: Params, device: torch.device, dtype: torch.dtype = F64) -> Params:
    return {key: value.to(device, dtype) for key, value in params.items()}


def _trusted_logits(params: Params, X: torch.Tensor) -> torch.Tensor:
    return F.relu(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]


def _trusted_loss(params: Params, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(_trusted_logits(params, X), y)


def _autograd(params: Params, X: torch.Tensor, y: torch.Tensor) -> Params:
    def loss(*values: torch.Tensor) -> torch.Tensor:
        return _trusted_loss(dict(zip(KEYS, values, strict=True)), X, y)

    grads = autograd_gradients(loss, [params[key] for key in KEYS])
    return dict(zip(KEYS, grads, strict=True))


def _mistaken(params: Params, X: torch.Tensor, y: torch.Tensor, mistake: str) -> Params:
    """The gradients a learner gets with one known mistake, for naming it in a message."""
    z1 = X @ params["W1"] + params["b1"]
    h1 = F.relu(z1)
    probs = torch.softmax(h1 @ params["W2"] + params["b2"], dim=1)
    dlogits = probs if mistake == "no_one_hot" else probs - F.one_hot(y, probs.shape[1])
    dlogits = dlogits if mistake == "no_mean" else dlogits / X.shape[0]
    dz1 = dlogits @ params["W2"].T
    dz1 = dz1 if mistake == "no_mask" else dz1 * (z1 > 0)
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": h1.T @ dlogits, "b2": dlogits.sum(0)}


def _expect_params(
    value: Any,
    *,
    name: str,
    like: Params,
    device: torch.device | None = None,
    shapes: bool = True,
) -> Params:
    """A dict with the keys of `like`, each a tensor (of the same shape, if `shapes`)."""
    if type(value) is not dict:
        raise CheckFailure(f"{name} should be a dict with keys {list(KEYS)}, got {value!r:.80}")
    missing = [key for key in KEYS if key not in value]
    if missing:
        raise CheckFailure(f"{name} is missing the keys {missing}; it has {list(value)[:8]}")
    for key in KEYS if shapes else ():
        shape = tuple(like[key].shape)
        expect_tensor(value[key], name=f"{name}[{key!r}]", shape=shape, device=device)
    return value


def _loss_and_grads(
    submission: Any, params: Params, X: torch.Tensor, y: torch.Tensor, *, shapes: bool = True
) -> tuple:
    """The learner's (loss, grads), checked for type (and the gradients' shapes if `shapes`)."""
    result = submission.loss_and_grads(params, X, y)
    if type(result) is not tuple or len(result) != 2:
        raise CheckFailure(
            f"loss_and_grads should return a tuple (loss, grads), got {result!r:.80}"
        )
    loss = expect_tensor(result[0], name="loss_and_grads's loss", shape=(), device=X.device)
    grads = _expect_params(
        result[1], name="loss_and_grads's grads", like=params, device=X.device, shapes=shapes
    )
    return loss, grads


# ----------------------------------------------------------------------------- initialization


def test_init_params(submission):
    """init_params draws He-scaled W1, smaller W2, zero biases, reproducibly from the seed"""
    D, H, C = 512, 256, 128
    params = submission.init_params(D, H, C, 7)
    shapes = {"W1": torch.empty(D, H), "b1": torch.empty(H), "W2": torch.empty(H, C),
              "b2": torch.empty(C)}  # fmt: skip
    params = _expect_params(params, name="init_params(512, 256, 128, 7)", like=shapes)
    for key in KEYS:
        expect_tensor(params[key], name=f"init_params's {key}", dtype=F64, device="cpu")
    for key in ("b1", "b2"):
        if bool(params[key].any()):
            raise CheckFailure(f"init_params's {key} should start at zeros")
    for key, fan_in, rule in (("W1", D, "sqrt(2 / D)"), ("W2", H, "sqrt(1 / H)")):
        values = params[key]
        want = math.sqrt((2.0 if key == "W1" else 1.0) / fan_in)
        std, mean = float(values.std()), float(values.mean())
        if abs(std - want) > 0.05 * want or abs(mean) > 0.05 * want:
            raise CheckFailure(
                f"init_params's {key} has mean {fmt_number(mean)} and standard deviation "
                f"{fmt_number(std)}; expected mean about 0 and standard deviation "
                f"{rule} = {fmt_number(want)} for D, H = {D}, {H}. torch.randn draws standard "
                f"deviation 1: multiply by {rule} (the square root of the variance)"
            )
    again = submission.init_params(D, H, C, 7)
    other = submission.init_params(D, H, C, 8)
    if type(again) is not dict or type(other) is not dict:
        raise CheckFailure("init_params should return a dict on every call")
    if not all(type(again.get(key)) is torch.Tensor for key in KEYS):
        raise CheckFailure("init_params returned a dict without the four tensors")
    if not torch.equal(again["W1"], params["W1"]):
        raise CheckFailure(
            "init_params gave different weights for the same seed; draw from "
            "torch.Generator().manual_seed(seed), passing generator=... to torch.randn"
        )
    if type(other.get("W1")) is torch.Tensor and torch.equal(other["W1"], params["W1"]):
        raise CheckFailure("init_params gave the same weights for seeds 7 and 8; use the seed")


# -------------------------------------------------------------------------------- forward, loss


@pytest.mark.points(2)
def test_forward(submission, device, rng):
    """forward returns logits that match a trusted float64 computation, and a cache dict"""
    params, X, _ = _problem(rng)
    want = _trusted_logits(params, X)
    hint = "z1 = X @ W1 + b1, h1 = relu(z1) = torch.clamp(z1, min=0), logits = h1 @ W2 + b2"
    for dtype, tolerance in ((F64, 1e-10), (F32, 1e-5)):
        result = submission.forward(_on(params, device, dtype), X.to(device, dtype))
        if type(result) is not tuple or len(result) != 2:
            raise CheckFailure(f"forward should return a tuple (logits, cache), got {result!r:.80}")
        logits, cache = result
        name = f"forward's logits in {str(dtype).removeprefix('torch.')}"
        assert_close(
            logits,
            want,
            name=name,
            dtype=dtype,
            device=device,
            rtol=tolerance,
            atol=tolerance,
            hint=hint,
        )
        if type(cache) is not dict:
            raise CheckFailure(
                f"forward's cache should be a dict of the tensors the backward pass needs "
                f"(such as X, z1 and h1), got {type(cache).__name__}"
            )


def test_loss(submission, device, rng):
    """loss_and_grads's loss is softmax cross-entropy, the mean over the batch"""
    params, X, y = _problem(rng)
    sent = (_on(params, device), X.to(device), y.to(device))
    loss, _ = _loss_and_grads(submission, *sent, shapes=False)
    expected = _trusted_loss(params, X, y)
    want, got = float(expected), float(loss.detach().cpu())
    if abs(got - want * len(y)) <= 1e-6 * want * len(y):
        raise CheckFailure(
            f"the loss is {len(y)} times the expected value (got {got:.6g}, expected {want:.6g}): "
            "take the mean over the batch, not the sum"
        )
    assert_close(
        loss,
        expected,
        name="loss_and_grads's loss",
        device=device,
        rtol=1e-10,
        atol=1e-12,
        hint="mean over rows of logsumexp(logits[i]) - logits[i, y[i]]",
    )


# ------------------------------------------------------------------------------------ gradients


@pytest.mark.points(3)
def test_gradients_match_autograd(submission, device, rng):
    """every gradient matches torch's autograd in float64"""
    params, X, y = _problem(rng)
    sent = (_on(params, device), X.to(device), y.to(device))
    _, grads = _loss_and_grads(submission, *sent, shapes=False)
    expected = _autograd(params, X, y)
    variants = {mistake: _mistaken(params, X, y, mistake) for mistake in LIKELY_MISTAKES}
    for key in BACKWARD_ORDER:
        hint = GRADIENT_HINTS[key]
        by_mistake = {mistake: variant[key] for mistake, variant in variants.items()}
        mistake = _likely_mistake(grads[key], expected[key], by_mistake, len(y))
        if mistake:
            hint = f"{hint}\nLikely mistake: {mistake}"
        assert_gradient(grads[key], expected[key], name=f"d{key}", threshold=1e-7, hint=hint)


def _likely_mistake(
    got: Any, expected: torch.Tensor, mistaken: dict[str, torch.Tensor], N: int
) -> str:
    """The known mistake that explains a wrong gradient `got`, or "" when none does."""
    if type(got) is not torch.Tensor or got.shape != expected.shape:
        return ""
    got = got.detach().cpu().to(F64)
    if rel_error(got, expected) <= 1e-7:
        return ""
    for mistake, message in LIKELY_MISTAKES.items():
        if rel_error(got, mistaken[mistake]) < 1e-7:
            return message
    if rel_error(got, expected / N) < 1e-7:
        return (
            "it is N times smaller than expected: a bias gradient sums the upstream gradient "
            "over the batch (dlogits already carries the 1 / N of the mean)"
        )
    return ""


def test_gradients_match_numerical(submission, rng):
    """every gradient matches central differences of your own loss (CS231n's gradient check)"""
    params, X, y = _problem(rng, N=6, D=3, H=4, C=3)
    _, grads = _loss_and_grads(submission, params, X, y, shapes=False)

    for key in BACKWARD_ORDER:

        def loss_at(value: torch.Tensor, key: str = key) -> float:
            loss, _ = _loss_and_grads(submission, {**params, key: value}, X, y, shapes=False)
            return expect_number(loss, name="loss_and_grads's loss")

        numerical = numerical_gradient(loss_at, params[key], eps=1e-6)
        assert_gradient(
            grads[key],
            numerical,
            name=f"d{key} (against central differences)",
            threshold=1e-5,
            hint=(
                f"nudging {key} by +-1e-6 changes your loss at a different rate than your "
                f"d{key} says. {GRADIENT_HINTS[key]}"
            ),
        )


def test_inputs_unchanged(submission, device, rng):
    """forward and loss_and_grads leave params, X and y as they were"""
    params, X, y = _problem(rng)
    params_d, Xd, yd = _on(params, device), X.to(device), y.to(device)
    for function, count in (("forward", 2), ("loss_and_grads", 3)):
        _, after = submission.call_with_inputs(function, *(params_d, Xd, yd)[:count])
        after_params = after[0] if type(after[0]) is dict else {}
        pairs = [(f"params[{key!r}]", params_d[key], after_params.get(key)) for key in KEYS]
        pairs += [("X", Xd, after[1]), ("y", yd, after[2] if count == 3 else yd)]
        for label, old, new in pairs:
            if type(new) is not torch.Tensor or not torch.equal(old.cpu(), new.cpu()):
                raise CheckFailure(
                    f"{function} modified {label} in place; use operations that make new "
                    "tensors (torch.clamp(z1, min=0), a - b) rather than in-place ones "
                    "(relu_, -=, indexed assignment) on tensors you were given"
                )


def test_sgd_step(submission, reference, device, rng):
    """sgd_step returns params - lr * grads as a new dict and leaves params unchanged"""
    params, X, y = _problem(rng)
    _, grads = reference.loss_and_grads(params, X, y)
    sent = [_on(params, device), _on(grads, device)]
    result, after = submission.call_with_inputs("sgd_step", *sent, 0.3)
    new = _expect_params(result, name="sgd_step's result", like=params)
    want = reference.sgd_step(params, grads, 0.3)
    for key in KEYS:
        assert_close(
            new[key],
            want[key],
            name=f"sgd_step's new {key}",
            device=device,
            rtol=1e-12,
            atol=1e-12,
            hint="params[name] - lr * grads[name]",
        )
    for label, old, now in (("params", sent[0], after[0]), ("grads", sent[1], after[1])):
        changed = type(now) is not dict or any(
            type(now.get(key)) is not torch.Tensor
            or not torch.equal(old[key].cpu(), now[key].cpu())
            for key in KEYS
        )
        if changed:
            raise CheckFailure(
                f"sgd_step modified {label} in place; build a new dict with "
                "params[name] - lr * grads[name] instead of params[name] -= ..., so the "
                "caller's parameters keep their values"
            )


# ------------------------------------------------------------------------------ the source file

AUTOGRAD = frozenset(("backward", "autograd", "grad", "requires_grad", "requires_grad_",
                      "enable_grad", "vjp", "jacobian"))  # fmt: skip
MODULES = frozenset(("nn", "func", "autograd"))


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The dotted names an import statement brings in: `torch.nn`, `torch.autograd.grad`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [f"{node.module or ''}.{alias.name}" for alias in node.names]


def _autograd_uses(tree: ast.AST) -> list[str]:
    """Lines of `tree` that use autograd, torch.nn or torch.func."""
    found: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in AUTOGRAD | MODULES:
            found.setdefault(node.lineno, f".{node.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for name in _imported(node):
                parts = name.split(".")
                if parts[0] == "torch" and len(parts) > 1 and parts[1] in AUTOGRAD | MODULES:
                    found.setdefault(node.lineno, f"import of {name}")
    return [f"line {line}: {what}" for line, what in sorted(found.items())]


def test_no_autograd(submission, exercise, source_tree, rng):
    """the gradients are computed by hand: no autograd and no torch.nn in mlp.py"""
    params, X, y = _problem(rng)
    loss, _ = _loss_and_grads(submission, params, X, y, shapes=False)
    assert_close(loss, _trusted_loss(params, X, y), name="loss_and_grads's loss", rtol=1e-10)
    found = _autograd_uses(source_tree)
    if found:
        listed = "\n  ".join(found[:8])
        raise CheckFailure(
            f"{exercise.path} seems to use autograd or torch.nn:\n  {listed}\n"
            "This exercise is about working the gradients out yourself: apply the chain rule "
            "layer by layer with matrix products (see the backward formulas in the docstring). "
            "Autograd is a fine tool, and the next exercises use it"
        )


# ------------------------------------------------------------------------------------- training


def _xor() -> tuple[torch.Tensor, torch.Tensor]:
    X, y = logic_table("xor")
    return X * 2 - 1, y.long()  # inputs coded -1/+1: centred inputs train faster


def _xor_start(reference: Any, seed: int, X: torch.Tensor, y: torch.Tensor) -> Params:
    """Starting parameters from which the reference learns XOR with the check's settings."""
    # A few starts of so small a network stall in a poor spot; skip those.
    for offset in range(20):
        start = reference.init_params(2, XOR_HIDDEN, 2, seed + offset)
        params = start
        for _ in range(XOR_STEPS):
            _, grads = reference.loss_and_grads(params, X, y)
            params = reference.sgd_step(params, grads, XOR_LR)
        if bool((_trusted_logits(params, X).argmax(1) == y).all()):
            return start
    raise RuntimeError("the reference did not learn XOR from 20 starts")


@pytest.mark.points(2)
def test_learns_xor(submission, reference, device, metrics, seed):
    """gradient descent with your gradients learns XOR, which no single perceptron can"""
    X, y = _xor()
    params = _xor_start(reference, seed, X, y)
    Xd, yd = X.to(device), y.to(device)
    for step in range(1, XOR_STEPS + 1):
        loss, grads = _loss_and_grads(submission, _on(params, device), Xd, yd)
        value = float(loss.detach().cpu())
        metrics.emit("loss", value, step=step)
        if not all(bool(torch.isfinite(grads[key]).all()) for key in KEYS):
            raise CheckFailure(f"step {step}: your gradients hold NaN or inf (loss {value:.4g})")
        # The update is done here, in trusted code, with the returned gradients.
        params = {key: params[key] - XOR_LR * grads[key].detach().cpu().to(F64) for key in KEYS}
        if step % 10 == 0 or step == XOR_STEPS:
            right = (_trusted_logits(params, X).argmax(1) == y).double().mean().item()
            metrics.emit("accuracy", right, step=step)
    predictions = _trusted_logits(params, X).argmax(1)
    wrong = [tuple(int(v) for v in X[i].tolist()) for i in range(4) if predictions[i] != y[i]]
    if wrong:
        raise CheckFailure(
            f"after {XOR_STEPS} steps of gradient descent (lr {XOR_LR}, {XOR_HIDDEN} hidden "
            f"units) with your gradients, the network still gets the XOR points {wrong} wrong "
            f"(inputs coded -1/+1); from the same start, correct gradients solve all four. "
            "Check test_gradients_match_autograd first"
        )
