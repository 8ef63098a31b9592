"""Unit tests for grader.compare: pass cases and the exact failure messages learners see."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
import torch

from grader.codec import Opaque
from grader.compare import (
    assert_close,
    assert_equal,
    assert_number_close,
    expect_number,
    expect_tensor,
    expect_weights,
    fmt_index,
    rel_error,
)
from grader.errors import CheckFailure


def failure(call, *args, **kwargs) -> str:
    """The message of the CheckFailure that call raises (fails the test if it does not raise)."""
    with pytest.raises(CheckFailure) as info:
        call(*args, **kwargs)
    return str(info.value)


def f64(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# ------------------------------------------------------------------------------------ expect_tensor


def test_expect_tensor_returns_a_matching_tensor() -> None:
    x = torch.zeros(4, 1)
    assert expect_tensor(x, name="predict", shape=(4, 1), dtype=torch.float32, device="cpu") is x


def test_expect_tensor_names_opaque_type() -> None:
    message = failure(expect_tensor, Opaque("AlwaysEqual"), name="predict")
    assert message == "predict should return a torch.Tensor, got AlwaysEqual"


@pytest.mark.parametrize(
    ("value", "type_name"),
    [([1.0, 2.0], "list"), (np.zeros(3), "ndarray"), (None, "NoneType"), (1.5, "float")],
)
def test_expect_tensor_rejects_non_tensors(value, type_name) -> None:
    assert failure(expect_tensor, value, name="predict").endswith(f"got {type_name}")


def test_expect_tensor_rejects_subclasses() -> None:
    class Sneaky(torch.Tensor):
        pass

    sneaky = torch.zeros(3).as_subclass(Sneaky)
    assert failure(expect_tensor, sneaky, name="predict").endswith("got Sneaky")
    parameter = torch.nn.Parameter(torch.zeros(3))
    assert failure(expect_tensor, parameter, name="predict").endswith("got Parameter")


def test_expect_tensor_shape_message() -> None:
    message = failure(expect_tensor, torch.zeros(4, 1), name="predict", shape=(4,))
    assert message == "predict returned shape (4, 1), expected (4,)"
    message = failure(expect_tensor, torch.zeros(()), name="loss", shape=torch.Size([1]))
    assert message == "loss returned shape (), expected (1,)"


def test_expect_tensor_points_out_a_transposed_shape() -> None:
    message = failure(expect_tensor, torch.zeros(3, 4), name="W", shape=(4, 3))
    assert message == "W returned shape (3, 4), expected (4, 3) (is it transposed?)"


def test_expect_tensor_dtype_message() -> None:
    x = torch.zeros(2, dtype=torch.float64)
    message = failure(expect_tensor, x, name="predict", dtype=torch.float32)
    assert message == "predict returned dtype torch.float64, expected torch.float32"


def test_expect_tensor_device_message() -> None:
    message = failure(expect_tensor, torch.zeros(2), name="predict", device="cuda:0")
    assert message == "predict is on cpu, expected cuda:0: keep results on the input's device"
    meta = torch.zeros(2, device="meta")
    message = failure(expect_tensor, meta, name="predict", device=torch.device("cpu"))
    assert message.startswith("predict is on meta, expected cpu")


def test_expect_tensor_accepts_matching_device() -> None:
    x = torch.zeros(2)
    assert expect_tensor(x, name="x", device="cpu") is x
    assert expect_tensor(x, name="x", device=torch.device("cpu")) is x


def test_expect_tensor_checks_shape_before_dtype() -> None:
    x = torch.zeros(3, dtype=torch.int64)
    message = failure(expect_tensor, x, name="predict", shape=(2,), dtype=torch.float32)
    assert "shape" in message and "dtype" not in message


# ------------------------------------------------------------------------------------- assert_close


def test_assert_close_passes_within_tolerance_and_across_dtypes() -> None:
    expected = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(3, 4)
    assert_close(expected.float(), expected, name="predict", rtol=1e-6)
    assert_close(expected + 1e-9, expected, name="predict")
    assert_close(torch.zeros(0, 3), torch.zeros(0, 3), name="empty")


def test_assert_close_accepts_numpy_and_number_references() -> None:
    assert_close(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]), name="x")
    assert_close(torch.tensor(0.5), 0.5, name="x")
    assert "got 0.5, expected 0.6" in failure(assert_close, torch.tensor(0.5), 0.6, name="x")


def test_assert_close_mismatch_message() -> None:
    expected = torch.zeros(5, 4, dtype=torch.float64)
    expected[3, 1] = -0.40
    actual = expected.clone()
    actual[3, 1] = 0.12
    actual[4, 0] = 0.01
    message = failure(assert_close, actual, expected, name="predict")
    assert message.startswith(
        "predict differs from the expected value at [3, 1]: got 0.12, expected -0.4 "
    )
    assert "max |got - expected| 0.52" in message
    assert "relative error" not in message
    assert "2 of 20 elements differ: |got - expected| exceeds atol + rtol*|expected|" in message
    assert "(rtol=1e-05, atol=1e-08), the most at [3, 1] by 0.52" in message
    assert "\n" not in message


def test_assert_close_reports_the_criterion_it_applies() -> None:
    """The excess is measured against atol + rtol * |expected|, the bound torch.isclose uses."""
    message = failure(assert_close, f64(1.0, 2.02), f64(1.0, 2.0), name="x", rtol=1e-3, atol=0.0)
    # |2.02 - 2| = 0.02 against a bound of 0.002: exceeded by 0.018.
    assert "max |got - expected| 0.02;" in message and "the most at [1] by 0.018)" in message
    message = failure(assert_number_close, 1.5, 1.0, name="x", rtol=0.1, atol=0.01)
    assert "|got - expected| = 0.5 exceeds atol + rtol*|expected| = 0.11" in message


def test_assert_close_prints_a_difference_faithfully() -> None:
    """Digits are added until the printed values differ by about the true difference."""
    message = failure(assert_close, f64(0.2341944999), f64(0.2341945001), name="x", rtol=0, atol=0)
    assert "got 0.2341944999, expected 0.2341945001" in message
    message = failure(assert_close, f64(1.2341944), f64(1.2341946), name="x", rtol=0, atol=0)
    assert "got 1.2341944, expected 1.2341946" in message


def test_assert_close_reports_the_first_mismatch_in_row_major_order() -> None:
    expected = torch.zeros(3, 3, dtype=torch.float64)
    actual = expected.clone()
    actual[2, 0] = 5.0
    actual[1, 2] = 1.0
    assert " at [1, 2]: " in failure(assert_close, actual, expected, name="x")


def test_assert_close_zero_dim_has_no_index() -> None:
    message = failure(assert_close, torch.tensor(0.12), torch.tensor(-0.4), name="loss")
    assert message.startswith("loss differs from the expected value: got 0.12, expected -0.4 (")
    assert "[" not in message and "of 1 element" not in message


def test_assert_close_shows_more_digits_when_four_look_equal() -> None:
    message = failure(assert_close, f64(1.00001), f64(1.00003), name="x", rtol=1e-6)
    found = re.search(r"got (\S+), expected (\S+) ", message)
    assert found is not None, message
    got, expected = found.groups()
    assert got != expected
    assert float(got) == pytest.approx(1.00001) and float(expected) == pytest.approx(1.00003)


def test_assert_close_singular_count() -> None:
    message = failure(assert_close, f64(1.0, 2.0), f64(1.0, 3.0), name="x")
    assert "1 of 2 elements differs" in message


def test_assert_close_appends_hint_to_every_kind_of_failure() -> None:
    message = failure(assert_close, f64(1.0), f64(2.0), name="x", hint="add the bias")
    assert message.endswith("\nHint: add the bias")
    message = failure(assert_close, Opaque("Foo"), f64(2.0), name="x", hint="return a tensor")
    assert message == "x should return a torch.Tensor, got Foo\nHint: return a tensor"


def test_assert_close_enforces_dtype_and_device_only_when_asked() -> None:
    expected = f64(1.0, 2.0)
    assert_close(expected.float(), expected, name="x")
    message = failure(assert_close, expected.float(), expected, name="x", dtype=torch.float64)
    assert "dtype torch.float32, expected torch.float64" in message
    message = failure(assert_close, expected, expected, name="x", device="cuda")
    assert "x is on cpu, expected cuda" in message


def test_assert_close_names_nan_origin() -> None:
    expected = torch.full((4, 5), 0.41, dtype=torch.float64)
    actual = expected.clone()
    actual[2, 3] = float("nan")
    actual[3, 0] = float("inf")
    actual[0, 0] = 99.0  # an earlier plain mismatch must not hide the NaN
    message = failure(assert_close, actual, expected, name="loss")
    assert message == "loss has NaN at [2, 3] (expected 0.41; 2 of 20 elements are NaN or inf)"


def test_assert_close_names_infinity_and_zero_dim_nan() -> None:
    message = failure(assert_close, torch.tensor([0.0, -math.inf]), f64(0.0, 1.5), name="logits")
    assert message == "logits has -inf at [1] (expected 1.5)"
    message = failure(assert_close, torch.tensor(math.nan), f64(0.41).reshape(()), name="loss")
    assert message == "loss is NaN (expected 0.41)"


def test_assert_close_matching_non_finite_values_are_equal() -> None:
    values = f64(math.nan, math.inf, -math.inf, 1.0)
    assert_close(values.clone(), values, name="x")


def test_assert_close_mismatched_non_finite_values_fail() -> None:
    message = failure(assert_close, f64(1.0, -math.inf), f64(1.0, math.inf), name="x")
    assert "at [1]: got -inf, expected inf" in message
    assert "abs error" not in message  # an infinite error would be noise
    message = failure(assert_close, f64(2.0), f64(math.nan), name="x")
    assert "got 2, expected nan" in message


def test_assert_close_compares_bool_and_int_by_value() -> None:
    assert_close(torch.tensor([True, False]), f64(1.0, 0.0), name="mask")
    assert_close(torch.tensor([3, 4]), f64(3.0, 4.0), name="counts")
    assert "got 4, expected 5" in failure(assert_close, torch.tensor([4]), f64(5.0), name="c")


def test_assert_close_accepts_tensors_that_require_grad() -> None:
    actual = torch.tensor([1.0, 2.0], requires_grad=True) * 1
    assert_close(actual, f64(1.0, 2.0), name="x")
    assert actual.requires_grad


# ------------------------------------------------------------------------------------- assert_equal


def test_assert_equal_message() -> None:
    actual = torch.tensor([0, 1, 1, 0, 1, 0, 1, 1, 0, 0])
    expected = torch.tensor([0, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    message = failure(assert_equal, actual, expected, name="predict")
    assert message == "predict differs at [4]: got 1, expected 0 (3 of 10 elements differ)"


def test_assert_equal_passes_and_mixes_bool_with_int() -> None:
    assert_equal(torch.tensor([1, 0, 1]), torch.tensor([True, False, True]), name="mask")
    assert_equal(torch.tensor([1.0, 0.0]), torch.tensor([1, 0]), name="labels")
    message = failure(assert_equal, torch.tensor([True, True]), torch.tensor([1, 0]), name="m")
    assert message == "m differs at [1]: got 1, expected 0 (1 of 2 elements differs)"


def test_assert_equal_dtype_pins_the_type() -> None:
    message = failure(
        assert_equal, torch.tensor([1, 0]), torch.tensor([1, 0]), name="m", dtype=torch.bool
    )
    assert message == "m returned dtype torch.int64, expected torch.bool"


def test_assert_equal_is_exact_for_floats_and_large_ints() -> None:
    message = failure(assert_equal, f64(1.0 + 1e-12), f64(1.0), name="x")
    assert "got 1.000000000001, expected 1.0" in message
    big = 2**53 + 1
    message = failure(assert_equal, torch.tensor([big]), torch.tensor([big - 1]), name="n")
    assert f"got {big}, expected {big - 1}" in message


def test_assert_equal_zero_dim_and_hint() -> None:
    message = failure(assert_equal, torch.tensor(3), torch.tensor(4), name="count", hint="h")
    assert message == "count differs: got 3, expected 4\nHint: h"


def test_assert_equal_rejects_opaque_and_wrong_shape() -> None:
    assert failure(assert_equal, Opaque("Weird"), torch.tensor([1]), name="p").endswith("Weird")
    message = failure(assert_equal, torch.tensor([[1]]), torch.tensor([1]), name="p")
    assert message == "p returned shape (1, 1), expected (1,)"


# ------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, 2.0),
        (0.5, 0.5),
        (torch.tensor(1.5), 1.5),
        (torch.tensor([[2.5]], dtype=torch.float64), 2.5),
        (torch.tensor(3), 3.0),
        (np.array([0.25]), 0.25),
    ],
)
def test_expect_number_accepts(value, expected) -> None:
    result = expect_number(value, name="loss")
    assert type(result) is float and result == expected


@pytest.mark.parametrize(
    ("value", "ending"),
    [
        ([1.0], "should be a number, got list"),
        (True, "should be a number, got bool"),
        (Opaque("AlwaysEqual"), "should be a number, got AlwaysEqual"),
        (torch.zeros(3), "got a tensor of shape (3,)"),
        (torch.tensor(True), "got a bool tensor"),
        (np.zeros((2, 2)), "got a array of shape (2, 2)"),
        ("0.5", "should be a number, got str"),
    ],
)
def test_expect_number_rejects(value, ending) -> None:
    message = failure(expect_number, value, name="loss")
    assert message.startswith("loss ") and message.endswith(ending)


def test_expect_number_rejects_tensor_subclass() -> None:
    class Fake(torch.Tensor):
        pass

    fake = torch.tensor(1.0).as_subclass(Fake)
    assert failure(expect_number, fake, name="loss") == "loss should be a number, got Fake"


def test_assert_number_close() -> None:
    assert_number_close(torch.tensor(0.6931), 0.6931, name="loss", rtol=1e-4)
    assert_number_close(1, 1.0, name="loss")
    message = failure(assert_number_close, 0.12, -0.4, name="loss", hint="check the sign")
    assert message.startswith("loss differs from the expected value: got 0.12, expected -0.4")
    assert "|got - expected| = 0.52 exceeds" in message
    assert message.endswith("\nHint: check the sign")


def test_assert_number_close_non_finite() -> None:
    assert failure(assert_number_close, math.nan, 0.41, name="loss") == (
        "loss is NaN (expected 0.41)"
    )
    assert_number_close(math.inf, math.inf, name="loss")
    assert "got a tensor of shape (2,)" in failure(
        assert_number_close, torch.zeros(2), 0.0, name="loss"
    )


# ---------------------------------------------------------------------------------------- rel_error


def test_rel_error_values() -> None:
    assert rel_error(0.12, -0.4) == pytest.approx(1.0)
    assert rel_error(f64(1.0, 2.0), f64(1.0, 2.0)) == 0.0
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(f64(1.0, 3.0), f64(1.0, 1.0)) == pytest.approx(0.5)
    # the 1e-8 floor keeps tiny differences near zero from blowing up
    assert rel_error(1e-10, 0.0) == pytest.approx(1e-2)
    assert rel_error(torch.zeros(0), torch.zeros(0)) == 0.0


def test_rel_error_uses_float64() -> None:
    a = torch.tensor([1.0], dtype=torch.float32)
    b = torch.tensor([1.0 + 1e-12], dtype=torch.float64)
    assert 0 < rel_error(a, b) < 1e-11


def test_rel_error_nan_and_inf() -> None:
    assert math.isnan(rel_error(f64(math.nan, 1.0), f64(0.0, 1.0)))
    assert rel_error(f64(math.inf), f64(math.inf)) == 0.0
    assert rel_error(f64(math.nan), f64(math.nan)) == 0.0


def test_rel_error_rejects_shape_mismatch() -> None:
    with pytest.raises(ValueError, match=r"\(4, 1\) and \(4,\)"):
        rel_error(torch.zeros(4, 1), torch.zeros(4))


def test_fmt_index() -> None:
    assert fmt_index(7, (2, 3, 4)) == "[0, 1, 3]"
    assert fmt_index(0, ()) == ""
    assert fmt_index(5, (10,)) == "[5]"


def test_numpy_results_are_compared_with_array_helpers() -> None:
    import numpy as np

    from grader.compare import assert_array_close, assert_array_equal

    assert_array_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), name="w")
    assert_array_equal(np.array([0, 1, 1]), np.array([0, 1, 1]), name="labels")
    with pytest.raises(CheckFailure, match=r"w differs from the expected value at \[1\]"):
        assert_array_close(np.array([1.0, 2.5]), np.array([1.0, 2.0]), name="w")
    with pytest.raises(CheckFailure, match="got Tensor; this exercise works in NumPy"):
        assert_array_close(torch.zeros(2), np.zeros(2), name="w")
    with pytest.raises(CheckFailure, match=r"shape \(3, 1\), expected \(3,\) \(an extra axis"):
        assert_array_equal(np.zeros((3, 1)), np.zeros(3), name="labels")
    with pytest.raises(CheckFailure, match="wrap it in np.array"):
        assert_array_equal([0, 1], np.zeros(2), name="labels")
    with pytest.raises(CheckFailure, match="labels differs at \\[2\\]: got 0, expected 1"):
        assert_array_equal(np.array([0, 1, 0]), np.array([0, 1, 1]), name="labels")


def test_a_python_float_reference_keeps_float64_precision() -> None:
    value = 0.1 + 1e-12
    assert_close(torch.tensor(value, dtype=torch.float64), value, name="loss", rtol=0, atol=1e-15)


def test_expect_weights_names_what_is_wrong_and_what_to_do() -> None:
    like = {"w": torch.zeros(2, 3), "b": torch.zeros(3)}
    good = {"w": torch.ones(2, 3), "b": torch.ones(3)}
    kwargs: dict[str, Any] = {
        "what": "fit's result", "device": "cpu", "restore": "return model weights",
    }  # fmt: skip
    assert expect_weights(good, like, **kwargs) is good
    with pytest.raises(CheckFailure, match="got an OrderedDict, which cannot be sent back.*"
                       "return model weights"):  # fmt: skip
        expect_weights(Opaque("OrderedDict"), like, **kwargs)
    with pytest.raises(CheckFailure, match=r"has the entries \['w'\], expected \['b', 'w'\]"):
        expect_weights({"w": good["w"]}, like, **kwargs)
    with pytest.raises(CheckFailure, match=r"fit's result\['b'\] returned shape"):
        expect_weights({"w": good["w"], "b": torch.ones(4)}, like, **kwargs)
