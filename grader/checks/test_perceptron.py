"""Checks for the perceptron exercise: predict, the learning rule, an epoch, and training runs."""

from __future__ import annotations

import pytest
import torch

from grader.compare import assert_close, assert_equal, expect_number, expect_tensor
from grader.datasets import logic_table, penguins_binary
from grader.errors import CheckFailure

pytestmark = pytest.mark.exercise("perceptron")

F32 = torch.float32


def _away_from_boundary(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # float32 and float64 may round z = 0.00001 differently; keep rows whose side is clear.
    return X[(X @ w + b).abs() > 1e-2]


def _epoch(submission, w, b, X, y, lr):
    """One learner epoch, with its results checked for type and shape."""
    result = submission.train_epoch(w, b, X, y, lr)
    if not isinstance(result, tuple) or len(result) != 3:
        raise CheckFailure(f"train_epoch should return a tuple (w, b, mistakes), got {result!r}")
    new_w = expect_tensor(result[0], name="train_epoch's w", shape=w.shape, device=w.device)
    new_b = expect_tensor(result[1], name="train_epoch's b", shape=b.shape, device=b.device)
    if type(result[2]) is not int:
        raise CheckFailure(
            f"train_epoch's mistakes should be a Python int, got {type(result[2]).__name__}; "
            "use int(...) on a counted tensor"
        )
    return new_w, new_b, result[2]


@pytest.mark.points(2)
def test_predict_step(submission, reference, device, rng):
    """predict classifies random points like the reference"""
    X = torch.randn(80, 5, generator=rng, dtype=torch.float64)
    w = torch.randn(5, generator=rng, dtype=torch.float64)
    b = torch.randn((), generator=rng, dtype=torch.float64)
    X = _away_from_boundary(X, w, b)
    hint = "z = X @ w + b, then 1.0 where z >= 0 and 0.0 elsewhere, in X's dtype"
    for dtype in (F32, torch.float64):
        got = submission.predict(w.to(device, dtype), b.to(device, dtype), X.to(device, dtype))
        name = f"predict(w, b, X) with {str(dtype).removeprefix('torch.')} inputs"
        assert_equal(
            got, reference.predict(w, b, X), name=name, dtype=dtype, device=device, hint=hint
        )


def test_predict_boundary(submission, reference, device, rng):
    """a point exactly on the boundary (z == 0) is classified as 1"""
    X = torch.randint(-3, 4, (12, 4), generator=rng).double()
    w = torch.randint(-3, 4, (4,), generator=rng).double()
    X[:4] = X[0]
    b = -(X[0] @ w)  # integers, so z is exactly 0 on the first four rows in any precision
    for case_w, case_b in (
        (w, b),
        (torch.zeros(4, dtype=torch.float64), torch.zeros((), dtype=torch.float64)),
    ):
        got = submission.predict(case_w.to(device, F32), case_b.to(device, F32), X.to(device, F32))
        assert_equal(
            got,
            reference.predict(case_w, case_b, X),
            name="predict on points with z == 0",
            dtype=F32,
            device=device,
            hint="step(z) is 1 when z >= 0: use >=, not >",
        )


@pytest.mark.points(2)
def test_update_rule(submission, reference, device, rng):
    """update applies Rosenblatt's rule to one example and leaves w and b unchanged"""
    for case in range(6):
        w = torch.randn(4, generator=rng, dtype=torch.float64)
        b = torch.randn((), generator=rng, dtype=torch.float64)
        x = _away_from_boundary(torch.randn(8, 4, generator=rng, dtype=torch.float64), w, b)[0]
        y = torch.tensor(float(case % 2), dtype=torch.float64)
        lr = 0.1 + 0.9 * torch.rand((), generator=rng).item()
        inputs = [t.to(device, F32) for t in (w, b, x, y)]
        result, after = submission.call_with_inputs("update", *inputs, lr)
        if not isinstance(result, tuple) or len(result) != 2:
            raise CheckFailure(f"update should return a tuple (w, b), got {result!r}")
        want_w, want_b = reference.update(w, b, x, y, lr)
        hint = "error = y - predict(w, b, x[None])[0]; w + lr * error * x; b + lr * error"
        common = {"dtype": F32, "device": device, "rtol": 1e-5, "atol": 1e-5, "hint": hint}
        assert_close(result[0], want_w, name=f"update's new w (case {case + 1})", **common)
        assert_close(result[1], want_b, name=f"update's new b (case {case + 1})", **common)
        for label, before, now in (("w", inputs[0], after[0]), ("b", inputs[1], after[1])):
            if not torch.equal(before.cpu(), now.cpu()):
                raise CheckFailure(
                    f"update modified its argument {label} in place; return new tensors "
                    f"(w + ..., not w += ...) so the caller's {label} keeps its value"
                )


@pytest.mark.points(2)
def test_train_epoch_matches(submission, reference, device, rng):
    """one epoch on a small data set matches the reference, mistakes included"""
    # Small integers and lr = 1 keep every value exact in float32, so runs can match exactly.
    X = torch.randint(-5, 6, (30, 3), generator=rng).double()
    true_w = torch.randint(-3, 4, (3,), generator=rng).double()
    y = (X @ true_w + 1 >= 0).double()
    w, b = torch.zeros(3, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    for epoch in range(1, 4):
        got_w, got_b, got_mistakes = _epoch(
            submission,
            w.to(device, F32),
            b.to(device, F32),
            X.to(device, F32),
            y.to(device, F32),
            1.0,
        )
        w, b, mistakes = reference.train_epoch(w, b, X, y, 1.0)
        hint = "visit rows in order; count a mistake before that row's update"
        assert_close(got_w, w, name=f"w after epoch {epoch}", dtype=F32, device=device, hint=hint)
        assert_close(got_b, b, name=f"b after epoch {epoch}", dtype=F32, device=device, hint=hint)
        if got_mistakes != mistakes:
            raise CheckFailure(
                f"epoch {epoch}: train_epoch counted {got_mistakes} mistakes, expected {mistakes}. "
                f"Hint: {hint}"
            )


# The live figure's names for label 0 and label 1, and its axes, per data set drawn. (The AND
# check takes a few milliseconds: a figure would add a tenth to it.)
FIGURES = {"penguins": (["Gentoo", "Adelie"], "bill length (std)", "bill depth (std)")}


def _show_line(metrics, series, X, y, w, b, caption, epoch):
    """Draw the learner's line w . x + b = 0 over the data (a picture only, never a verdict)."""
    groups, xlabel, ylabel = FIGURES[series]
    line = {"label": "w.x + b = 0", "coef": [*w.tolist(), b.item()], "side": groups[1]}
    data = {"x": X[:, 0], "y": X[:, 1], "group": y.long(), "groups": groups, "lines": [line]}
    data.update(xlabel=xlabel, ylabel=ylabel, caption=caption)
    metrics.figure(f"{series} line", "scatter", data, step=epoch)


def _train(submission, reference, metrics, X, y, device, epochs, series):
    """Drive the learner's train_epoch from here; judge each epoch with trusted code."""
    w = torch.zeros(X.shape[1], device=device)
    b = torch.zeros((), device=device)
    Xd, yd = X.to(device, F32), y.to(device, F32)
    history = []
    for epoch in range(1, epochs + 1):
        w, b, mistakes = _epoch(submission, w, b, Xd, yd, 1.0)
        accuracy = (reference.predict(w.cpu().double(), b.cpu().double(), X) == y).double().mean()
        metrics.emit(f"{series} mistakes", mistakes, step=epoch)
        metrics.emit(f"{series} accuracy", accuracy.item(), step=epoch)
        if series in FIGURES:
            caption = f"epoch {epoch}: {mistakes} mistake{'' if mistakes == 1 else 's'}"
            _show_line(metrics, series, X, y, w, b, caption, epoch)
        history.append((mistakes, accuracy.item()))
        if accuracy.item() == 1.0:
            break
    return history


def test_learns_and(submission, reference, device, metrics, rng):
    """training on the AND gate reaches 100% accuracy within 20 epochs"""
    X, y = logic_table("and")
    order = torch.randperm(4, generator=rng)
    history = _train(submission, reference, metrics, X[order], y[order], device, 20, "AND")
    if history[-1][1] < 1.0:
        raise CheckFailure(
            f"after 20 epochs on AND the perceptron still gets {history[-1][1]:.0%} right; "
            "AND is linearly separable, so a correct update rule gets there in a few epochs"
        )


def test_learns_penguins(submission, reference, device, metrics, rng):
    """training separates Adelie from Gentoo penguins by bill length and depth"""
    X, y = penguins_binary()
    order = torch.randperm(len(y), generator=rng)
    history = _train(submission, reference, metrics, X[order], y[order], device, 60, "penguins")
    if history[-1][1] < 1.0:
        raise CheckFailure(
            f"after {len(history)} epochs on the penguins the perceptron gets "
            f"{history[-1][1]:.1%} right; the two species are linearly separable, so a "
            "correct perceptron reaches 100%"
        )


def test_xor_never_converges(submission, reference, device, metrics):
    """on XOR the learner's training matches the reference and never reaches 100%"""
    X, y = logic_table("xor")
    w, b = torch.zeros(2, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    got_w, got_b = w.to(device, F32), b.to(device, F32)
    for epoch in range(1, 26):
        got_w, got_b, got_mistakes = _epoch(
            submission, got_w, got_b, X.to(device, F32), y.to(device, F32), 1.0
        )
        w, b, mistakes = reference.train_epoch(w, b, X, y, 1.0)
        metrics.emit("XOR mistakes", got_mistakes, step=epoch)
        assert_close(got_w, w, name=f"w after XOR epoch {epoch}", dtype=F32, device=device)
        expect_number(got_mistakes, name="mistakes")
        if got_mistakes != mistakes:
            raise CheckFailure(f"XOR epoch {epoch}: {got_mistakes} mistakes, expected {mistakes}")
        accuracy = (reference.predict(got_w.cpu().double(), got_b.cpu().double(), X) == y).double()
        if accuracy.mean().item() == 1.0:
            raise CheckFailure("the perceptron separated XOR, which no single line can do")
