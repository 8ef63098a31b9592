"""'The call left its inputs unchanged': one helper for every check that promises it.

    result = call_unchanged(submission, "update", w, b, x, y, lr, names=("w", "b"))

runs the learner's `update`, then compares the arguments as the learner's code left them with
the values sent, and fails with one message: "update modified its argument w in place; build
new tensors (w + ..., not w += ... or w[...] = ...) so the caller's w keeps its values".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from grader.errors import CheckFailure


def call_unchanged(
    submission: Any,
    function: str,
    *args: Any,
    names: Sequence[str | None],
    kwargs: Mapping[str, Any] | None = None,
    how: str = "",
) -> Any:
    """Call `function(*args, **kwargs)` in the worker; fail if it changed a named argument.

    `names[i]` names the i-th positional argument in messages; None (or a shorter `names`)
    leaves that argument unchecked. `how` replaces the default advice; "{name}" in it is
    replaced by the argument's name.
    """
    result, after = submission.call_with_inputs(function, *args, **dict(kwargs or {}))
    expect_unchanged(function, args, after, names, how=how)
    return result


def expect_unchanged(
    function: str, before: Sequence[Any], after: Sequence[Any], names: Sequence[str | None],
    *, how: str = "",
) -> None:  # fmt: skip
    """Fail if any named argument differs between `before` (sent) and `after` (left by the call)."""
    for name, sent, left in zip(names, before, after, strict=False):
        if name is None:
            continue
        where = changed_part(sent, left, name)
        if where is not None:
            advice = (how or _default_how(sent)).replace("{name}", name)
            raise CheckFailure(f"{function} modified its argument {where} in place; {advice}")


def changed_part(sent: Any, left: Any, name: str) -> str | None:
    """The name of the first part of `left` that differs from `sent` ('state['m']'), else None."""
    if isinstance(sent, torch.Tensor):
        same = type(left) is torch.Tensor and _same_tensor(sent, left)
        return None if same else name
    if isinstance(sent, np.ndarray):
        same = type(left) is np.ndarray and _same_tensor(
            torch.from_numpy(sent), torch.from_numpy(left)
        )
        return None if same else name
    if isinstance(sent, Mapping):
        if type(left) is not dict or set(left) != set(sent):
            return name
        for key in sent:
            inner = changed_part(sent[key], left[key], f"{name}[{key!r}]")
            if inner is not None:
                return inner
        return None
    if isinstance(sent, list | tuple):
        if type(left) not in (list, tuple) or len(left) != len(sent):
            return name
        for i, (a, b) in enumerate(zip(sent, left, strict=True)):
            inner = changed_part(a, b, f"{name}[{i}]")
            if inner is not None:
                return inner
        return None
    return None if sent == left or (sent != sent and left != left) else name


def _same_tensor(sent: torch.Tensor, left: torch.Tensor) -> bool:
    if sent.shape != left.shape or sent.dtype != left.dtype:
        return False
    a, b = sent.detach().cpu(), left.detach().cpu()
    if a.is_floating_point() or a.is_complex():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return torch.equal(a, b)


def _default_how(sent: Any) -> str:
    if isinstance(sent, Mapping):
        change = "a new dict ({**{name}, key: ...}, not {name}[key] = ...) of new tensors"
    else:
        kind = "arrays" if isinstance(sent, np.ndarray) else "tensors"
        change = f"new {kind} ({{name}} + ..., not {{name}} += ... or {{name}}[...] = ...)"
    return f"build {change} so the caller's {{name}} keeps its values"
