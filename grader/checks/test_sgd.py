"""Checks for the sgd exercise: mini-batches, the mean-gradient step, schedules, the loop."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer

from grader.codec import type_name
from grader.compare import expect_number, expect_tensor
from grader.errors import CheckFailure
from grader.kit import (
    Mistake,
    Shortcuts,
    call_unchanged,
    expect_close,
    expect_no_shortcuts,
    tensor,
    unpack,
)

pytestmark = pytest.mark.exercise("sgd")

F32, F64 = torch.float32, torch.float64
I64 = torch.int64
# float64 steps of the same formula agree to ~1e-16; 1e-10 leaves room for another order of
# the sums and stays far below what any mistake gives.
F64_TOL: dict[str, Any] = {"rtol": 1e-10, "atol": 1e-12}
F32_TOL: dict[str, Any] = {"rtol": 1e-5, "atol": 1e-6}
STEP_HINT = (
    "with p = sigmoid(X @ w + b): w - lr * X.T @ (p - y) / B and b - lr * (p - y).sum() / B, "
    "B the number of rows of the batch"
)

# The course notes' example: two examples, learning rate 0.01, binary cross-entropy. The notes
# give no starting weights; the lesson starts from w = 0, b = 0 and works these out by hand.
NOTES_X = ((0.9, -0.2), (0.75, 0.6))
NOTES_Y = (0.0, 1.0)
NOTES_LR = 0.01
NOTES_BATCH = ((-0.000375, 0.002), 0.0)  # one step on the batch {d1, d2}
NOTES_AFTER_D1 = ((-0.0045, 0.001), -0.005)  # one step on d1 alone
NOTES_AFTER_D2 = ((-0.0007354219484376205, 0.004011662441249904), 1.9437402083172933e-05)

# Breast cancer: a fixed split; the seed of a check only changes the order SGD sees.
SPLIT_SEED, TEST_ROWS = 0, 169
TRAIN_LR, TRAIN_EPOCHS = 0.1, 4
TRAIN_BATCHES = (1, 32)  # judged on the test set; the full batch is drawn for comparison
# Over 150 seeds the reference's test accuracy is at least 0.947 (batch 1) and 0.941 (batch
# 32); the full batch, with 4 steps in all, is at 0.899. Predicting "benign" for all: 0.60.
TEST_ACCURACY = 0.92
TRAIN_TIMEOUT = 60.0
# Check titles, as a learner sees them (for "fix ... first").
STEP_TITLE = "logistic_step moves w and b against the gradient of the batch's mean loss"
LOOP_TITLE = (
    "sgd makes one step per batch, with new batches every epoch, for batch sizes 1, b and N"
)


# ------------------------------------------------------------------------------------ helpers


def _epochs(submission, n: int, batch_size: int, seed: int, epochs: int, drop_last: bool):
    """The learner's batches of `epochs` epochs (via the provided epoch_batches), type-checked."""
    label = f"minibatches(n={n}, batch_size={batch_size}, drop_last={drop_last})"
    result = submission.epoch_batches(n, batch_size, seed, epochs, drop_last)
    if type(result) is not list or len(result) != epochs:
        raise CheckFailure(f"epoch_batches (provided) returned {type_name(result)}; restore it")
    for batches in result:
        if type(batches) not in (list, tuple):
            raise CheckFailure(f"{label} should return a list of tensors, got {type_name(batches)}")
        for batch in batches:
            expect_tensor(batch, name=f"a batch of {label}", dtype=I64, device="cpu")
            if batch.dim() != 1:
                raise CheckFailure(
                    f"a batch of {label} has shape {tuple(batch.shape)}; each batch should be a "
                    "1-d tensor of row numbers"
                )
    return result


def _coverage_problem(batches: list[torch.Tensor], n: int, batch_size: int, drop_last: bool):
    """What is wrong with one epoch's batches, or None."""
    sizes = [len(batch) for batch in batches]
    full, rest = divmod(n, batch_size)
    want = [batch_size] * full + ([rest] if rest and not drop_last else [])
    if sizes != want:
        if not drop_last and sizes == [batch_size] * full:
            return (
                f"gave batches of sizes {sizes}, expected {want}: the last, shorter batch of "
                f"{rest} rows is missing, so those examples are never used in the epoch; "
                "leave it out only when drop_last is True"
            )
        if drop_last and sizes == [batch_size] * full + [rest]:
            return (
                f"gave batches of sizes {sizes}, expected {want}: with drop_last=True the "
                f"shorter last batch ({rest} rows) is left out"
            )
        return f"gave batches of sizes {sizes}, expected {want}"
    if not batches:
        return None
    rows = torch.cat(batches)
    if bool(((rows < 0) | (rows >= n)).any()):
        return f"gave row numbers outside 0..{n - 1}"
    counts = torch.bincount(rows, minlength=n)
    if bool((counts > 1).any()):
        twice = int((counts > 1).nonzero()[0])
        return f"gave row {twice} {int(counts[twice])} times in one epoch; each row at most once"
    if not drop_last and bool((counts == 0).any()):
        never = int((counts == 0).nonzero()[0])
        return f"never gave row {never} in the epoch; every row exactly once"
    return None


def _orders(epochs: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    return [torch.cat(batches) if batches else torch.zeros(0, dtype=I64) for batches in epochs]


def _problem(rng: torch.Generator, N: int, D: int, device: torch.device, dtype=F64):
    """Random weights (bias not zero), inputs and 0/1 labels with both classes present."""
    w = torch.randn(D, generator=rng, dtype=F64) * 0.8
    b = torch.randn((), generator=rng, dtype=F64) * 0.5
    X = torch.randn(N, D, generator=rng, dtype=F64) * 1.5
    y = (torch.rand(N, generator=rng, dtype=F64) < 0.5).to(F64)
    if N > 1:
        y[0], y[1] = 0.0, 1.0
    return tuple(t.to(device, dtype) for t in (w, b, X, y))


def _trusted_gradient(w, b, X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """Autograd's gradient of the batch's mean binary cross-entropy, in float64 on the CPU."""
    w64, b64 = (t.detach().cpu().to(F64).requires_grad_(True) for t in (w, b))
    loss = F.binary_cross_entropy_with_logits(X.cpu().to(F64) @ w64 + b64, y.cpu().to(F64))
    dw, db = torch.autograd.grad(loss, (w64, b64))
    return dw, db


def _trusted_loss(w, b, X, y) -> torch.Tensor:
    """The mean binary cross-entropy, log(1 + e^z) - y z, in float64 on the CPU."""
    # The formula rather than F.binary_cross_entropy_with_logits: the same numbers, but that
    # kernel stalls for milliseconds per call on a busy machine, and the replays call it often.
    z = X.cpu().to(F64) @ w.cpu().to(F64) + b.cpu().to(F64)
    return (torch.logaddexp(torch.zeros_like(z), z) - y.cpu().to(F64) * z).mean()


def _trusted_step(w, b, X, y, lr) -> tuple[torch.Tensor, torch.Tensor]:
    """One correct step in closed form (for replays that name a mistake)."""
    error = (torch.sigmoid(X @ w + b) - y) / len(y)
    return w - lr * (X.T @ error), b - lr * error.sum()


def _step_result(result: Any, w: torch.Tensor, b: torch.Tensor, context: str = ""):
    """The learner's (w_new, b_new), checked for type, shape, dtype and device."""
    return unpack(
        result,
        "logistic_step",
        context=context,
        w=tensor(w.shape, w.dtype, w.device),
        b=tensor(b.shape, b.dtype, b.device),
    )


def _step(submission, w, b, X, y, lr):
    return _step_result(submission.logistic_step(w, b, X, y, lr), w, b)


# ----------------------------------------------------------------------------------- batches


@pytest.mark.points(2)
def test_minibatches_cover_each_example(submission, seed):
    """minibatches uses every example once per epoch; drop_last leaves out only the short batch"""
    cases = ((23, 5), (24, 6), (7, 1), (7, 10))
    for n, batch_size in cases:
        for drop_last in (False, True):
            epochs = _epochs(submission, n, batch_size, seed, 2, drop_last)
            for number, batches in enumerate(epochs, start=1):
                problem = _coverage_problem(batches, n, batch_size, drop_last)
                if problem:
                    raise CheckFailure(
                        f"minibatches(n={n}, batch_size={batch_size}, drop_last={drop_last}), "
                        f"epoch {number}, {problem}"
                    )


@pytest.mark.points(2)
def test_minibatches_reproducible(submission, seed):
    """the same seed gives the same epochs, each epoch a new order, another seed another order"""
    n, batch_size, count = 40, 8, 3
    first = _orders(_epochs(submission, n, batch_size, seed, count, False))
    again = _orders(_epochs(submission, n, batch_size, seed, count, False))
    other = _orders(_epochs(submission, n, batch_size, seed + 1, count, False))
    for order in first:
        if order.shape != (n,) or not torch.equal(order.sort().values, torch.arange(n)):
            raise CheckFailure(
                "an epoch does not give every row exactly once; make the check "
                "minibatches_cover_each_example pass first"
            )
    if torch.equal(first[0], torch.arange(n)):
        raise CheckFailure(
            f"the first epoch gives the rows in their stored order 0, 1, ..., {n - 1}: shuffle "
            "them with the generator before cutting batches"
        )
    for number in range(count):
        if not torch.equal(first[number], again[number]):
            raise CheckFailure(
                f"two generators seeded with {seed} gave different orders in epoch {number + 1} "
                f"(first rows {first[number][:6].tolist()} and {again[number][:6].tolist()}): "
                "the order should come from the generator you are given, not from the global "
                "random state (a torch.randperm or torch.rand without generator=...)"
            )
    for number in range(1, count):
        if torch.equal(first[number], first[number - 1]):
            raise CheckFailure(
                f"epoch {number + 1} has the same order as epoch {number}: each call should "
                "draw a new order from the same generator, which moves on by itself; do not "
                "re-seed it or make a new generator inside minibatches"
            )
    if all(torch.equal(a, b) for a, b in zip(first, other, strict=True)):
        raise CheckFailure(
            f"the seeds {seed} and {seed + 1} gave the same orders: the shuffle should be drawn "
            "from the generator you are given"
        )


# --------------------------------------------------------------------------------------- step


@pytest.mark.points(2)
def test_step_is_mean_gradient(submission, device, rng):
    """logistic_step moves w and b against the gradient of the batch's mean loss"""
    cases = ((16, F64, F64_TOL), (1, F64, F64_TOL), (16, F32, F32_TOL))
    lr = 0.3
    for size, dtype, tol in cases:
        w, b, X, y = _problem(rng, size, 5, device, dtype)
        context = f"a batch of {size}, {dtype}"
        result = call_unchanged(
            submission, "logistic_step", w, b, X, y, lr, names=("w", "b", "X", "y")
        )
        got_w, got_b = _step_result(result, w, b, context)
        dw, db = _trusted_gradient(w, b, X, y)
        w64, b64 = w.cpu().to(F64), b.cpu().to(F64)
        summed = f"the step is {size} times too long, as when the examples' gradients are "
        summed += "added up: the loss is their MEAN, so divide by the batch size"
        uphill = "the step goes up the gradient: subtract lr times the gradient"
        mistakes_w = [
            Mistake(summed, w64 - lr * size * dw if size > 1 else None),
            Mistake(uphill, w64 + lr * dw),
        ]
        mistakes_b = [
            Mistake(summed, b64 - lr * size * db if size > 1 else None),
            Mistake(uphill, b64 + lr * db),
            Mistake("b did not move: its gradient is the mean of p - y over the batch", b64),
        ]
        for name, got, want, mistakes in (
            ("w", got_w, w64 - lr * dw, mistakes_w),
            ("b", got_b, b64 - lr * db, mistakes_b),
        ):
            expect_close(
                got,
                want,
                name=f"logistic_step's {name} ({context})",
                hint=STEP_HINT,
                mistakes=mistakes,
                **tol,
            )


@pytest.mark.points(1)
def test_notes_worked_step(submission, device):
    """the notes' example (d1 = [0.9, -0.2], d2 = [0.75, 0.6], lr 0.01) comes out as worked"""
    X = torch.tensor(NOTES_X, dtype=F64, device=device)
    y = torch.tensor(NOTES_Y, dtype=F64, device=device)
    w0 = torch.zeros(2, dtype=F64, device=device)
    b0 = torch.zeros((), dtype=F64, device=device)
    tol = {"rtol": 1e-9, "atol": 1e-12}

    def expect(got: tuple, want: tuple, label: str, hint: str, mistakes=()) -> None:
        for name, part, value in zip(("w", "b"), got, want, strict=True):
            expect_close(
                part,
                torch.tensor(value, dtype=F64),
                name=f"{label}: {name}",
                hint=hint,
                mistakes=mistakes if name == "w" else (),
                **tol,
            )

    both = _step(submission, w0, b0, X, y, NOTES_LR)
    hint = (
        "both p are 0.5, so the gradient for w is (0.5 * d1 - 0.5 * d2) / 2 = [0.0375, -0.2] "
        "and the one for b is (0.5 - 0.5) / 2 = 0; see the lesson's worked example"
    )
    doubled = Mistake(
        "w moved twice as far as it should: the two gradients were added, not averaged",
        2 * torch.tensor(NOTES_BATCH[0], dtype=F64),
    )
    label = "one step on the batch {d1, d2} from w = [0, 0], b = 0"
    expect(both, NOTES_BATCH, label, hint, mistakes=(doubled,))
    first = _step(submission, w0, b0, X[:1], y[:1], NOTES_LR)
    expect(
        first,
        NOTES_AFTER_D1,
        "one step on d1 alone from w = [0, 0], b = 0",
        "p = 0.5 and y = 0, so the gradient is 0.5 * d1 for w and 0.5 for b",
    )
    second = _step(submission, first[0], first[1], X[1:], y[1:], NOTES_LR)
    expect(
        second,
        NOTES_AFTER_D2,
        "then one step on d2 alone",
        "z = d2 . w + b = -0.007775 with the weights after d1, p = sigmoid(z) = 0.498056, and "
        "the gradient is (p - 1) * d2 for w and p - 1 for b",
    )


# ---------------------------------------------------------------------------------- schedules


def _torch_lrs(make, lr0: float, count: int) -> list[float]:
    """The learning rate a torch.optim.lr_scheduler gives at steps 0, 1, ..., count - 1."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make(optimizer)
    rates = []
    for _ in range(count):
        rates.append(float(scheduler.get_last_lr()[0]))
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.points(1)
def test_step_decay(submission):
    """step_decay matches torch's StepLR: lr0 for epochs 0 to every - 1, then times drop"""
    for lr0, drop, every in ((0.1, 0.5, 3), (0.3, 0.1, 1), (0.05, 0.9, 4)):
        want = _torch_lrs(
            lambda opt, d=drop, k=every: torch.optim.lr_scheduler.StepLR(opt, k, gamma=d), lr0, 10
        )
        for epoch, expected in enumerate(want):
            mistakes = [
                Mistake(
                    "it drops one epoch early: epochs count from 0, so epochs 0 to every - 1 "
                    "use lr0 and epoch `every` is the first to use lr0 * drop",
                    lr0 * drop ** ((epoch + 1) // every),
                ),
                Mistake(
                    "it drops one epoch late: epoch `every` is the first to use lr0 * drop",
                    lr0 * drop ** max(0, (epoch - 1) // every),
                ),
            ]
            expect_close(
                submission.step_decay(lr0, epoch, drop, every),
                expected,
                name=f"step_decay({lr0}, epoch={epoch}, drop={drop}, every={every})",
                hint="lr0 * drop ** (the number of whole blocks of `every` epochs before it)",
                mistakes=mistakes,
                rtol=1e-9,
            )


@pytest.mark.points(1)
def test_cosine(submission):
    """cosine matches torch's CosineAnnealingLR from lr0 at step 0 to lr_min at the last step"""
    for lr0, total, lr_min in ((0.1, 50, 0.001), (0.5, 7, 0.0)):
        want = _torch_lrs(
            lambda opt, t=total, m=lr_min: torch.optim.lr_scheduler.CosineAnnealingLR(
                opt, T_max=t, eta_min=m
            ),
            lr0,
            total + 1,
        )
        for step, expected in enumerate(want):
            expect_close(
                submission.cosine(lr0, step, total, lr_min),
                expected,
                name=f"cosine({lr0}, step={step}, total={total}, lr_min={lr_min})",
                rtol=1e-9,
                atol=1e-12,
                hint="lr_min + (lr0 - lr_min) * (1 + cos(pi * step / total)) / 2: it must be "
                "lr0 at step 0, the mean of the two halfway, and lr_min at step total",
            )
    expect_close(
        submission.cosine(0.2, 5, 10),
        0.1,
        name="cosine(0.2, step=5, total=10) without lr_min",
        hint="lr_min defaults to 0.0, and halfway the rate is the mean of lr0 and lr_min",
    )


# ------------------------------------------------------------------------------------ the loop


def _learner_rates(submission, schedule, lr, epochs, per_epoch) -> list[float]:
    """The learning rate of every step, from the learner's own schedule functions."""
    total = epochs * per_epoch
    if schedule is None:
        return [lr] * total
    if schedule["name"] == "step_decay":
        by_epoch = [
            expect_number(
                submission.step_decay(lr, epoch, schedule["drop"], schedule["every"]),
                name="step_decay's result",
            )
            for epoch in range(epochs)
        ]
        return [rate for rate in by_epoch for _ in range(per_epoch)]
    return [
        expect_number(
            submission.cosine(lr, step, total, schedule["lr_min"]), name="cosine's result"
        )
        for step in range(total)
    ]


def _replay(X, y, epochs, rates, step: Callable[..., Any], batch_loss: bool = False):
    """w, b and the loss after each step: step(w, b, X_batch, y_batch, rate) over the batches.

    With batch_loss, the loss recorded is the batch's own (a mistake) rather than all the data's.
    """
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    b = torch.zeros((), dtype=X.dtype, device=X.device)
    losses = []
    for batch, rate in zip([one for epoch in epochs for one in epoch], rates, strict=True):
        w, b = step(w, b, X[batch], y[batch], rate)
        losses.append(_trusted_loss(w, b, X[batch], y[batch]) if batch_loss else
                      _trusted_loss(w, b, X, y))  # fmt: skip
    return w, b, torch.stack(losses)


def _rate_mistakes(
    schedule, lr: float, count: int, per_epoch: int, full: int
) -> list[tuple[str, list | None]]:
    """(hint, the rate of every step) for the usual slips in applying a schedule in the loop;
    `full` is the number of full batches in an epoch."""
    total = count * per_epoch
    steps = [(epoch, i, epoch * per_epoch + i) for epoch in range(count) for i in range(per_epoch)]
    if schedule is None:
        return []
    if schedule["name"] == "step_decay":
        drop, every = schedule["drop"], schedule["every"]
        return [(
            "the rate decays at every step: step_decay takes the epoch number, not the count of "
            "steps, so the rate changes once per epoch",
            [lr * drop ** (t // every) for _, _, t in steps],
        )]  # fmt: skip
    lr_min = schedule["lr_min"]

    def rate(step: int, of: int) -> float:
        return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * step / of)) / 2

    return [
        ("the cosine rate changes once per epoch: its step counts the steps of the whole run "
         "(0 for the first batch), out of total = epochs * batches per epoch",
         [rate(epoch, count) for epoch, _, _ in steps]),
        ("the cosine schedule starts over every epoch: its step counts the steps of the whole "
         "run, out of total = epochs * batches per epoch",
         [rate(i, per_epoch) for _, i, _ in steps]),
        ("the cosine rate is one step ahead: step is the number of steps taken BEFORE this one, "
         "so the first batch uses step 0 and lr itself",
         [rate(t + 1, total) for _, _, t in steps]),
        ("cosine's total counts only the full batches: the shorter last batch of each epoch "
         "makes a step too, so total = epochs * ceil(N / batch_size)",
         None if full == per_epoch else [rate(t, count * full) for _, _, t in steps]),
    ]  # fmt: skip


def _sgd_result(result: Any, X: torch.Tensor, steps: int, label: str):
    w, b, losses = unpack(
        result,
        "sgd",
        context=label,
        w=tensor((X.shape[1],), X.dtype, X.device),
        b=tensor((), X.dtype, X.device),
        losses=tensor(None, X.dtype, X.device),
    )
    if losses.dim() != 1:
        raise CheckFailure(f"{label}: losses should be 1-d, one loss per step, got shape "
                           f"{tuple(losses.shape)}")  # fmt: skip
    if len(losses) != steps:
        raise CheckFailure(
            f"{label}: sgd returned {len(losses)} losses, expected {steps}, one per step "
            "(every batch makes a step, the shorter last batch of an epoch too)"
        )
    return w, b, losses


@pytest.mark.points(2)
def test_sgd_follows_its_batches(submission, device, seed, rng):
    """sgd makes one step per batch, with new batches every epoch, for batch sizes 1, b and N"""
    N = 29
    _, _, X, y = _problem(rng, N, 3, device)
    cases = (
        (1, 0.5, 3, None),
        (6, 0.5, 3, {"name": "step_decay", "drop": 0.5, "every": 1}),
        (4, 0.8, 2, {"name": "cosine", "lr_min": 0.01}),
        (N, 1.0, 4, None),
    )
    for batch_size, lr, count, schedule in cases:
        label = f"sgd with batch_size={batch_size}, lr={lr}, {count} epochs, schedule={schedule}"
        epochs = _epochs(submission, N, batch_size, seed, count, False)
        if any(_coverage_problem(e, N, batch_size, False) for e in epochs) or not all(
            torch.equal(a, b)
            for a, b in zip(
                _orders(epochs),
                _orders(_epochs(submission, N, batch_size, seed, count, False)),
                strict=True,
            )
        ):
            raise CheckFailure(
                f"{label}: this check replays your minibatches, which does not pass its own "
                "checks yet; make minibatches_cover_each_example and minibatches_reproducible "
                "pass first"
            )
        per_epoch = math.ceil(N / batch_size)
        rates = _learner_rates(submission, schedule, lr, count, per_epoch)
        result = submission.sgd(X, y, batch_size, lr, count, seed, schedule)
        w, b, losses = _sgd_result(result, X, count * per_epoch, label)
        learner_step = functools.partial(_step, submission)
        want_w, want_b, want_losses = _replay(X, y, epochs, rates, learner_step)
        hint = (
            "one generator seeded once for the run; at the start of every epoch a new call to "
            "minibatches; per batch one logistic_step with that step's learning rate, then the "
            "loss over all the data"
        )
        repeated = [epochs[0]] * count
        same_order = Mistake(
            "every epoch went through the batches in the order of the first epoch: call "
            "minibatches at the start of each epoch, with the one generator made at the start "
            "of the run (not a new generator per epoch)",
            None
            if count == 1 or batch_size >= N
            else lambda e=repeated, r=rates: _replay(X, y, e, r, _trusted_step)[2],
        )
        batch_only = Mistake(
            "each loss recorded is the loss on the step's batch alone: record bce_loss over ALL "
            "the data (X and y, not X[batch] and y[batch]) after each step",
            None
            if batch_size >= N
            else lambda e=epochs, r=rates: _replay(X, y, e, r, _trusted_step, True)[2],
        )
        # w = 0 and b = 0 score every example 0, a loss of log 2, before the first step.
        before = Mistake(
            "each loss is recorded before its step is taken: record the loss of the new w and "
            "b, after the step",
            lambda want=want_losses: torch.cat([want.new_full((1,), math.log(2)), want[:-1]]),
        )
        rate_slips = [
            Mistake(text, lambda e=epochs, r=wrong: _replay(X, y, e, r, _trusted_step)[2])
            if wrong is not None
            else Mistake(text, None)
            for text, wrong in _rate_mistakes(schedule, lr, count, per_epoch, N // batch_size)
        ]
        for name, got, want, mistakes in (
            ("losses", losses, want_losses, [same_order, batch_only, before, *rate_slips]),
            ("final w", w, want_w, []),
            ("final b", b, want_b, []),
        ):
            expect_close(
                got, want, name=f"{label}: {name}", hint=hint, mistakes=mistakes, **F64_TOL
            )


@functools.lru_cache(maxsize=1)
def _breast_cancer() -> tuple[torch.Tensor, ...]:
    """scikit-learn's breast cancer data, split once, standardized with the training rows."""
    features, labels = load_breast_cancer(return_X_y=True)
    X, y = torch.tensor(features, dtype=F64), torch.tensor(labels, dtype=F64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
    test, train = order[:TEST_ROWS], order[TEST_ROWS:]
    mean, std = X[train].mean(dim=0), X[train].std(dim=0)
    X = (X - mean) / std
    return X[train], y[train], X[test], y[test]


@pytest.mark.points(2)
def test_sgd_learns_breast_cancer(submission, device, metrics, seed):
    """SGD with batch size 1 and 32 tells malignant from benign tumours in 4 epochs"""
    X_train, y_train, X_test, y_test = _breast_cancer()
    Xd, yd = X_train.to(device), y_train.to(device)
    N = len(y_train)
    accuracies = {}
    for batch_size in (*TRAIN_BATCHES, N):
        label = f"batch size {batch_size}"
        result = submission.call_logged(
            "sgd",
            Xd,
            yd,
            batch_size,
            TRAIN_LR,
            TRAIN_EPOCHS,
            seed,
            None,
            log=metrics.labelled(label),
            timeout=TRAIN_TIMEOUT,
        )
        steps = TRAIN_EPOCHS * math.ceil(N / batch_size)
        w, b, _ = _sgd_result(result, Xd, steps, f"sgd on breast cancer, {label}")
        # Trusted: the test accuracy of the returned weights, computed here.
        scores = X_test @ w.detach().cpu().to(F64) + b.detach().cpu().to(F64)
        accuracies[batch_size] = float(((scores >= 0).to(F64) == y_test).to(F64).mean())
    for batch_size in TRAIN_BATCHES:
        accuracy = accuracies[batch_size]
        if not accuracy >= TEST_ACCURACY:
            raise CheckFailure(
                f"after {TRAIN_EPOCHS} epochs with batch size {batch_size} (lr {TRAIN_LR}) the "
                f"test accuracy is {accuracy:.3f}; a correct SGD reaches {TEST_ACCURACY} "
                f"(always predicting 'benign' scores 0.60). Make {STEP_TITLE!r} and "
                f"{LOOP_TITLE!r} pass first"
            )


# What the exercise asks learners to write: the batching, the gradient, the schedules, the loop.
WRITTEN = frozenset({"minibatches", "logistic_step", "step_decay", "cosine", "sgd"})
READY_MADE = Shortcuts(
    "a ready-made optimizer, scheduler or batch loader",
    names={"torch.optim", "torch.utils.data"},
    functions=WRITTEN,
)
AUTOGRAD = Shortcuts(
    "autograd",
    names={"torch.autograd", "torch.func", "torch.enable_grad"},
    methods={"backward", "grad", "requires_grad", "requires_grad_"},
    functions=WRITTEN,
)


@pytest.mark.needs_passing(
    "minibatches_cover_each_example",
    "minibatches_reproducible",
    "step_is_mean_gradient",
    "step_decay",
    "cosine",
    "sgd_follows_its_batches",
)
def test_written_by_hand(submission, exercise, source_tree):
    """the gradient, batches and schedules are yours: no autograd, torch.optim or DataLoader"""
    expect_no_shortcuts(
        source_tree,
        exercise.path,
        READY_MADE,
        AUTOGRAD,
        advice="Use the gradient formula of logistic_step's docstring, torch.randperm with the "
        "generator for the batches, and the schedules' formulas; torch.optim and DataLoader "
        "come in later exercises",
    )
