"""The kit for writing checks: each check module should read as its exercise's specification.

- `unpack` / `unpack_dict` with the kinds `array`, `tensor`, `number`, `py_float`, `integer`,
  `text`, `anything`: a returned tuple or dict of the expected parts (grader/kit/results.py).
- `call_unchanged` / `expect_unchanged`: the call left its inputs as they were (inputs.py).
- `Shortcuts`, `expect_no_shortcuts`, `find_shortcuts`: library functions the exercise asks
  learners to write themselves, resolved through imports and aliases (shortcuts.py).
- `Mistake`, `expect_close`, `likely_mistake`: compare, and name a typical mistake only when
  the result reproduces it (mistakes.py).

The kit is also the one namespace a check module needs from the grader: `from grader import
kit` gives, beside the pieces above, the comparisons of `grader.compare` (`assert_close`,
`assert_array_close`, `expect_tensor`, `fmt_pair`, ...), the gradient helpers of
`grader.gradcheck`, the data sets of `grader.datasets` and the errors `CheckFailure` and
`SubmissionError`. See docs/architecture.md, "Writing checks: the kit".
"""

from grader.codec import type_name
from grader.compare import (
    assert_array_close,
    assert_array_equal,
    assert_close,
    assert_equal,
    assert_number_close,
    expect_array,
    expect_number,
    expect_tensor,
    expect_weights,
    fmt_dtype,
    fmt_number,
    fmt_pair,
    fmt_shape,
)
from grader.datasets import (
    diabetes,
    digits,
    digits_split,
    iris,
    logic_table,
    penguins_binary,
    penguins_frame,
)
from grader.errors import CheckFailure, SubmissionError
from grader.gradcheck import assert_gradient, autograd_gradients, numerical_gradient
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
    "CheckFailure",
    "Mistake",
    "Shortcuts",
    "SubmissionError",
    "Use",
    "anything",
    "array",
    "assert_array_close",
    "assert_array_equal",
    "assert_close",
    "assert_equal",
    "assert_gradient",
    "assert_number_close",
    "autograd_gradients",
    "call_unchanged",
    "changed_part",
    "describe",
    "diabetes",
    "digits",
    "digits_split",
    "expect_array",
    "expect_close",
    "expect_no_shortcuts",
    "expect_number",
    "expect_tensor",
    "expect_unchanged",
    "expect_weights",
    "find_shortcuts",
    "fmt_dtype",
    "fmt_number",
    "fmt_pair",
    "fmt_shape",
    "integer",
    "iris",
    "likely_mistake",
    "logic_table",
    "matches",
    "number",
    "numerical_gradient",
    "penguins_binary",
    "penguins_frame",
    "py_float",
    "tensor",
    "text",
    "type_name",
    "unpack",
    "unpack_dict",
]
