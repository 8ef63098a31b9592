"""Tensor-aware comparisons that fail with a message a learner can act on (`CheckFailure`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from grader.codec import type_name
from grader.errors import CheckFailure

__all__ = [
    "assert_array_close",
    "assert_array_equal",
    "assert_close",
    "assert_equal",
    "expect_array",
    "assert_number_close",
    "expect_number",
    "expect_tensor",
    "rel_error",
]

# rel_error's denominator floor, as in CS231n: two zeros compare as equal instead of 0/0.
REL_ERROR_FLOOR = 1e-8

DeviceLike = torch.device | str


# ------------------------------------------------------------------------------------ formatting


def fmt_number(value: float, digits: int = 4) -> str:
    """A number with `digits` significant digits (`nan`, `inf`, `-inf` as such)."""
    return f"{value:.{digits}g}"


def fmt_pair(got: float, expected: float) -> tuple[str, str]:
    """Two numbers with the fewest significant digits (at least 4) that show their difference.

    The printed values differ, and their difference is within a quarter of the true one, so
    1.2341944 against 1.2341946 never reads as "1.234194 vs 1.234195" (a difference of 1e-6 that
    is really 2e-7). Equal values print alike; past 16 digits each is its shortest repr.
    """
    if not (math.isfinite(got) and math.isfinite(expected)) or got == expected:
        return fmt_number(got), fmt_number(expected)
    difference = got - expected
    for digits in range(4, 17):
        got_s, expected_s = fmt_number(got, digits), fmt_number(expected, digits)
        shown = float(got_s) - float(expected_s)
        if got_s != expected_s and abs(shown - difference) <= 0.25 * abs(difference):
            return got_s, expected_s
    return repr(float(got)), repr(float(expected))


def fmt_shape(shape: Sequence[int]) -> str:
    """A shape as a Python tuple: `(4, 1)`, `(4,)`, `()`."""
    return str(tuple(int(n) for n in shape))


def fmt_dtype(dtype: torch.dtype) -> str:
    """A dtype without its module: `float32`, `int64`."""
    return str(dtype).removeprefix("torch.")


def fmt_index(flat_index: int, shape: Sequence[int]) -> str:
    """The element at row-major `flat_index` as `[3, 1]`; empty for 0-d tensors."""
    if len(shape) == 0:
        return ""
    index = []
    for size in reversed(shape):
        flat_index, rest = divmod(flat_index, size)
        index.append(rest)
    return "[" + ", ".join(str(i) for i in reversed(index)) + "]"


def _at(flat_index: int, shape: Sequence[int]) -> str:
    """The suffix ' at [3, 1]' for a location in a tensor; empty for a 0-d one."""
    index = fmt_index(flat_index, shape)
    return f" at {index}" if index else ""


def _transposed(got: Sequence[int], want: Sequence[int]) -> str:
    """ " (is it transposed?)" when `got` is the non-square 2-D shape `want` the other way round."""
    if len(want) == 2 and want[0] != want[1] and tuple(got) == tuple(want)[::-1]:
        return " (is it transposed?)"
    return ""


def _with_hint(message: str, hint: str) -> str:
    return f"{message}\nHint: {hint}" if hint else message


def _describe_nonfinite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "inf" if value > 0 else "-inf"


def _count(bad: int, total: int, what: str) -> str:
    verb = "differs" if bad == 1 else "differ"
    noun = "element" if total == 1 else "elements"
    return f"{bad} of {total} {noun} {verb}{what}"


# ------------------------------------------------------------------------------------ conversion


def _as_reference(value: Any) -> torch.Tensor:
    """A grader-side reference (tensor, array or number) as a tensor; never learner data."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, np.ndarray | np.generic):
        return torch.from_numpy(np.asarray(value))
    if isinstance(value, bool):
        return torch.tensor(value)
    if isinstance(value, int):
        return torch.tensor(value, dtype=torch.int64)
    if isinstance(value, float):
        # float64: torch.tensor(0.1) would be float32 and off by ~1e-9 at a tight tolerance.
        return torch.tensor(value, dtype=torch.float64)
    raise TypeError(f"cannot use {type(value).__name__} as a reference value")


def _cpu64(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().to(device="cpu", dtype=torch.float64)


def _readable(actual: torch.Tensor, name: str) -> None:
    # Values on a meta device do not exist, so there is nothing to compare (the codec never makes
    # these; this keeps a grader bug from surfacing as a torch traceback).
    if actual.device.type == "meta":
        raise CheckFailure(f"{name} is a tensor without data (on the meta device)")


# ---------------------------------------------------------------------------------------- checks


def expect_tensor(
    actual: Any,
    *,
    name: str,
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    device: DeviceLike | None = None,
) -> torch.Tensor:
    """Check that `actual` is exactly a torch.Tensor with the given shape, dtype and device."""
    # Exact type: a subclass could override __eq__, __torch_function__ or item() to fake a match.
    if type(actual) is not torch.Tensor:
        raise CheckFailure(f"{name} should return a torch.Tensor, got {type_name(actual)}")
    if shape is not None and tuple(actual.shape) != tuple(shape):
        message = f"{name} returned shape {fmt_shape(actual.shape)}, expected {fmt_shape(shape)}"
        raise CheckFailure(message + _transposed(actual.shape, shape))
    if dtype is not None and actual.dtype != dtype:
        raise CheckFailure(f"{name} returned dtype {actual.dtype}, expected {dtype}")
    if device is not None:
        wanted = torch.device(device)
        have = actual.device
        # "cuda" without an index accepts any GPU; "cuda:1" only that one.
        if have.type != wanted.type or (wanted.index is not None and have.index != wanted.index):
            raise CheckFailure(
                f"{name} is on {have}, expected {wanted}: keep results on the input's device"
            )
    return actual


def expect_weights(
    value: Any,
    like: Mapping[str, torch.Tensor],
    *,
    what: str,
    device: DeviceLike,
    restore: str,
    label: Callable[[str], str] = repr,
) -> dict[str, torch.Tensor]:
    """Check that `value` is a plain dict of tensors with `like`'s names, shapes and dtypes, on
    `device` (trained weights sent back by the learner's code). `restore` ends each message
    with what to put back; `label(name)` names an entry in messages."""
    if type(value) is not dict:
        kind = type_name(value)
        if kind == "OrderedDict":
            kind = "an OrderedDict, which cannot be sent back from your code"
        raise CheckFailure(f"{what} should be a plain dict {{name: tensor}}, got {kind}; {restore}")
    if set(value) != set(like):
        raise CheckFailure(
            f"{what} has the entries {sorted(value)}, expected {sorted(like)}; {restore}"
        )
    for name, tensor in like.items():
        expect_tensor(
            value[name],
            name=f"{what}[{label(name)}]",
            shape=tensor.shape,
            dtype=tensor.dtype,
            device=device,
        )
    return value


def assert_close(
    actual: Any,
    expected: Any,
    *,
    name: str,
    dtype: torch.dtype | None = None,
    device: DeviceLike | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    hint: str = "",
) -> None:
    """Check type, shape (and dtype/device if given), then values: |a - e| <= atol + rtol * |e|.

    Values are compared in float64 on the CPU. NaN matches NaN and an infinity matches the same
    infinity. A failure reports the quantities of that criterion: max |a - e|, how many elements
    fail it, and by how much the worst one exceeds atol + rtol * |e|.
    """
    reference = _as_reference(expected)
    try:
        tensor = expect_tensor(actual, name=name, shape=reference.shape, dtype=dtype, device=device)
        _readable(tensor, name)
        _compare_close(_cpu64(tensor), _cpu64(reference), name=name, rtol=rtol, atol=atol)
    except CheckFailure as failure:
        raise CheckFailure(_with_hint(str(failure), hint)) from None


def _compare_close(
    got: torch.Tensor, want: torch.Tensor, *, name: str, rtol: float, atol: float
) -> None:
    shape, total = tuple(want.shape), want.numel()
    if total == 0:
        return
    got_flat, want_flat = got.reshape(-1), want.reshape(-1)

    # A NaN or inf where the reference is finite is usually the root cause worth naming first.
    broken = ~torch.isfinite(got_flat) & torch.isfinite(want_flat)
    if bool(broken.any()):
        first = int(broken.nonzero()[0])
        what = _describe_nonfinite(float(got_flat[first]))
        expected_s = fmt_number(float(want_flat[first]))
        where = fmt_index(first, shape)
        head = f"{name} has {what} at {where}" if where else f"{name} is {what}"
        count = int(broken.sum())
        tail = f"; {count} of {total} elements are NaN or inf" if count > 1 else ""
        raise CheckFailure(f"{head} (expected {expected_s}{tail})")

    close = torch.isclose(got_flat, want_flat, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return
    bad = ~close
    first = int(bad.nonzero()[0])
    got_s, expected_s = fmt_pair(float(got_flat[first]), float(want_flat[first]))
    excess = _excess(got_flat, want_flat, bad, shape, rtol, atol)
    raise CheckFailure(
        f"{name} differs from the expected value{_at(first, shape)}: "
        f"got {got_s}, expected {expected_s} ({excess})"
    )


def _excess(
    got: torch.Tensor,
    want: torch.Tensor,
    bad: torch.Tensor,
    shape: Sequence[int],
    rtol: float,
    atol: float,
) -> str:
    """What the comparison applied and by how much it failed, in the criterion's own terms.

    The criterion is NumPy's: |got - expected| <= atol + rtol * |expected|, element by element.
    Sizes are taken only over differing elements where both sides are finite: a mismatched inf
    or NaN would swamp them, and it is named elsewhere (or counted here).
    """
    tolerance = f"rtol={rtol:g}, atol={atol:g}"
    finite_bad = bad & torch.isfinite(got) & torch.isfinite(want)
    if not len(shape):
        if not bool(finite_bad.any()):
            return f"allowed: |got - expected| <= atol + rtol*|expected|, {tolerance}"
        error = float((got - want).abs().reshape(()))
        bound = atol + rtol * abs(float(want.reshape(())))
        return (
            f"|got - expected| = {fmt_number(error)} exceeds atol + rtol*|expected| = "
            f"{fmt_number(bound)}, with {tolerance}"
        )
    count = _count(int(bad.sum()), int(want.numel()), "")
    if not bool(finite_bad.any()):
        return f"{count}; allowed: |got - expected| <= atol + rtol*|expected|, {tolerance}"
    errors = torch.where(finite_bad, (got - want).abs(), torch.zeros_like(got))
    over = torch.where(
        finite_bad, errors - (atol + rtol * want.abs()), torch.full_like(got, -math.inf)
    )
    worst = int(over.argmax())
    return (
        f"max |got - expected| {fmt_number(float(errors.max()))}; {count}: |got - expected| "
        f"exceeds atol + rtol*|expected| ({tolerance}), the most{_at(worst, shape)} by "
        f"{fmt_number(float(over[worst]))}"
    )


def assert_equal(
    actual: Any,
    expected: Any,
    *,
    name: str,
    dtype: torch.dtype | None = None,
    device: DeviceLike | None = None,
    hint: str = "",
) -> None:
    """Check type, shape (and dtype/device if given), then exact equality of every element.

    Meant for integer, bool and 0/1 results (labels, masks, counts). Values compare by number, so
    a bool True equals an integer 1 unless `dtype` pins the type.
    """
    reference = _as_reference(expected)
    try:
        tensor = expect_tensor(actual, name=name, shape=reference.shape, dtype=dtype, device=device)
        _readable(tensor, name)
        _compare_equal(tensor.detach().cpu(), reference.cpu(), name=name)
    except CheckFailure as failure:
        raise CheckFailure(_with_hint(str(failure), hint)) from None


def _compare_equal(got: torch.Tensor, want: torch.Tensor, *, name: str) -> None:
    shape, total = tuple(want.shape), want.numel()
    if total == 0:
        return
    got_flat, want_flat = got.reshape(-1), want.reshape(-1)
    if got.is_floating_point() or want.is_floating_point():
        got64, want64 = got_flat.to(torch.float64), want_flat.to(torch.float64)
        same = (got64 == want64) | (torch.isnan(got64) & torch.isnan(want64))
    else:
        # int64 keeps large integers exact, which float64 would not.
        same = got_flat.to(torch.int64) == want_flat.to(torch.int64)
    if bool(same.all()):
        return
    bad = ~same
    first = int(bad.nonzero()[0])
    mixed_bool = (got.dtype == torch.bool) != (want.dtype == torch.bool)
    got_s = _fmt_exact(got_flat[first], as_int=mixed_bool)
    expected_s = _fmt_exact(want_flat[first], as_int=mixed_bool)
    count = f" ({_count(int(bad.sum()), total, '')})" if len(shape) else ""
    raise CheckFailure(
        f"{name} differs{_at(first, shape)}: got {got_s}, expected {expected_s}{count}"
    )


def _fmt_exact(element: torch.Tensor, *, as_int: bool) -> str:
    value = element.item()
    if isinstance(value, bool):
        # Next to integers, show a bool as 0/1 so that "got 1, expected 0" reads naturally.
        return str(int(value)) if as_int else str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else _describe_nonfinite(value)
    return str(value)


def expect_array(actual: Any, *, name: str, shape: Sequence[int] | None = None) -> torch.Tensor:
    """Check that `actual` is exactly a numeric NumPy array (of `shape`); return it as a tensor.

    For exercises written with NumPy. A torch tensor or a list is refused with a message that
    says how to turn it into an array.
    """
    if type(actual) is not np.ndarray:
        advice = ""
        if type(actual) is torch.Tensor:
            advice = "; this exercise works in NumPy: return tensor.numpy() or build it with np"
        elif isinstance(actual, list | tuple):
            advice = "; wrap it in np.array(...)"
        raise CheckFailure(f"{name} should be a NumPy array, got {type_name(actual)}{advice}")
    if actual.dtype.kind not in "biuf":
        raise CheckFailure(f"{name} should hold numbers, got an array of dtype {actual.dtype}")
    if shape is not None and tuple(actual.shape) != tuple(shape):
        message = f"{name} has shape {fmt_shape(actual.shape)}, expected {fmt_shape(shape)}"
        hint = _transposed(actual.shape, shape)
        if not hint and tuple(actual.shape) in ((*shape, 1), (1, *shape)):
            hint = " (an extra axis: flatten it with .ravel())"
        raise CheckFailure(message + hint)
    return torch.from_numpy(np.ascontiguousarray(actual))


def assert_array_close(
    actual: Any,
    expected: Any,
    *,
    name: str,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    hint: str = "",
) -> None:
    """`assert_close` for NumPy results: type and shape first, then values in float64."""
    reference = _as_reference(expected)
    try:
        tensor = expect_array(actual, name=name, shape=reference.shape)
        _compare_close(_cpu64(tensor), _cpu64(reference), name=name, rtol=rtol, atol=atol)
    except CheckFailure as failure:
        raise CheckFailure(_with_hint(str(failure), hint)) from None


def assert_array_equal(actual: Any, expected: Any, *, name: str, hint: str = "") -> None:
    """`assert_equal` for NumPy results (labels, indices, counts, masks)."""
    reference = _as_reference(expected)
    try:
        tensor = expect_array(actual, name=name, shape=reference.shape)
        _compare_equal(tensor, reference.cpu(), name=name)
    except CheckFailure as failure:
        raise CheckFailure(_with_hint(str(failure), hint)) from None


def expect_number(actual: Any, *, name: str) -> float:
    """A Python int/float (not bool) or a one-element numeric tensor/array, as a float."""
    if type(actual) is bool:
        raise CheckFailure(f"{name} should be a number, got bool")
    if type(actual) in (int, float):
        try:
            return float(actual)
        except OverflowError:
            raise CheckFailure(f"{name} is too large to be a float") from None
    if type(actual) is torch.Tensor:
        if actual.dtype == torch.bool:
            raise CheckFailure(f"{name} should be a number, got a bool tensor")
        _one_element(actual.numel(), actual.shape, "tensor", name)
        _readable(actual, name)
        return float(actual.detach().cpu().reshape(()).to(torch.float64))
    if type(actual) is np.ndarray:
        if actual.dtype == np.bool_:
            raise CheckFailure(f"{name} should be a number, got a bool array")
        _one_element(actual.size, actual.shape, "array", name)
        return float(actual.reshape(()).astype(np.float64))
    raise CheckFailure(f"{name} should be a number, got {type_name(actual)}")


def _one_element(size: int, shape: Sequence[int], kind: str, name: str) -> None:
    if size != 1:
        raise CheckFailure(
            f"{name} should be a number (a float or a one-element tensor), "
            f"got a {kind} of shape {fmt_shape(shape)}"
        )


def assert_number_close(
    actual: Any,
    expected: float,
    *,
    name: str,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    hint: str = "",
) -> None:
    """Check that `actual` is a number within atol + rtol * |expected| of `expected`."""
    try:
        value = expect_number(actual, name=name)
        got = torch.tensor(value, dtype=torch.float64)
        want = torch.tensor(float(expected), dtype=torch.float64)
        _compare_close(got, want, name=name, rtol=rtol, atol=atol)
    except CheckFailure as failure:
        raise CheckFailure(_with_hint(str(failure), hint)) from None


# ------------------------------------------------------------------------------------- measures


def rel_errors(a: Any, b: Any) -> torch.Tensor:
    """Elementwise |a - b| / max(1e-8, |a| + |b|) in float64 on the CPU; equal values give 0.

    Equal values include matching infinities and NaN against NaN, where the formula alone would
    give NaN. The shapes must match: silent broadcasting would hide a shape bug.
    """
    x, y = _cpu64(_as_reference(a)), _cpu64(_as_reference(b))
    if x.shape != y.shape:
        shapes = f"{fmt_shape(x.shape)} and {fmt_shape(y.shape)}"
        raise ValueError(f"rel_error needs equal shapes, got {shapes}")
    errors = (x - y).abs() / (x.abs() + y.abs()).clamp_min(REL_ERROR_FLOOR)
    same = (x == y) | (torch.isnan(x) & torch.isnan(y))
    return torch.where(same, torch.zeros((), dtype=torch.float64), errors)


def rel_error(a: Any, b: Any) -> float:
    """CS231n's relative error: max over elements of |a - b| / max(1e-8, |a| + |b|).

    Always in [0, 1] except NaN when exactly one side is NaN; 0.0 for empty inputs.
    """
    errors = rel_errors(a, b)
    # torch's max propagates NaN, so a NaN never reads as a small error.
    return float(errors.max()) if errors.numel() else 0.0
