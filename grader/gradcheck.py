"""Reference gradients (finite differences, autograd) and a check for a learner's gradient."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from grader.compare import expect_tensor, fmt_index, fmt_number, fmt_pair, rel_errors
from grader.errors import CheckFailure

__all__ = ["assert_gradient", "autograd_gradients", "numerical_gradient"]


def _objective(out: Any, upstream: torch.Tensor | None) -> torch.Tensor:
    """The scalar whose gradient is taken: sum(f(x) * upstream), or sum(f(x)) by default."""
    # torch.tensor(float) would round a Python number to float32 and ruin the differences.
    if isinstance(out, torch.Tensor):
        out = out.to(torch.float64)
    else:
        out = torch.tensor(out, dtype=torch.float64)
    if upstream is None:
        return out.sum()
    # An explicit shape check: broadcasting would silently change the quantity differentiated.
    if upstream.shape != out.shape:
        raise ValueError(
            f"upstream has shape {tuple(upstream.shape)}, but f returned {tuple(out.shape)}"
        )
    return (out * upstream.to(device=out.device, dtype=torch.float64)).sum()


def numerical_gradient(
    f: Callable[[torch.Tensor], Any],
    x: torch.Tensor,
    *,
    upstream: torch.Tensor | None = None,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Central-difference gradient of sum(f(x) * upstream) w.r.t. x, in float64.

    f is called on a float64 copy of x (same device) that is perturbed in place, one element at
    a time; the caller's x is left untouched. Cost: two calls of f per element of x.
    """
    point = x.detach().to(dtype=torch.float64, copy=True).contiguous()
    flat = point.view(-1)
    grad = torch.zeros_like(flat)
    with torch.no_grad():
        for i in range(flat.numel()):
            original = flat[i].item()
            flat[i] = original + eps
            plus = _objective(f(point), upstream).item()
            flat[i] = original - eps
            minus = _objective(f(point), upstream).item()
            flat[i] = original
            grad[i] = (plus - minus) / (2 * eps)
    return grad.view(x.shape)


def autograd_gradients(
    f: Callable[..., Any],
    inputs: Sequence[torch.Tensor],
    *,
    upstream: torch.Tensor | None = None,
) -> tuple[torch.Tensor, ...]:
    """Gradients of sum(f(*inputs) * upstream) w.r.t. each input, by autograd in float64.

    Inputs are detached float64 copies, so the callers' tensors and graphs are not touched. An
    input that f does not use gets a zero gradient.
    """
    leaves = [x.detach().to(dtype=torch.float64, copy=True).requires_grad_(True) for x in inputs]
    with torch.enable_grad():
        objective = _objective(f(*leaves), upstream)
        if not objective.requires_grad:
            return tuple(torch.zeros_like(leaf).detach() for leaf in leaves)
        grads = torch.autograd.grad(objective, leaves, allow_unused=True)
    return tuple(
        torch.zeros_like(leaf).detach() if g is None else g.detach()
        for leaf, g in zip(leaves, grads, strict=True)
    )


def assert_gradient(
    actual: Any,
    expected: torch.Tensor,
    *,
    name: str,
    threshold: float = 1e-6,
    hint: str = "",
) -> None:
    """Check a learner's gradient against a reference by CS231n's relative error.

    The error of an element is |a - e| / max(1e-8, |a| + |e|), and `threshold` bounds that same
    quantity; the message names the formula. Type and shape must match; dtype and device are
    not enforced. The failure names the element with the largest relative error.
    """
    try:
        _check_gradient(actual, expected, name=name, threshold=threshold)
    except CheckFailure as failure:
        message = str(failure)
        raise CheckFailure(f"{message}\nHint: {hint}" if hint else message) from None


def _check_gradient(actual: Any, expected: torch.Tensor, *, name: str, threshold: float) -> None:
    reference = expected.detach().to(device="cpu", dtype=torch.float64)
    tensor = expect_tensor(actual, name=name, shape=reference.shape)
    if tensor.device.type == "meta":
        raise CheckFailure(f"{name} is a tensor without data (on the meta device)")
    got = tensor.detach().to(device="cpu", dtype=torch.float64)
    total = reference.numel()
    if total == 0:
        return
    shape = tuple(reference.shape)
    errors = rel_errors(got, reference).reshape(-1)
    # NaN errors (one side NaN) must rank as the worst, never as "within threshold".
    ranked = torch.where(torch.isnan(errors), torch.full_like(errors, float("inf")), errors)
    worst = int(ranked.argmax())
    largest = float(errors[worst])
    if largest <= threshold:
        return
    got_s, expected_s = fmt_pair(float(got.reshape(-1)[worst]), float(reference.reshape(-1)[worst]))
    where = fmt_index(worst, shape)
    details = (
        f"relative error |got - expected| / (|got| + |expected|) = {fmt_number(largest)}, "
        f"allowed {threshold:g}"
    )
    if total > 1:
        count = int((~(errors <= threshold)).sum())
        details += f"; {count} of {total} elements exceed it"
    if (
        len(shape) == 2
        and shape[0] == shape[1] > 1
        and float(rel_errors(got, reference.T).max()) <= threshold
    ):
        details += "; it matches the expected gradient transposed"
    raise CheckFailure(
        f"{name} differs from the expected gradient{' at ' + where if where else ''}: "
        f"got {got_s}, expected {expected_s} ({details})"
    )
