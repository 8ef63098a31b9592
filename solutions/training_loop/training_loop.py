"""The PyTorch training loop: loaders, one epoch of training, evaluation, early stopping, fit.

Your task: write the six functions after `make_model`, in order; `fit` uses all the others.

- `make_model` builds the network (provided);
- `make_loaders` wraps tensors in DataLoaders, shuffling the training set reproducibly;
- `train_one_epoch` runs zero_grad, forward, loss, backward, step over every batch;
- `evaluate` measures mean loss and accuracy without gradients, in eval mode;
- `early_stopping` decides, from the validation losses so far, which epoch is best and
  whether to stop;
- `copy_weights` takes a snapshot of the model's weights;
- `fit` puts them together and returns the best weights.

At the bottom, three small provided functions let the checks call these pieces with plain
tensors (the checks cannot send a model or a DataLoader into your code): leave them as they
are. Rules: follow the docstrings' setup orders exactly (the checks replay your runs with the
same seeds and expect the same numbers), move every batch to `device`, and report means over
examples, not over batches. Read lesson.md for the ideas, ask `mllab hint training_loop` when
stuck, and run `mllab check training_loop`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

Log = Callable[[str, float, int], None]


def make_model() -> nn.Sequential:
    """The network: 64 pixel features -> 64 hidden units (batch norm, ReLU) -> 10 class scores.

    Provided, complete: the checks rebuild this same architecture to load your weights.
    BatchNorm1d behaves differently in train and eval mode, which is what makes
    model.train() and model.eval() matter here.
    """
    return nn.Sequential(
        nn.Linear(64, 64),
        nn.BatchNorm1d(64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def make_loaders(
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    batch_size: int,
    seed: int,
) -> tuple[DataLoader, DataLoader]:
    """DataLoaders over (X_train, y_train) and (X_val, y_val), in batches of batch_size.

    The training loader shuffles, with its own generator seeded by `seed`, so that the order
    of the batches is the same on every run: DataLoader(..., shuffle=True,
    generator=torch.Generator().manual_seed(seed)). The validation loader does not shuffle.

    Shapes: X_* (N, 64) float32, y_* (N,) int64 class labels, on the CPU.
    Returns (train_loader, val_loader); each yields (X_batch, y_batch) pairs.
    """
    # TODO: pair each set's rows with their labels and build the two loaders the docstring
    #       describes. Only the training loader shuffles, in an order fixed by its own
    #       generator seeded with `seed`; the validation loader keeps the rows in order.
    # BEGIN SOLUTION
    train = TensorDataset(X_train, y_train)
    val = TensorDataset(X_val, y_val)
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator)
    val_loader = DataLoader(val, batch_size=batch_size, shuffle=False)
    return train_loader, val_loader
    # END SOLUTION


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: str,
) -> float:
    """One pass over `loader`, making exactly one optimizer step per batch.

    For each batch: move it to `device`, then zero_grad, forward, loss, backward, step.
    The model is put in training mode first (model.train()).

    Returns the mean training loss over all examples of the epoch, as a Python float (not a
    tensor): each batch's loss (a mean over the batch) weighted by the batch's size.
    """
    # TODO: put the model in training mode (it may arrive in eval mode), then handle every
    #       batch as the docstring lists, in that order: one optimizer step per batch.
    #       Return the mean loss over examples as a Python float: weight each batch's mean
    #       by the batch's size, since the last batch may be smaller.
    # BEGIN SOLUTION
    model.train()
    total, count = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count
    # END SOLUTION


def evaluate(
    model: nn.Module, loader: DataLoader, loss_fn: nn.Module, device: str
) -> tuple[float, float]:
    """Mean loss and accuracy of `model` over every example of `loader`, changing nothing.

    The model is put in eval mode (model.eval()) and the forward passes run under
    torch.no_grad(). Both results are over examples, not batches: a batch counts in
    proportion to its size (the last batch may be smaller).

    Returns (mean_loss, accuracy), two Python floats (not tensors); accuracy is in [0, 1].
    """
    # TODO: put the model in eval mode and run every batch without recording gradients.
    #       Add up the loss (each batch's mean weighted by its size) and the number of rows
    #       whose highest score is at the label; divide both by the number of examples.
    # BEGIN SOLUTION
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            scores = model(X)
            total_loss += loss_fn(scores, y).item() * len(y)
            correct += int((scores.argmax(dim=1) == y).sum())
            count += len(y)
    return total_loss / count, correct / count
    # END SOLUTION


def early_stopping(val_losses: list[float], patience: int) -> tuple[int, bool]:
    """Which epoch is best so far, and whether training should stop.

    `val_losses[i]` is the validation loss after epoch i + 1. The best epoch is the index of
    the lowest loss; only a strictly lower loss counts as an improvement, so on a tie the
    earlier epoch stays best. Training stops once `patience` epochs in a row have passed
    without an improvement, i.e. when len(val_losses) - 1 - best >= patience.

    Returns (best_index, stop): an int index into val_losses and a bool.
    """
    # TODO: find the best epoch (on a tie the earlier one stays best) and apply the patience
    #       rule of the docstring. Return a Python int and a Python bool.
    # BEGIN SOLUTION
    best = 0
    for index, loss in enumerate(val_losses):
        if loss < val_losses[best]:
            best = index
    return best, len(val_losses) - 1 - best >= patience
    # END SOLUTION


def copy_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """A snapshot of the model's weights and buffers: a plain dict {name: tensor}.

    model.state_dict() hands out the live tensors, which keep changing as training goes on,
    so each one is cloned (tensor.detach().clone()). And state_dict() is an OrderedDict,
    which cannot be sent back to the checks, so the snapshot is a plain dict.

    Returns a dict with the names of model.state_dict(), each a new tensor on the model's device.
    """
    # TODO: return a plain dict holding a detached copy of every entry of the model's state
    #       dict, so that the snapshot stays as it is while training goes on.
    # BEGIN SOLUTION
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    # END SOLUTION


def fit(
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    device: str,
    *,
    epochs: int = 20,
    patience: int = 3,
    lr: float = 0.05,
    batch_size: int = 32,
    seed: int = 0,
    log: Log | None = None,
) -> tuple[dict[str, torch.Tensor], int]:
    """Train make_model() with early stopping and return its best weights.

    Setup, in this order (so that a run is reproducible from `seed`):
        torch.manual_seed(seed)
        model = make_model().to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        train_loader, val_loader = make_loaders(X_train, y_train, X_val, y_val, batch_size, seed)

    Then for each epoch 1, 2, ..., epochs: train_one_epoch, evaluate on the validation
    loader, record the validation loss, and, if `log` is given, report the values with
    log("train loss", value, epoch), log("val loss", ...), log("val accuracy", ...).
    Keep a copy of the weights (copy_weights) whenever early_stopping says this epoch is the
    best so far, and stop when it says to stop. If no epoch runs, the starting weights count.

    Shapes: X_* (N, 64) float32, y_* (N,) int64, on the CPU; device is "cpu" or "cuda".
    Returns (best_state, epochs_run): the best epoch's weights as a plain dict
    {name: tensor} (the entries of model.state_dict(), cloned, with their tensors on
    `device`), and the number of epochs actually run (an int).
    """
    # TODO: write the setup of the docstring in its order. Then, epoch by epoch: train on the
    #       training loader, evaluate on the validation loader, record and log the values
    #       (the checks judge your stopping and your best weights by the "val loss" you log),
    #       ask early_stopping, take a snapshot when this epoch is the best so far, and stop
    #       when it says so. Return the best snapshot and the number of epochs run.
    # BEGIN SOLUTION
    torch.manual_seed(seed)
    model = make_model().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    train_loader, val_loader = make_loaders(X_train, y_train, X_val, y_val, batch_size, seed)

    val_losses: list[float] = []
    best_state = copy_weights(model)
    for epoch in range(1, epochs + 1):
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        val_loss, val_accuracy = evaluate(model, val_loader, loss_fn, device)
        val_losses.append(val_loss)
        if log is not None:
            log("train loss", train_loss, epoch)
            log("val loss", val_loss, epoch)
            log("val accuracy", val_accuracy, epoch)
        best, stop = early_stopping(val_losses, patience)
        if best == epoch - 1:
            best_state = copy_weights(model)
        if stop:
            break
    return best_state, len(val_losses)
    # END SOLUTION


# ------------------------------------------------------------------------------------------
# Provided for the checks: they build the objects your functions take from plain tensors, call
# your functions, and hand plain values back. There is nothing to write below this line.


def loader_batches(
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    batch_size: int,
    seed: int,
    passes: int,
) -> dict[str, list]:
    """The batches make_loaders yields: `passes` passes over the training loader, one over val."""
    train_loader, val_loader = make_loaders(X_train, y_train, X_val, y_val, batch_size, seed)
    return {
        "train": [[(X, y) for X, y in train_loader] for _ in range(passes)],
        "val": [(X, y) for X, y in val_loader],
    }


def one_epoch_from(
    state: dict[str, torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    lr: float,
    device: str,
) -> tuple[dict[str, torch.Tensor], float]:
    """train_one_epoch from the weights `state`, over unshuffled batches; the new weights."""
    model = make_model().to(device)
    model.load_state_dict(state)
    model.eval()  # as the previous epoch's evaluate leaves it
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)
    loss = train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, device)
    return dict(model.state_dict()), loss


def evaluate_from(
    state: dict[str, torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    device: str,
) -> dict[str, object]:
    """evaluate with the weights `state`; also the weights after it, and whether autograd ran."""
    model = make_model().to(device)
    model.load_state_dict(state)
    model.train()  # as train_one_epoch leaves it
    tracked: list[bool] = []
    hook = model.register_forward_hook(lambda module, args, out: tracked.append(out.requires_grad))
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)
    loss, accuracy = evaluate(model, loader, nn.CrossEntropyLoss(), device)
    hook.remove()
    return {
        "loss": loss,
        "accuracy": accuracy,
        "state": dict(model.state_dict()),
        "gradients_tracked": any(tracked),
    }
