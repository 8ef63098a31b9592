"""Unpacking what a learner's function returned: a tuple or dict of the expected parts and kinds.

    w, b, losses = unpack(result, "fit_gd", w=array((3,)), b=number, losses=array((30,)))

Each keyword names one part, in order, and says what it must be: `array(shape)`, `tensor(...)`,
`number`, `py_float`, `integer`, `text` or `anything`. A wrong container or count fails with one
message style ("fit_gd should return a tuple (w, b, losses) of 3 values, got a list of 2"); a
wrong part fails with the part's own name ("fit_gd's b should be a number, got str").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from grader.codec import type_name
from grader.compare import DeviceLike, expect_array, expect_number, expect_tensor
from grader.errors import CheckFailure

# A kind checks one part, named in messages, and returns it in the form the check works with.
Kind = Callable[[Any, str], Any]


def describe(value: Any) -> str:
    """A returned value as messages show it: 'a list of 2', 'a dict with keys a, b', 'ndarray'."""
    if type(value) in (tuple, list):
        count = len(value)
        return f"a {type(value).__name__} of {count} value{'' if count == 1 else 's'}"
    if type(value) is dict:
        keys = ", ".join(sorted(map(str, value))) or "none"
        return f"a dict with keys {keys}"
    return type_name(value)


def unpack(
    value: Any, function: str, *, context: str = "", verb: str = "return", **kinds: Kind
) -> tuple[Any, ...]:
    """The parts of a returned tuple (a list is accepted too), each checked by its kind.

    `function` names the call in messages ("fit_gd" or "kfold_indices(20, 5)"); `context` is
    added to each part's name ("fit_closed_form's b (a single feature)"); `verb="be"` words the
    message for a value that is not itself returned ("fold 0 should be a tuple (train, test)").
    """
    names = tuple(kinds)
    if type(value) not in (tuple, list) or len(value) != len(names):
        raise CheckFailure(
            f"{function} should {verb} a tuple ({', '.join(names)}) of {len(names)} values, "
            f"got {describe(value)}"
        )
    return tuple(
        kind(part, _part_name(function, name, context))
        for part, (name, kind) in zip(value, kinds.items(), strict=True)
    )


def unpack_dict(
    value: Any, function: str, *, context: str = "", verb: str = "return", **kinds: Kind
) -> tuple[Any, ...]:
    """The entries of a returned dict with exactly these keys, in the order given, each checked."""
    names = tuple(kinds)
    if type(value) is not dict or set(value) != set(names):
        raise CheckFailure(
            f"{function} should {verb} a dict with the keys {', '.join(names)}, "
            f"got {describe(value)}"
        )
    return tuple(
        kind(value[name], _part_name(function, name, context)) for name, kind in kinds.items()
    )


def _part_name(function: str, name: str, context: str) -> str:
    owner = f"{function}'" if function.endswith("s") else f"{function}'s"
    return f"{owner} {name}" + (f" ({context})" if context else "")


# ------------------------------------------------------------------------------------- kinds


def array(shape: Sequence[int] | None = None) -> Kind:
    """A numeric NumPy array (of `shape`), returned as the array itself."""

    def check(value: Any, name: str) -> np.ndarray:
        return expect_array(value, name=name, shape=shape).numpy()

    return check


def tensor(
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    device: DeviceLike | None = None,
) -> Kind:
    """Exactly a torch.Tensor (of this shape, dtype and device when given)."""

    def check(value: Any, name: str) -> torch.Tensor:
        return expect_tensor(value, name=name, shape=shape, dtype=dtype, device=device)

    return check


def number(value: Any, name: str) -> float:
    """A number: int, float, or a one-element tensor or array; returned as a float."""
    return expect_number(value, name=name)


def py_float(value: Any, name: str) -> float:
    """A Python float: a float or an int, not a bool, an array or a tensor, which a docstring's
    "a Python float" rules out. NumPy float scalars (float32 too) reach a check as Python
    floats: the codec converts them, and they act as floats wherever the learner's value goes."""
    if type(value) is bool or not isinstance(value, (int, float)):
        raise CheckFailure(
            f"{name} should be a Python float, got {type_name(value)}; convert the result "
            "with float(...)" + (" (a tensor: .item())" if isinstance(value, torch.Tensor) else "")
        )
    return float(value)


def integer(value: Any, name: str) -> int:
    """A plain Python int (not a bool, not a NumPy integer: use int(...) to convert)."""
    if type(value) is not int:
        raise CheckFailure(f"{name} should be a Python int, got {type_name(value)}")
    return value


def text(value: Any, name: str) -> str:
    """A str."""
    if type(value) is not str:
        raise CheckFailure(f"{name} should be a str, got {type_name(value)}")
    return value


def anything(value: Any, name: str) -> Any:
    """Any value, unchecked (the check looks at it itself)."""
    return value
