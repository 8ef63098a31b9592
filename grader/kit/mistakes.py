"""Known-mistake diagnosis: name a mistake only when the learner's result reproduces it.

A table lists what each typical mistake would have returned on the same inputs (a variant of
the reference computed here), with the hint that names it:

    table = [
        Mistake("this is the MSE: rmse is its square root (np.sqrt)", variant=mse),
        Mistake("this is the root of the sum: divide by N before the root", variant=sse**0.5),
    ]
    expect_close(got, rmse, name="rmse(y_true, y_pred)", hint=RULE, mistakes=table)

`expect_close` compares with `grader.compare` and gives the hint of the first variant the
result matches (within tolerance) instead of `hint`; `likely_mistake` gives that hint alone.

A hint that names a cause is given only when the result reproduces it; otherwise the check's
own hint, which states the rule, is shown. A variant may be a callable, computed
only when needed, and may be None where the mistake cannot show on these inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from grader.compare import assert_array_close, assert_close, assert_number_close

# Separate runs of one float64 formula agree to ~1e-13; a mistake moves a result by far more.
RTOL, ATOL = 1e-6, 1e-9


@dataclass(frozen=True)
class Mistake:
    """A typical mistake: the hint that names it and the value it would produce."""

    hint: str
    variant: Any  # tensor, array, number, a tuple of those, None, or a callable returning one


def likely_mistake(
    got: Any,
    mistakes: Iterable[Mistake],
    *,
    default: str = "",
    expected: Any = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> str:
    """The hint of the first mistake whose variant `got` matches, else `default`.

    With `expected`, a result that matches it gets `default` even where a variant coincides
    with the right answer (some inputs cannot tell a mistake apart).
    """
    if expected is not None and matches(got, expected, rtol=rtol, atol=atol):
        return default
    for mistake in mistakes:
        variant = mistake.variant() if callable(mistake.variant) else mistake.variant
        if variant is not None and matches(got, variant, rtol=rtol, atol=atol):
            return mistake.hint
    return default


def matches(got: Any, want: Any, *, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Whether a learner's value equals a trusted one within tolerance (same shape; NaN = NaN).

    Tuples and lists match part by part. A value of another kind (a string, an opaque object, a
    bool) never matches.
    """
    if isinstance(want, tuple | list):
        return (
            type(got) in (tuple, list)
            and len(got) == len(want)
            and all(matches(a, b, rtol=rtol, atol=atol) for a, b in zip(got, want, strict=True))
        )
    a, b = _numeric(got), _numeric(want)
    if a is None or b is None or a.shape != b.shape:
        return False
    return bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _numeric(value: Any) -> torch.Tensor | None:
    """A value as a float64 CPU tensor; None for anything that is not plainly numeric."""
    if type(value) in (int, float) or isinstance(value, np.floating | np.integer):
        return torch.tensor(float(value), dtype=torch.float64)
    if type(value) is np.ndarray and value.dtype.kind in "iuf":
        return torch.from_numpy(np.asarray(value, dtype=np.float64))
    if type(value) is torch.Tensor and value.dtype != torch.bool and not value.is_complex():
        return None if value.device.type == "meta" else value.detach().to("cpu", torch.float64)
    return None


def expect_close(
    got: Any,
    want: Any,
    *,
    name: str,
    hint: str = "",
    mistakes: Iterable[Mistake] = (),
    rtol: float = 1e-5,
    atol: float = 1e-8,
    **options: Any,
) -> None:
    """`grader.compare`'s check for `want`'s kind, with the hint of the mistake `got` reproduces.

    A NumPy `want` uses `assert_array_close`, a tensor `assert_close` (`options` may give its
    dtype and device), a number `assert_number_close`. `hint` states the rule; it is replaced
    by a mistake's hint when `got` matches that mistake's variant (and not `want`).
    """
    hint = likely_mistake(got, mistakes, default=hint, expected=want, rtol=rtol, atol=atol)
    common: dict[str, Any] = {"name": name, "rtol": rtol, "atol": atol, "hint": hint}
    if isinstance(want, np.ndarray):
        assert_array_close(got, want, **common)
    elif isinstance(want, torch.Tensor):
        assert_close(got, want, **common, **options)
    else:
        assert_number_close(got, float(want), **common)
