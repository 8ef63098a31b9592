"""Checks for the perceptron exercise: predict, the learning rule, an epoch, and training runs."""

from __future__ import annotations

import pytest
import torch

from grader import kit
from grader.kit import Mistake, integer, tensor

pytestmark = pytest.mark.exercise("perceptron")

F32, F64 = torch.float32, torch.float64
UPDATE_RULE = (
    "Rosenblatt's rule: error = y - y_hat (the label minus the prediction for x), "
    "w_new = w + lr * error * x and b_new = b + lr * error"
)
EPOCH_RULE = "rows in order, each judged with the weights the rows before it left, then updated"
COUNT_RULE = (
    "a mistake is a row whose prediction, made before its own update, differs from its label; "
    "the count is the number of such rows"
)
# Training runs: epochs allowed, the data's name, why 100% is within reach, and the live
# figure's names for labels 0 and 1 and its axes (none for AND: it would add a tenth to its ms).
TRAINING = {
    "AND": (20, "AND", "AND is linearly separable, so a correct update rule gets there in a few "
            "epochs", None),
    "penguins": (60, "the penguins", "the two species are linearly separable, so a correct "
                 "perceptron reaches 100%",
                 (["Gentoo", "Adelie"], "bill length (std)", "bill depth (std)")),
}  # fmt: skip


def _on(device: torch.device, *tensors: torch.Tensor) -> list[torch.Tensor]:
    """The learner's copies: float32 on the device under test."""
    return [t.to(device, F32) for t in tensors]


def _random(rng: torch.Generator, rows: int, features: int) -> list[torch.Tensor]:
    """Random w, b and X without rows near the line, whose side float32 may round differently."""
    w, b, X = (torch.randn(s, generator=rng, dtype=F64) for s in (features, (), (rows, features)))
    return [w, b, X[(X @ w + b).abs() > 1e-2]]


def _epochs(submission, X, y, epochs, device, reference=None, what="epoch"):
    """The learner's epochs from zeros (lr = 1), each checked against the reference's if given."""
    w, b = torch.zeros(X.shape[1], dtype=F64), torch.zeros((), dtype=F64)
    got_w, got_b = _on(device, w, b)
    kinds = {"w": tensor(w.shape, device=got_w.device), "b": tensor((), device=got_w.device)}
    for epoch in range(1, epochs + 1):
        result = submission.train_epoch(got_w, got_b, *_on(device, X, y), 1.0)
        got_w, got_b, got_mistakes = kit.unpack(result, "train_epoch", **kinds, mistakes=integer)
        if reference is not None:
            w, b, mistakes = reference.train_epoch(w, b, X, y, 1.0)
            for part, got, want in (("w", got_w, w), ("b", got_b, b)):
                name = f"{part} after {what} {epoch}"
                kit.assert_close(got, want, name=name, dtype=F32, device=device, hint=EPOCH_RULE)
            if got_mistakes != mistakes:
                raise kit.CheckFailure(
                    f"{what} {epoch}: train_epoch counted {got_mistakes} mistakes, expected "
                    f"{mistakes}\nHint: {COUNT_RULE}"
                )
        yield epoch, got_w, got_b, got_mistakes


@pytest.mark.points(2)
def test_predict_step(submission, reference, device, rng):
    """predict classifies random points like the reference"""
    w, b, X = _random(rng, 80, 5)
    hint = "step(x . w + b) for every row: 1.0 where it is >= 0, else 0.0, as numbers in X's dtype"
    for dtype in (F32, F64):
        got = submission.predict(w.to(device, dtype), b.to(device, dtype), X.to(device, dtype))
        name = f"predict(w, b, X) with {kit.fmt_dtype(dtype)} inputs"
        want = reference.predict(w, b, X)
        kit.assert_equal(got, want, name=name, dtype=dtype, device=device, hint=hint)


def test_predict_boundary(submission, reference, device, rng):
    """a point exactly on the boundary (z == 0) is classified as 1"""
    X = torch.randint(-3, 4, (12, 4), generator=rng).double()
    w = torch.randint(-3, 4, (4,), generator=rng).double()
    X[:4] = X[0]
    b = -(X[0] @ w)  # integers, so z is exactly 0 on the first four rows in any precision
    strict = "points with z == 0 came out as 0: step(z) is 1 when z >= 0, not only when z > 0"
    for case_w, case_b in ((w, b), (torch.zeros_like(w), torch.zeros_like(b))):
        got = submission.predict(*_on(device, case_w, case_b, X))
        want = reference.predict(case_w, case_b, X)
        mistakes = [Mistake(strict, (X @ case_w + case_b > 0).double())]
        hint = kit.likely_mistake(got, mistakes, default="z == 0 counts as 1", expected=want)
        name = "predict on points with z == 0"
        kit.assert_equal(got, want, name=name, dtype=F32, device=device, hint=hint)


@pytest.mark.points(2)
def test_update_rule(submission, reference, device, rng):
    """update applies Rosenblatt's rule to one example and leaves w and b unchanged"""
    for case in range(1, 7):
        w, b, X = _random(rng, 8, 4)
        x, y = X[0], torch.tensor(float(case % 2), dtype=F64)
        lr = 0.1 + 0.9 * torch.rand((), generator=rng).item()
        inputs = _on(device, w, b, x, y)
        result = kit.call_unchanged(submission, "update", *inputs, lr, names=("w", "b"))
        kinds = {"w": tensor(w.shape, F32, device), "b": tensor((), F32, device)}
        got = kit.unpack(result, "update", context=f"case {case}", **kinds)
        want = reference.update(w, b, x, y, lr)
        hint = kit.likely_mistake(got, [
            Mistake("w and b moved away from the label: the error is the label minus the "
                    "prediction, y - y_hat", (2 * w - want[0], 2 * b - want[1])),
            Mistake("b did not move: the bias changes by lr * error too", (want[0], b)),
        ], default=UPDATE_RULE, expected=want, rtol=1e-5, atol=1e-5)  # fmt: skip
        for part, value, expected in zip(("w", "b"), got, want, strict=True):
            name = f"update's new {part} (case {case})"  # unpack has checked dtype and device
            kit.assert_close(value, expected, name=name, hint=hint, rtol=1e-5, atol=1e-5)


@pytest.mark.points(2)
def test_train_epoch_matches(submission, reference, device, rng):
    """one epoch on a small data set matches the reference, mistakes included"""
    # Small integers and lr = 1 keep every value exact in float32, so runs can match exactly.
    X = torch.randint(-5, 6, (30, 3), generator=rng).double()
    y = (X @ torch.randint(-3, 4, (3,), generator=rng).double() + 1 >= 0).double()
    list(_epochs(submission, X, y, 3, device, reference))


def _learns(submission, reference, metrics, device, rng, series, X, y):
    """Train on shuffled rows until all are right by trusted code; a figure shows w.x + b = 0."""
    epochs, what, why, figure = TRAINING[series]
    order = torch.randperm(len(y), generator=rng)
    X, y = X[order], y[order]
    for epoch, w, b, mistakes in _epochs(submission, X, y, epochs, device):
        right = reference.predict(w.cpu().double(), b.cpu().double(), X) == y
        accuracy = right.double().mean().item()
        metrics.emit(f"{series} mistakes", mistakes, step=epoch)
        metrics.emit(f"{series} accuracy", accuracy, step=epoch)
        if figure is not None:
            groups, xlabel, ylabel = figure
            line = {"label": "w.x + b = 0", "coef": [*w.tolist(), b.item()], "side": groups[1]}
            caption = f"epoch {epoch}: {mistakes} mistake{'' if mistakes == 1 else 's'}"
            data = {"x": X[:, 0], "y": X[:, 1], "group": y.long(), "groups": groups,
                    "lines": [line], "xlabel": xlabel, "ylabel": ylabel,
                    "caption": caption}  # fmt: skip
            metrics.figure(f"{series} line", "scatter", data, step=epoch)
        if accuracy == 1.0:
            return
    raise kit.CheckFailure(
        f"after {epochs} epochs on {what} the perceptron still gets {accuracy:.1%} right; {why}"
    )


def test_learns_and(submission, reference, device, metrics, rng):
    """training on the AND gate reaches 100% accuracy within 20 epochs"""
    _learns(submission, reference, metrics, device, rng, "AND", *kit.logic_table("and"))


def test_learns_penguins(submission, reference, device, metrics, rng):
    """training separates Adelie from Gentoo penguins by bill length and depth"""
    _learns(submission, reference, metrics, device, rng, "penguins", *kit.penguins_binary())


def test_xor_never_converges(submission, reference, device, metrics):
    """on XOR the learner's training matches the reference and never reaches 100%"""
    X, y = kit.logic_table("xor")
    for epoch, w, b, mistakes in _epochs(submission, X, y, 25, device, reference, "XOR epoch"):
        metrics.emit("XOR mistakes", mistakes, step=epoch)
        if (reference.predict(w.cpu().double(), b.cpu().double(), X) == y).all():
            raise kit.CheckFailure("the perceptron separated XOR, which no single line can do")
