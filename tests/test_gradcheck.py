"""Unit tests for grader.gradcheck: reference gradients and assert_gradient's messages."""

from __future__ import annotations

import pytest
import torch

from grader.codec import Opaque
from grader.errors import CheckFailure
from grader.gradcheck import assert_gradient, autograd_gradients, numerical_gradient


def failure(call, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as info:
        call(*args, **kwargs)
    return str(info.value)


def assert_allclose(
    actual: torch.Tensor, expected: torch.Tensor, *, rtol: float = 1e-7, atol: float = 1e-9
) -> None:
    # torch.testing.assert_close costs ~1.5 s of imports on first use; allclose is enough here.
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    assert torch.allclose(actual, expected, rtol=rtol, atol=atol), (actual, expected)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


# ------------------------------------------------------------------------------ numerical_gradient


def test_numerical_gradient_of_cubic_sum(gen) -> None:
    x = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    grad = numerical_gradient(lambda t: (t**3).sum(), x)
    assert grad.shape == x.shape and grad.dtype == torch.float64
    assert_allclose(grad, 3 * x**2, rtol=1e-6, atol=1e-8)


def test_numerical_gradient_does_not_mutate_input(gen) -> None:
    x = torch.randn(5, generator=gen, dtype=torch.float32)
    before = x.clone()
    grad = numerical_gradient(lambda t: (t**2).sum(), x)
    assert torch.equal(x, before) and x.dtype == torch.float32
    assert_allclose(grad, 2 * before.double(), rtol=1e-5, atol=1e-6)


def test_numerical_gradient_works_in_float64_for_float32_input() -> None:
    x = torch.tensor([1.0, 2.0], dtype=torch.float32)
    seen: list[torch.dtype] = []

    def f(t: torch.Tensor) -> torch.Tensor:
        seen.append(t.dtype)
        return t.sum()

    numerical_gradient(f, x)
    assert seen and set(seen) == {torch.float64}


def test_numerical_gradient_matches_autograd_for_matrix_function(gen) -> None:
    w = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    x = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    upstream = torch.randn(5, 3, generator=gen, dtype=torch.float64)

    def layer(weights: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ weights)

    numeric = numerical_gradient(layer, w, upstream=upstream)
    (analytic,) = autograd_gradients(layer, [w], upstream=upstream)
    assert_allclose(numeric, analytic, rtol=1e-6, atol=1e-9)
    # and against the closed form: dW = x^T (upstream * (1 - tanh^2))
    closed = x.T @ (upstream * (1 - torch.tanh(x @ w) ** 2))
    assert_allclose(analytic, closed)


def test_numerical_gradient_of_python_scalar() -> None:
    grad = numerical_gradient(lambda t: float(t[0] * t[1]), torch.tensor([2.0, 5.0]))
    assert_allclose(grad, torch.tensor([5.0, 2.0], dtype=torch.float64))


def test_numerical_gradient_scalar_upstream_scales() -> None:
    grad = numerical_gradient(
        lambda t: (t**2).sum(), torch.tensor([1.0, -1.0]), upstream=torch.tensor(3.0)
    )
    assert_allclose(grad, torch.tensor([6.0, -6.0], dtype=torch.float64))


def test_upstream_shape_must_match() -> None:
    with pytest.raises(ValueError, match="upstream has shape"):
        numerical_gradient(lambda t: t * 2, torch.zeros(3), upstream=torch.ones(3, 1))
    with pytest.raises(ValueError, match="upstream has shape"):
        autograd_gradients(lambda t: t * 2, [torch.zeros(3)], upstream=torch.ones(1, 3))


# ------------------------------------------------------------------------------ autograd_gradients


def test_autograd_gradients_for_several_inputs(gen) -> None:
    a = torch.randn(2, 3, generator=gen)
    b = torch.randn(3, 2, generator=gen)
    ga, gb = autograd_gradients(lambda p, q: (p @ q).sum(), [a, b])
    assert ga.dtype == gb.dtype == torch.float64
    assert not ga.requires_grad and not gb.requires_grad
    assert_allclose(ga, b.double().sum(1).expand(2, 3))
    assert_allclose(gb, a.double().sum(0)[:, None].expand(3, 2))
    assert a.grad is None and not a.requires_grad


def test_autograd_gradients_unused_input_gets_zeros() -> None:
    ga, gb = autograd_gradients(lambda p, q: (p**2).sum(), [torch.ones(2), torch.ones(3)])
    assert_allclose(ga, torch.full((2,), 2.0, dtype=torch.float64))
    assert torch.equal(gb, torch.zeros(3, dtype=torch.float64))


def test_autograd_gradients_inside_no_grad() -> None:
    with torch.no_grad():
        (g,) = autograd_gradients(lambda t: (t**3).sum(), [torch.tensor([2.0])])
    assert_allclose(g, torch.tensor([12.0], dtype=torch.float64))


# -------------------------------------------------------------------------------- assert_gradient


def test_assert_gradient_passes(gen) -> None:
    expected = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    assert_gradient(expected.clone(), expected, name="dW1")
    assert_gradient(expected.float(), expected, name="dW1", threshold=1e-5)


def test_assert_gradient_catches_transposed_square_gradient(gen) -> None:
    expected = torch.randn(3, 3, generator=gen, dtype=torch.float64)
    message = failure(assert_gradient, expected.T.clone(), expected, name="dW1")
    assert message.startswith("dW1 differs from the expected gradient at [")
    assert "allowed 1e-06" in message
    assert "6 of 9 elements exceed it" in message
    assert "matches the expected gradient transposed" in message


def test_assert_gradient_transposed_non_square_is_a_shape_error() -> None:
    message = failure(assert_gradient, torch.zeros(3, 4), torch.zeros(4, 3), name="dW1")
    assert message == "dW1 returned shape (3, 4), expected (4, 3) (is it transposed?)"


def test_assert_gradient_names_worst_element() -> None:
    expected = torch.full((4, 2), 1.0, dtype=torch.float64)
    expected[3, 1] = -0.40
    actual = expected.clone()
    actual[0, 0] = 1.001  # small error first in order
    actual[3, 1] = 0.12  # the largest relative error
    message = failure(assert_gradient, actual, expected, name="dW1", hint="check the chain rule")
    assert message == (
        "dW1 differs from the expected gradient at [3, 1]: got 0.12, expected -0.4 "
        "(relative error |got - expected| / (|got| + |expected|) = 1, allowed 1e-06; "
        "2 of 8 elements exceed it)"
        "\nHint: check the chain rule"
    )


def test_assert_gradient_nan_is_worst() -> None:
    expected = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    actual = torch.tensor([1.5, float("nan"), 3.0])
    message = failure(assert_gradient, actual, expected, name="db")
    assert "at [1]: got nan, expected 2" in message and "(|got| + |expected|) = nan" in message


def test_assert_gradient_zero_dim_and_type_checks() -> None:
    message = failure(assert_gradient, torch.tensor(0.5), torch.tensor(0.25), name="dx")
    assert message.startswith("dx differs from the expected gradient: got 0.5, expected 0.25 (")
    assert "elements" not in message
    message = failure(assert_gradient, Opaque("AlwaysEqual"), torch.zeros(2), name="dx")
    assert message == "dx should return a torch.Tensor, got AlwaysEqual"
    message = failure(assert_gradient, [0.0, 0.0], torch.zeros(2), name="dx", hint="h")
    assert message == "dx should return a torch.Tensor, got list\nHint: h"


def test_assert_gradient_end_to_end_with_numerical_reference(gen) -> None:
    x = torch.randn(6, 2, generator=gen, dtype=torch.float64)

    def loss(t: torch.Tensor) -> torch.Tensor:
        return (t.sin() * t).sum()

    reference = numerical_gradient(loss, x)
    correct = x.sin() + x * x.cos()
    assert_gradient(correct, reference, name="dx", threshold=1e-7)
    message = failure(assert_gradient, x.cos(), reference, name="dx", threshold=1e-7)
    assert "dx differs from the expected gradient at [" in message
