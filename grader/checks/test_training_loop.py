"""Checks for the training_loop exercise: loaders, one epoch, evaluation, early stopping, fit."""

import collections
import contextlib
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader import kit
from grader.kit import CheckFailure, Mistake, anything

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
# The provided functions of the learner's file: the learner's function each one calls, and
# the shape of what it returns.
PROVIDED = {
    "loader_batches": ("make_loaders", kit.unpack_dict),
    "one_epoch_from": ("train_one_epoch", kit.unpack),
    "evaluate_from": ("evaluate", kit.unpack_dict),
}
# (val_losses, patience): ties, a single epoch, steady improvement, a late improvement.
STOP_CASES = (([1.0, 0.8, 0.9, 0.85], 2), ([1.0, 0.8, 0.9], 2), ([1.0, 0.8, 0.8, 0.8], 2),
              ([0.9], 1), ([0.5, 0.6], 1), ([3.0, 2.0, 1.0], 1),
              ([2.0, 1.0, 1.5, 0.5, 0.7, 0.6, 0.55], 3))  # fmt: skip
EPOCH_RULE = (
    "one optimizer step per batch, in the order zero_grad, forward, loss, backward, step, with "
    "the model in training mode (it arrives in eval mode) and each batch on the device"
)
PER_BATCH = (
    "this is the mean of the per-batch values, where the smaller last batch counts as much as "
    "a full one; weight each batch by its number of examples"
)
SNAPSHOT = (
    "Keep a snapshot taken when the best epoch appears: state_dict() hands out the live "
    "tensors, so a snapshot must be a copy"
)


@functools.lru_cache(maxsize=1)
def _split() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The digits with pixels scaled to [0, 1], split once into train, validation and test:
    the held-out rows of the split are the test rows, then the validation rows."""
    X_train, y_train, X_held, y_held = kit.digits_split(2 * HELD_OUT, seed=SPLIT_SEED)
    return {
        "test": (X_held[:HELD_OUT], y_held[:HELD_OUT]),
        "val": (X_held[HELD_OUT:], y_held[HELD_OUT:]),
        "train": (X_train, y_train),
    }


def _digits(part: str, rows: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(X, y): the first `rows` of one part of the split, "train", "val" or "test"."""
    X, y = _split()[part]
    return X[:rows], y[:rows]


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


def _expect_state(value: Any, reference: Any, device: torch.device, what: str) -> dict:
    """A state_dict as make_model() has it: a plain dict, same names, shapes, dtypes, device."""
    restore = "the weights are a plain dict holding a detached clone of every state_dict entry"
    like = reference.make_model().state_dict()
    return kit.expect_weights(
        value, like, what=what, device=device, restore=restore, label=_describe
    )


def _expect_state_close(got: Mapping, want: Mapping, where: str, hint: str, mistakes=()) -> None:
    """Every entry of `got` close to `want`'s; a mistake's hint shows when all entries match it."""
    parts, expected = tuple(got[name] for name in want), tuple(want.values())
    hint = kit.likely_mistake(parts, mistakes, default=hint, expected=expected, **STATE_TOL)
    for name, value in want.items():
        where_name = f"{_describe(name)} {where}"
        kit.assert_close(got[name], value, name=where_name, hint=hint, **STATE_TOL)


def _model(reference: Any, state: Mapping, device: torch.device) -> torch.nn.Module:
    model = reference.make_model().to(device)
    model.load_state_dict(state)
    return model


def _start_state(reference: Any, seed: int) -> dict[str, torch.Tensor]:
    """make_model()'s initial weights for `seed`, leaving the grader's own random state alone."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return dict(reference.make_model().state_dict())


def _epoch(reference, start, X, y, batch_size, lr, device, *, zero_grad=True, train=True):
    """Trusted: one epoch of SGD from `start` as train_one_epoch makes it, or with one slip.

    Returns the weights after it and each batch's (mean loss, size).
    """
    model = _model(reference, start, device).train(train)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    batches = []
    with _one_thread():
        for X_batch, y_batch in DataLoader(TensorDataset(X, y), batch_size=batch_size):
            if zero_grad:
                optimizer.zero_grad()
            loss = F.cross_entropy(model(X_batch.to(device)), y_batch.to(device))
            loss.backward()
            optimizer.step()
            batches.append((loss.item(), len(y_batch)))
    return model.state_dict(), batches


def _scored(
    reference, state, device, part="val", rows=None, batch_size=128
) -> tuple[torch.Tensor, torch.Tensor]:
    """Trusted, on the first `rows` of a part of the digits: each example's loss and whether its
    highest score is at the label, in eval mode, batch by batch as evaluate runs them (float64,
    on the CPU)."""
    X, y = _digits(part, rows)
    model = _model(reference, state, device).eval()
    with _one_thread(), torch.no_grad():
        scores = torch.cat([model(chunk.to(device)).cpu() for chunk in X.split(batch_size)])
    losses = F.cross_entropy(scores, y, reduction="none").double()
    return losses, (scores.argmax(dim=1) == y).double()


def _batch_mean(values: torch.Tensor, batch_size: int) -> float:
    """The mean of per-batch means: what averaging over batches instead of examples gives."""
    return float(torch.stack([chunk.mean() for chunk in values.split(batch_size)]).mean())


def _provided(submission: Any, provided: str, *args: Any, **parts: Any) -> tuple[Any, ...]:
    """Call a provided function of the learner's file and unpack its result into `parts`."""
    wrapped, take = PROVIDED[provided]
    try:
        result = submission.call(provided, *args)
    except kit.SubmissionError as error:
        # The worker names the function the check called; the TODO is in the one it wraps.
        stub = f"not implemented yet: {provided}()"
        if str(error).startswith(stub):
            message = str(error).replace(stub, f"not implemented yet: {wrapped}()")
            raise kit.SubmissionError(message) from None
        raise
    try:
        return take(result, f"{provided} (provided)", **parts)
    except CheckFailure as failure:
        raise CheckFailure(f"{failure}; restore it as it was given") from None


def _batch_order(batches: Any, X: torch.Tensor, rows: torch.Tensor, batch_size: int, label: str):
    """The row numbers a loader yielded, in order, after checking its batches' shapes."""
    if type(batches) is not list or not batches:
        raise CheckFailure(f"{label} gave no batches")
    x_batch, y_batch = kit.tensor(dtype=X.dtype), kit.tensor(dtype=rows.dtype)
    parts = [
        kit.unpack(b, f"batch {i} of {label}", verb="be", X_batch=x_batch, y_batch=y_batch)
        for i, b in enumerate(batches)
    ]
    sizes, (full, rest) = [len(y) for _, y in parts], divmod(len(rows), batch_size)
    if sizes != (expected := [batch_size] * full + [rest] * bool(rest)):
        raise CheckFailure(
            f"{label} gave batches of sizes {sizes}, expected {expected} "
            f"(batch_size={batch_size}, {len(rows)} rows)"
        )
    order = torch.cat([y for _, y in parts])
    if not torch.equal(order.sort().values, rows):
        raise CheckFailure(f"{label} does not give every row exactly once")
    hint = "each row must travel with its own label: pair X and y in one dataset"
    kit.assert_equal(
        torch.cat([x for x, _ in parts]), X[order], name=f"the X rows of {label}", hint=hint
    )
    return order


def test_make_loaders(submission, reference, seed):
    """make_loaders shuffles the training set reproducibly and keeps validation in order"""
    (X_train, _), (X_val, _) = _digits("train"), _digits("val")
    # Row numbers as labels: the loaders do not care, and they show the order of the rows.
    rows_train, rows_val = torch.arange(len(X_train)), torch.arange(len(X_val))
    batch_size, passes = 64, 2
    args = (X_train, rows_train, X_val, rows_val, batch_size, seed)
    train, val = _provided(
        submission, "loader_batches", *args, passes, train=anything, val=anything
    )
    if type(train) is not list or len(train) != passes:
        raise CheckFailure(f"loader_batches (provided) returned {kit.type_name(train)}; restore it")
    val_order = _batch_order(val, X_val, rows_val, batch_size, "the validation loader")
    if not torch.equal(val_order, rows_val):
        raise CheckFailure(
            "the validation loader changed the order of the rows; it must not shuffle"
        )
    train_loader, _ = reference.make_loaders(*args)
    for index, batches in enumerate(train):
        label = f"training pass {index + 1}"
        order = _batch_order(batches, X_train, rows_train, batch_size, label)
        if torch.equal(order, rows_train):
            raise CheckFailure(f"{label} is not shuffled; the training loader shuffles its rows")
        # Each pass over the reference's loader draws its next order, as the learner's must.
        if not torch.equal(order, torch.cat([rows for _, rows in train_loader])):
            raise CheckFailure(
                f"{label} is shuffled, but not in the order seed={seed} gives: the training "
                "loader shuffles with a generator of its own seeded with `seed`, so that every "
                "run sees the same order (and each pass a new one)"
            )


@pytest.mark.points(2)
def test_train_one_epoch(submission, reference, device, seed):
    """train_one_epoch makes one correct optimizer step per batch, like the reference"""
    (X, y), start = _digits("train", 300), _start_state(reference, seed)
    state, loss = _provided(submission, "one_epoch_from", start, X, y, 32, 0.05, str(device),
                            state=anything, loss=anything)  # fmt: skip
    state = _expect_state(state, reference, device, "the weights after train_one_epoch")
    setup = (reference, start, X, y, 32, 0.05, device)
    want, batches = _epoch(*setup)
    _expect_state_close(state, want, f"after one epoch of {len(batches)} batches", EPOCH_RULE, [
        Mistake("the gradients piled up across batches: clear them before each backward pass",
                lambda: tuple(_epoch(*setup, zero_grad=False)[0].values())),
        Mistake("the model trained in eval mode, where BatchNorm normalizes with its running "
                "statistics; it arrives in eval mode, so switch it to training mode first",
                lambda: tuple(_epoch(*setup, train=False)[0].values())),
    ])  # fmt: skip
    name = "train_one_epoch's mean loss"  # a Python float, as the docstring promises
    kit.expect_close(
        kit.py_float(loss, name), sum(value * size for value, size in batches) / len(y),
        name=name, rtol=1e-4,
        hint="the mean over examples: each batch's mean loss weighted by its size, divided by "
        "the number of examples (the last batch is smaller)",
        mistakes=[Mistake(PER_BATCH, sum(value for value, _ in batches) / len(batches))],
    )  # fmt: skip


@pytest.mark.points(2)
def test_evaluate(submission, reference, device, seed):
    """evaluate gives the mean loss and accuracy over examples, in eval mode, without gradients"""
    (X, y), start = _digits("val"), _start_state(reference, seed)
    # Weights after one epoch from a seeded start: accuracy well away from 0 and 1, and
    # BatchNorm running statistics that differ from a batch's own statistics.
    trained, _ = _epoch(reference, start, *_digits("train", 200), 32, 0.05, device)
    state = {name: value.cpu() for name, value in trained.items()}
    # A batch size at which averaging per-batch accuracies gives a different answer.
    right = _scored(reference, state, device)[1]
    sizes = (
        b for b in (50, 64, 70, 48, 80, 100) if abs(_batch_mean(right, b) - right.mean()) > 1e-3
    )
    batch_size = next(sizes, 50)
    loss, accuracy, after, tracked = _provided(
        submission, "evaluate_from", state, X, y, batch_size, str(device),
        loss=anything, accuracy=anything, state=anything, gradients_tracked=anything,
    )  # fmt: skip
    after = _expect_state(after, reference, device, "the weights after evaluate")
    changed = [name for name, value in state.items() if not torch.equal(after[name].cpu(), value)]
    if changed:
        # Only BatchNorm's running statistics change without an optimizer: training mode did it.
        statistics = all(".running" in name or ".num_batches" in name for name in changed)
        raise CheckFailure(
            f"evaluate changed the model's {_describe(changed[0])}; it must change nothing"
            + (": it ran the model in training mode, where BatchNorm uses each batch's "
               "statistics and updates its running ones; put the model in eval mode first"
               if statistics else "")
        )  # fmt: skip
    if tracked is not False:
        raise CheckFailure(
            "evaluate ran the model with autograd recording (outputs that require grad); run "
            "the forward passes under torch.no_grad()"
        )
    losses, right = _scored(reference, state, device, batch_size=batch_size)
    over = (f"over all {len(y)} examples, each batch weighted by its size (with "
            f"batch_size={batch_size} the last batch is smaller)")  # fmt: skip
    name = "evaluate's mean loss"  # it and the accuracy are Python floats, as promised
    kit.expect_close(kit.py_float(loss, name), float(losses.mean()), name=name, rtol=1e-4,
                     hint=f"the mean loss {over}",
                     mistakes=[Mistake(PER_BATCH, _batch_mean(losses, batch_size))])  # fmt: skip
    mistakes = [
        Mistake(PER_BATCH, _batch_mean(right, batch_size)),
        Mistake("this is the number of correct examples: divide it by the number of examples",
                float(right.sum())),
        Mistake("this is a percentage: accuracy is a fraction in [0, 1]", 100 * right.mean()),
    ]  # fmt: skip
    name = "evaluate's accuracy"
    kit.expect_close(kit.py_float(accuracy, name), float(right.mean()), name=name, rtol=1e-6,
                     hint=f"the fraction of examples whose highest score is at the label, {over}",
                     mistakes=mistakes)  # fmt: skip


def test_early_stopping_rule(submission, reference):
    """early_stopping finds the best epoch and stops after `patience` epochs without improvement"""
    for losses, patience in STOP_CASES:
        call = f"early_stopping({losses}, patience={patience})"
        best, stop = kit.unpack(submission.early_stopping(losses, patience), call,
                                best_index=kit.integer, stop=anything)  # fmt: skip
        if type(stop) is not bool:
            raise CheckFailure(f"{call}'s stop should be a bool, got {kit.type_name(stop)}")
        want_best, want_stop = reference.early_stopping(losses, patience)
        if best != want_best:
            last_lowest = len(losses) - 1 - losses[::-1].index(min(losses))
            hint = kit.likely_mistake(best, [
                Mistake("on a tie the earlier epoch stays best: only a strictly lower loss is an "
                        "improvement", last_lowest),
                Mistake("best_index is an index into val_losses, counting from 0", want_best + 1),
            ], default="the index of the lowest loss, and on a tie the earlier one (only a "
               "strictly lower loss is an improvement)")  # fmt: skip
            raise CheckFailure(
                f"{call} says the best epoch is index {best}, expected {want_best}: {hint}"
            )
        if stop != want_stop:
            waited = len(losses) - 1 - want_best
            late = ", not only once it exceeds it" if waited == patience else ""
            raise CheckFailure(
                f"{call} returned stop={stop}, expected {want_stop}: {waited} epochs have passed "
                f"since the best one, and training stops once that reaches patience{late}"
            )


def _fit(submission, reference, device, metrics, seed, rows=None, **settings):
    """The learner's fit on the digits: (best_state, epochs_run), checked, and what it logged."""
    logged = collections.defaultdict(list)

    def log(name: str, value: float, step: int | None) -> None:
        logged[name].append(value)
        metrics.emit(name, value, step)

    result = submission.call_logged(
        "fit", *_digits("train", rows), *_digits("val"), str(device), **settings, seed=seed,
        log=log, timeout=FIT_TIMEOUT,
    )  # fmt: skip
    state, epochs_run = kit.unpack(result, "fit", best_state=anything, epochs_run=kit.integer)
    return _expect_state(state, reference, device, "fit's best_state"), epochs_run, logged


@pytest.mark.points(2)
def test_fit_learns_digits(submission, reference, device, metrics, seed):
    """fit trains the network to at least 90% accuracy on held-out digits"""
    state, epochs_run, logged = _fit(submission, reference, device, metrics, seed % 1000,
                                     **FIT_SETTINGS)  # fmt: skip
    if not 1 <= epochs_run <= FIT_SETTINGS["epochs"]:
        raise CheckFailure(
            f"fit says it ran {epochs_run} epochs; with epochs={FIT_SETTINGS['epochs']} it "
            "runs between 1 and that many"
        )
    accuracy = float(_scored(reference, state, device, "test")[1].mean())
    metrics.emit("test accuracy", accuracy, epochs_run)
    if accuracy < TEST_ACCURACY:
        raise CheckFailure(
            f"the weights fit returned classify {accuracy:.1%} of {HELD_OUT} held-out digits "
            f"correctly (measured here), expected at least {TEST_ACCURACY:.0%}; settings "
            f"{FIT_SETTINGS}"
        )
    if not logged:
        raise CheckFailure(
            "fit never called log(...); report each epoch's train loss, val loss and val "
            "accuracy with log(name, value, epoch), so the curves show while it trains"
        )


def _stop_epoch(reference: Any, curve: list[float], patience: int, most: int) -> int:
    """The epoch after which early_stopping says stop, given these validation losses."""
    epochs = range(1, len(curve) + 1)
    return next((e for e in epochs if reference.early_stopping(curve[:e], patience)[1]), most)


def _judge_own_curve(submission, reference, device, state, epochs_run, curve) -> None:
    """Stopping and the returned weights, judged by the validation losses fit logged itself.

    A correct fit may draw more random numbers than the reference (an extra pass to log a
    training accuracy shifts the shuffles), so its curve is its own; what must hold is that it
    stopped where early_stopping says for that curve and returned the best epoch's weights.
    """
    patience, most = int(STOP_SETTINGS["patience"]), int(STOP_SETTINGS["epochs"])
    shown = ", ".join(f"{value:.4f}" for value in curve)
    want_epochs = _stop_epoch(reference, curve, patience, most)
    if epochs_run != want_epochs:
        verdict = "went on after" if epochs_run > want_epochs else "stopped before"
        raise CheckFailure(
            f"fit ran {epochs_run} epochs and logged the validation losses [{shown}]; with "
            f"patience={patience}, early_stopping says stop after epoch {want_epochs} for "
            f"these losses, so fit {verdict} that. Ask early_stopping after each epoch's "
            "evaluation and stop as soon as it says so"
        )
    best = reference.early_stopping(curve, patience)[0]
    trusted = float(_scored(reference, state, device)[0].mean())
    seen = _scored(reference, state, device, "train", STOP_TRAIN_ROWS)[0]
    if not float(seen.mean()) < trusted:
        # Weights fitted to the training rows do better on them than on unseen ones.
        raise CheckFailure(
            f"the weights fit returned have a loss of {float(seen.mean()):.4f} on the "
            f"{STOP_TRAIN_ROWS} training rows and {trusted:.4f} on the validation rows: they "
            "fit the validation rows better, as if they were trained on them. Train on the "
            "training loader and only evaluate on the validation one"
        )
    values = [trusted]  # and as your own evaluate measures it, as it measured the logged curve
    with contextlib.suppress(CheckFailure):  # (a SubmissionError is a CheckFailure too)
        values.append(_provided(submission, "evaluate_from", state, *_digits("val"), 128,
                                str(device), loss=kit.number, accuracy=anything,
                                state=anything, gradients_tracked=anything)[0])  # fmt: skip

    def near(loss: float) -> bool:  # (NaN is near nothing)
        return any(abs(value - loss) <= 1e-4 * abs(loss) + 1e-6 for value in values)

    if near(curve[best]):
        return
    epochs = [epoch for epoch, loss in enumerate(curve, start=1) if near(loss)]
    story = (
        f"fit logged the validation losses [{shown}], lowest after epoch {best + 1}, and "
        f"returned weights whose validation loss is {trusted:.4f}"
    )
    if epochs and epochs[-1] == len(curve):
        raise CheckFailure(f"{story}: those of the last epoch, not the best one. {SNAPSHOT}")
    which = f": those of epoch {epochs[0]}" if epochs else ""
    raise CheckFailure(
        f"{story}{which}; return the weights of the epoch early_stopping names as best (a "
        "copy taken right after that epoch's evaluation)"
    )


@pytest.mark.points(2)
def test_fit_early_stopping(submission, reference, device, metrics, seed):
    """fit stops when validation loss stops improving and returns the best epoch's weights"""
    fit_seed, history = seed % 1000, []
    state, epochs_run, logged = _fit(submission, reference, device, metrics, fit_seed,
                                     STOP_TRAIN_ROWS, **STOP_SETTINGS)  # fmt: skip
    curve = logged["val loss"]
    if 1 <= epochs_run == len(curve):
        _judge_own_curve(submission, reference, device, state, epochs_run, curve)
        return
    # Without a logged curve, the run is judged by the reference's, replayed from the seed.
    with _one_thread(), torch.random.fork_rng():
        want_state, want_epochs = reference.fit(
            *_digits("train", STOP_TRAIN_ROWS), *_digits("val"), str(device), **STOP_SETTINGS,
            seed=fit_seed,
            log=lambda name, value, step: history.extend([value] if name == "val loss" else []),
        )  # fmt: skip
    best_epoch = min(range(len(history)), key=history.__getitem__) + 1
    story = (
        f"fit logged {len(curve)} validation losses in {epochs_run} epochs, so this check "
        "replays the reference from your seed (log('val loss', value, epoch) once per epoch "
        f"and it judges your own curve instead): with patience={STOP_SETTINGS['patience']} "
        f"and seed={fit_seed}, the reference's validation loss is lowest after epoch "
        f"{best_epoch} ({history[best_epoch - 1]:.4f}) and it stops after epoch {want_epochs}"
    )
    if epochs_run != want_epochs:
        raise CheckFailure(
            f"fit ran {epochs_run} of at most {STOP_SETTINGS['epochs']} epochs; {story}"
        )
    got_loss = float(_scored(reference, state, device)[0].mean())
    last, best = history[-1], history[best_epoch - 1]
    if abs(got_loss - last) < 1e-4 * last and abs(got_loss - best) > 1e-3:
        raise CheckFailure(
            f"fit returned the weights of the last epoch (validation loss {got_loss:.4f}), "
            f"not the best one; {story}. {SNAPSHOT}"
        )
    hint = f"{story}; return that epoch's weights (yours have validation loss {got_loss:.4f})"
    _expect_state_close(state, want_state, "in fit's best_state", hint)
