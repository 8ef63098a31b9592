"""Expect failing: fit_early_stopping
Mistake: fit keeps best_state = dict(model.state_dict()) without cloning the tensors.
state_dict() hands out the live parameters, so the "saved" copy keeps training and fit
returns the last epoch's weights, which early stopping was meant to avoid.

Everything else comes from solutions/training_loop/training_loop.py.
"""

import torch
from torch import nn


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
    Keep a copy of the weights whenever early_stopping says this epoch is the best so far,
    and stop when it says to stop.

    Shapes: X_* (N, 64) float32, y_* (N,) int64, on the CPU; device is "cpu" or "cuda".
    Returns (best_state, epochs_run): the best epoch's weights as a plain dict
    {name: tensor} (the entries of model.state_dict(), cloned, with their tensors on
    `device`), and the number of epochs actually run (an int).
    """
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
            best_state = dict(model.state_dict())
        if stop:
            break
    return best_state, len(val_losses)
