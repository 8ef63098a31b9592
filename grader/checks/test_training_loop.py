"""Checks for the training_loop exercise: loaders, one epoch, evaluation, early stopping, fit."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from grader.codec import type_name
from grader.compare import (
    assert_close,
    assert_equal,
    assert_number_close,
    expect_tensor,
    expect_weights,
)
from grader.errors import CheckFailure, SubmissionError

pytestmark = pytest.mark.exercise("training_loop")

SPLIT_SEED = 0  # the train / validation / test split is the same in every run
HELD_OUT = 360  # rows in each of the validation and test sets
LAYERS = {"0": "first Linear", "1": "BatchNorm1d", "3": "last Linear"}
STATE_TOL: dict[str, Any] = {"rtol": 1e-4, "atol": 1e-5}  # float32 weights after a few dozen steps
FIT_TIMEOUT = 120.0  # seconds for one whole fit in the worker (it takes about one)
TEST_ACCURACY = 0.9
FIT_SETTINGS = {"epochs": 20, "patience": 3, "lr": 0.05, "batch_size": 32}
# A small training set overfits within a few epochs, so the validation loss soon stops
# improving; across seeds the reference stops after 5 to 11 epochs, far below 40.
STOP_SETTINGS = {"epochs": 40, "patience": 2, "lr": 0.1, "batch_size": 32}
STOP_TRAIN_ROWS = 300
# The provided functions of the learner's file, and the learner's function each one calls.
PROVIDED = {
    "loader_batches": "make_loaders",
    "one_epoch_from": "train_one_epoch",
    "evaluate_from": "evaluate",
}


# ------------------------------------------------------------------------------------ helpers


@functools.lru_cache(maxsize=1)
def _digits() -> dict[str, torch.Tensor]:
    """load_digits with pixels scaled to [0, 1], split once into train, validation and test."""
    features, labels = load_digits(return_X_y=True)
    X = torch.tensor(features, dtype=torch.float32) / 16
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
    test, val, train = order[:HELD_OUT], order[HELD_OUT : 2 * HELD_OUT], order[2 * HELD_OUT :]
    return {
        "X_train": X[train],
        "y_train": y[train],
        "X_val": X[val],
        "y_val": y[val],
        "X_test": X[test],
        "y_test": y[test],
    }


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run trusted training on one thread, as the worker does, so both sum in the same order."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _describe(name: str) -> str:
    layer = LAYERS.get(name.split(".")[0])
    return f"{name!r} ({layer})" if layer else repr(name)


def _expect_state(value: Any, reference, device: torch.device, what: str) -> dict:
    """A state_dict as make_model() has it: a plain dict, same names, shapes, dtypes, device."""
    return expect_weights(
        value,
        reference.make_model().state_dict(),
        what=what,
        device=device,
        restore=(
            "return a plain dict of the model's weights: {name: tensor.detach().clone() for "
            "name, tensor in model.state_dict().items()}"
        ),
        label=_describe,
    )


def _assert_state_close(got: dict, want: dict, where: str, hint: str) -> None:
    for name, tensor in want.items():
        assert_close(got[name], tensor, name=f"{_describe(name)} {where}", **STATE_TOL, hint=hint)


def _trusted_model(reference, state: dict, device: torch.device) -> nn.Module:
    model = reference.make_model().to(device)
    model.load_state_dict(state)
    return model


def _start_state(reference, seed: int) -> dict[str, torch.Tensor]:
    """make_model()'s initial weights for `seed`, leaving the grader's own random state alone."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return dict(reference.make_model().state_dict())


def _loss_and_accuracy(reference, state, X, y, device, batch_size=128) -> tuple[float, float]:
    """Trusted: the reference's evaluate on a model loaded with `state`."""
    model = _trusted_model(reference, state, device)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)
    with _one_thread():
        return reference.evaluate(model, loader, nn.CrossEntropyLoss(), str(device))


def _call_provided(submission, provided: str, *args: Any) -> Any:
    """Call a provided function of the learner's file, naming the learner's function it wraps."""
    try:
        return submission.call(provided, *args)
    except SubmissionError as error:
        # The worker names the function the check called; the TODO is in the one it wraps.
        stub = f"not implemented yet: {provided}()"
        if str(error).startswith(stub):
            wrapped = PROVIDED[provided]
            message = str(error).replace(stub, f"not implemented yet: {wrapped}()")
            raise SubmissionError(message) from None
        raise


def _batch_order(batches: Any, X: torch.Tensor, rows: torch.Tensor, batch_size: int, label: str):
    """The row numbers a loader yielded, in order, after checking its batches' shapes."""
    if type(batches) is not list or not batches:
        raise CheckFailure(f"{label} gave no batches")
    sizes, X_parts, row_parts = [], [], []
    for batch in batches:
        if type(batch) not in (tuple, list) or len(batch) != 2:
            raise CheckFailure(f"{label} should yield (X_batch, y_batch) pairs, got {batch!r}")
        X_parts.append(expect_tensor(batch[0], name=f"an X batch of {label}", dtype=X.dtype))
        row_parts.append(expect_tensor(batch[1], name=f"a y batch of {label}", dtype=rows.dtype))
        sizes.append(len(batch[1]))
    expected = [batch_size] * (len(rows) // batch_size) + [len(rows) % batch_size] * bool(
        len(rows) % batch_size
    )
    if sizes != expected:
        raise CheckFailure(
            f"{label} gave batches of sizes {sizes}, expected {expected} "
            f"(batch_size={batch_size}, {len(rows)} rows)"
        )
    order = torch.cat(row_parts)
    if not torch.equal(order.sort().values, rows):
        raise CheckFailure(f"{label} does not give every row exactly once")
    assert_equal(
        torch.cat(X_parts),
        X[order],
        name=f"the X rows of {label}",
        hint="build the loader from TensorDataset(X, y), so each row keeps its label",
    )
    return order


# ------------------------------------------------------------------------------------- checks


def test_make_loaders(submission, reference, seed):
    """make_loaders shuffles the training set reproducibly and keeps validation in order"""
    data = _digits()
    X_train, X_val = data["X_train"], data["X_val"]
    # Row numbers as labels: the loaders do not care, and they show the order of the rows.
    rows_train, rows_val = torch.arange(len(X_train)), torch.arange(len(X_val))
    batch_size, passes = 64, 2
    result = _call_provided(
        submission, "loader_batches", X_train, rows_train, X_val, rows_val, batch_size, seed, passes
    )
    if (
        type(result) is not dict
        or type(result.get("train")) is not list
        or len(result["train"]) != passes
    ):
        raise CheckFailure(f"loader_batches (provided) returned {type_name(result)}; restore it")
    val_order = _batch_order(
        result.get("val"), X_val, rows_val, batch_size, "the validation loader"
    )
    if not torch.equal(val_order, rows_val):
        raise CheckFailure("the validation loader changed the order of the rows; use shuffle=False")

    train_loader, _ = reference.make_loaders(X_train, rows_train, X_val, rows_val, batch_size, seed)
    for index, batches in enumerate(result["train"]):
        label = f"training pass {index + 1}"
        order = _batch_order(batches, X_train, rows_train, batch_size, label)
        if torch.equal(order, rows_train):
            raise CheckFailure(f"{label} is not shuffled; use shuffle=True")
        want = torch.cat([rows for _, rows in train_loader])
        if not torch.equal(order, want):
            raise CheckFailure(
                f"{label} is shuffled, but not in the order seed={seed} gives; pass "
                "generator=torch.Generator().manual_seed(seed) to the training DataLoader, "
                "so that every run sees the same order (and each pass a new one)"
            )


@pytest.mark.points(2)
def test_train_one_epoch(submission, reference, device, seed):
    """train_one_epoch makes one correct optimizer step per batch, like the reference"""
    data = _digits()
    X, y = data["X_train"][:300], data["y_train"][:300]
    start = _start_state(reference, seed)
    batch_size, lr = 32, 0.05
    result = _call_provided(submission, "one_epoch_from", start, X, y, batch_size, lr, str(device))
    if type(result) is not tuple or len(result) != 2:
        raise CheckFailure(f"one_epoch_from (provided) returned {type_name(result)}; restore it")
    got_state = _expect_state(result[0], reference, device, "the weights after train_one_epoch")

    model = _trusted_model(reference, start, device)
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)
    with _one_thread():
        want_loss = reference.train_one_epoch(
            model, loader, nn.CrossEntropyLoss(), optimizer, str(device)
        )
    _assert_state_close(
        got_state,
        model.state_dict(),
        f"after one epoch of {len(loader)} batches",
        "for every batch: move it to the device, optimizer.zero_grad(), forward, loss, "
        "loss.backward(), optimizer.step(), one step per batch; the model arrives in eval "
        "mode, so call model.train() first",
    )
    assert_number_close(
        result[1],
        want_loss,
        name="train_one_epoch's mean loss",
        rtol=1e-4,
        hint="the mean over examples: add loss.item() * len(y) for each batch, divide by the "
        "number of examples (the last batch is smaller)",
    )


def _telling_batch_size(reference, state, X, y, device) -> int:
    """A batch size at which averaging per-batch accuracies would give a different answer."""
    model = _trusted_model(reference, state, device).eval()
    with torch.no_grad():
        right = (model(X.to(device)).argmax(dim=1).cpu() == y).double()
    for batch_size in (50, 64, 70, 48, 80, 100):
        per_batch = torch.stack([chunk.mean() for chunk in right.split(batch_size)])
        if abs(float(per_batch.mean()) - float(right.mean())) > 1e-3:
            return batch_size
    return 50


@pytest.mark.points(2)
def test_evaluate(submission, reference, device, seed):
    """evaluate gives the mean loss and accuracy over examples, in eval mode, without gradients"""
    data = _digits()
    X, y = data["X_val"], data["y_val"]
    # Weights after one epoch from a seeded start: accuracy well away from 0 and 1, and
    # BatchNorm running statistics that differ from a batch's own statistics.
    model = _trusted_model(reference, _start_state(reference, seed), device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(data["X_train"][:200], data["y_train"][:200]), batch_size=32)
    with _one_thread():
        reference.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, str(device))
    state = {name: t.cpu() for name, t in model.state_dict().items()}
    batch_size = _telling_batch_size(reference, state, X, y, device)

    result = _call_provided(submission, "evaluate_from", state, X, y, batch_size, str(device))
    if type(result) is not dict or set(result) != {
        "loss",
        "accuracy",
        "state",
        "gradients_tracked",
    }:
        raise CheckFailure(f"evaluate_from (provided) returned {type_name(result)}; restore it")
    after = _expect_state(result["state"], reference, device, "the weights after evaluate")
    for name, tensor in state.items():
        if not torch.equal(after[name].cpu(), tensor):
            raise CheckFailure(
                f"evaluate changed the model's {_describe(name)}: it ran the model in training "
                "mode, where BatchNorm uses each batch's statistics and updates its running "
                "ones; call model.eval() first"
            )
    if result["gradients_tracked"] is not False:
        raise CheckFailure(
            "evaluate ran the model with autograd recording (outputs that require grad); "
            "wrap the loop in `with torch.no_grad():`"
        )
    want_loss, want_accuracy = _loss_and_accuracy(reference, state, X, y, device, batch_size)
    weighting = (
        f"over all {len(y)} examples, not per batch: with batch_size={batch_size} the last "
        "batch is smaller, so add loss.item() * len(y) and the number correct per batch, then "
        "divide by the number of examples"
    )
    assert_number_close(
        result["loss"], want_loss, name="evaluate's mean loss", rtol=1e-4, hint=weighting
    )
    assert_number_close(
        result["accuracy"],
        want_accuracy,
        name="evaluate's accuracy",
        rtol=1e-6,
        hint=f"the fraction of examples whose highest score is the label, {weighting}",
    )


def test_early_stopping_rule(submission, reference):
    """early_stopping finds the best epoch and stops after `patience` epochs without improvement"""
    cases = (
        ([1.0, 0.8, 0.9, 0.85], 2),
        ([1.0, 0.8, 0.9], 2),
        ([1.0, 0.8, 0.8, 0.8], 2),
        ([0.9], 1),
        ([0.5, 0.6], 1),
        ([3.0, 2.0, 1.0], 1),
        ([2.0, 1.0, 1.5, 0.5, 0.7, 0.6, 0.55], 3),
    )
    for losses, patience in cases:
        call = f"early_stopping({losses}, patience={patience})"
        result = submission.early_stopping(losses, patience)
        if type(result) is not tuple or len(result) != 2:
            raise CheckFailure(f"{call} should return a tuple (best_index, stop), got {result!r}")
        best, stop = result
        if type(best) is not int or type(stop) is not bool:
            raise CheckFailure(
                f"{call} returned ({type_name(best)}, {type_name(stop)}); expected (int, bool)"
            )
        want_best, want_stop = reference.early_stopping(losses, patience)
        if best != want_best:
            raise CheckFailure(
                f"{call} says the best epoch is index {best}, expected {want_best}: the index "
                "of the lowest loss, and on a tie the earlier one (only a strictly lower loss "
                "is an improvement)"
            )
        if stop != want_stop:
            waited = len(losses) - 1 - want_best
            raise CheckFailure(
                f"{call} returned stop={stop}, expected {want_stop}: {waited} epochs have passed "
                f"since the best one, and training stops once that reaches patience"
            )


def _fit(submission, device, seed, log, rows=None, **settings):
    data = _digits()
    rows = slice(None) if rows is None else slice(rows)
    result = submission.call_logged(
        "fit",
        data["X_train"][rows],
        data["y_train"][rows],
        data["X_val"],
        data["y_val"],
        str(device),
        **settings,
        seed=seed,
        log=log,
        timeout=FIT_TIMEOUT,
    )
    if type(result) is not tuple or len(result) != 2:
        raise CheckFailure(f"fit should return a tuple (best_state, epochs_run), got {result!r}")
    if type(result[1]) is not int:
        raise CheckFailure(f"fit's epochs_run should be an int, got {type_name(result[1])}")
    return result


@pytest.mark.points(2)
def test_fit_learns_digits(submission, reference, device, metrics, seed):
    """fit trains the network to at least 90% accuracy on held-out digits"""
    logged = []

    def log(name: str, value: float, step: int | None) -> None:
        logged.append(name)
        metrics.emit(name, value, step)

    state, epochs_run = _fit(submission, device, seed % 1000, log, **FIT_SETTINGS)
    state = _expect_state(state, reference, device, "fit's best_state")
    if not 1 <= epochs_run <= FIT_SETTINGS["epochs"]:
        raise CheckFailure(
            f"fit says it ran {epochs_run} epochs; with epochs={FIT_SETTINGS['epochs']} it "
            "runs between 1 and that many"
        )
    data = _digits()
    _, accuracy = _loss_and_accuracy(reference, state, data["X_test"], data["y_test"], device)
    metrics.emit("test accuracy", accuracy, epochs_run)
    if accuracy < TEST_ACCURACY:
        raise CheckFailure(
            f"the weights fit returned classify {accuracy:.1%} of {HELD_OUT} held-out digits "
            f"correctly (measured here), expected at least {TEST_ACCURACY:.0%}; settings "
            f"{FIT_SETTINGS}"
        )
    if not logged:
        raise CheckFailure(
            "fit never called log(...); report each epoch's values, e.g. "
            'log("val loss", val_loss, epoch), so the curves show while it trains'
        )


@pytest.mark.points(2)
def test_fit_early_stopping(submission, reference, device, metrics, seed):
    """fit stops when validation loss stops improving and returns the best epoch's weights"""
    fit_seed = seed % 1000
    state, epochs_run = _fit(
        submission, device, fit_seed, metrics.emit, rows=STOP_TRAIN_ROWS, **STOP_SETTINGS
    )
    state = _expect_state(state, reference, device, "fit's best_state")

    data = _digits()
    history: list[float] = []
    with _one_thread(), torch.random.fork_rng():
        want_state, want_epochs = reference.fit(
            data["X_train"][:STOP_TRAIN_ROWS],
            data["y_train"][:STOP_TRAIN_ROWS],
            data["X_val"],
            data["y_val"],
            str(device),
            **STOP_SETTINGS,
            seed=fit_seed,
            log=lambda name, value, step: history.append(value) if name == "val loss" else None,
        )
    best_epoch = min(range(len(history)), key=history.__getitem__) + 1
    story = (
        f"with patience={STOP_SETTINGS['patience']} and seed={fit_seed}, the validation "
        f"loss is lowest after epoch {best_epoch} ({history[best_epoch - 1]:.4f}) and the "
        f"reference stops after epoch {want_epochs}"
    )
    if epochs_run != want_epochs:
        raise CheckFailure(
            f"fit ran {epochs_run} of at most {STOP_SETTINGS['epochs']} epochs; {story}. Stop "
            "when early_stopping says so, and set up exactly as fit's docstring says "
            "(torch.manual_seed(seed) first) so that your run is the same as the reference's"
        )
    got_loss, _ = _loss_and_accuracy(reference, state, data["X_val"], data["y_val"], device)
    if (
        abs(got_loss - history[-1]) < 1e-4 * history[-1]
        and abs(got_loss - history[best_epoch - 1]) > 1e-3
    ):
        raise CheckFailure(
            f"fit returned the weights of the last epoch (validation loss {got_loss:.4f}), "
            f"not the best one; {story}. Keep a copy of the weights when a new best appears: "
            "state_dict() returns the live tensors, so clone them"
        )
    _assert_state_close(
        state,
        want_state,
        "in fit's best_state",
        f"{story}; return that epoch's weights. Your returned weights have validation loss "
        f"{got_loss:.4f}",
    )
