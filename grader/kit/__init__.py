"""The kit for writing checks: each check module should read as its exercise's specification.

- `unpack` / `unpack_dict` with the kinds `array`, `tensor`, `number`, `py_float`, `integer`,
  `text`, `anything`: a returned tuple or dict of the expected parts (grader/kit/results.py).
- `call_unchanged` / `expect_unchanged`: the call left its inputs as they were (inputs.py).
- `Shortcuts`, `expect_no_shortcuts`, `find_shortcuts`: library functions the exercise asks
  learners to write themselves, resolved through imports and aliases (shortcuts.py).
- `Mistake`, `expect_close`, `likely_mistake`: compare, and name a typical mistake only when
  the result reproduces it (mistakes.py).

Comparisons stay in `grader.compare`, data sets in `grader.datasets`. See docs/architecture.md,
"Writing checks: the kit".
"""

from grader.kit.inputs import call_unchanged, changed_part, expect_unchanged
from grader.kit.mistakes import Mistake, expect_close, likely_mistake, matches
from grader.kit.results import (
    anything,
    array,
    describe,
    integer,
    number,
    py_float,
    tensor,
    text,
    unpack,
    unpack_dict,
)
from grader.kit.shortcuts import Shortcuts, Use, expect_no_shortcuts, find_shortcuts

__all__ = [
    "Mistake",
    "Shortcuts",
    "Use",
    "anything",
    "array",
    "call_unchanged",
    "changed_part",
    "describe",
    "expect_close",
    "expect_no_shortcuts",
    "expect_unchanged",
    "find_shortcuts",
    "integer",
    "likely_mistake",
    "matches",
    "number",
    "py_float",
    "tensor",
    "text",
    "unpack",
    "unpack_dict",
]
