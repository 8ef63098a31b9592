"""Expect failing: evaluate
Mistake: evaluate counts the correct rows with (scores.argmax(dim=1) == y).sum() and never
turns the count into a number, so the accuracy it returns is a 0-d tensor, not the Python
float its docstring promises.

Everything else comes from solutions/training_loop/training_loop.py.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader


def evaluate(
    model: nn.Module, loader: DataLoader, loss_fn: nn.Module, device: str
) -> tuple[float, float]:
    """Mean loss and accuracy of `model` over every example of `loader`, changing nothing.

    The model is put in eval mode (model.eval()) and the forward passes run under
    torch.no_grad(). Both results are over examples, not batches: a batch counts in
    proportion to its size (the last batch may be smaller).

    Returns (mean_loss, accuracy), two Python floats; accuracy is in [0, 1].
    """
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            scores = model(X)
            total_loss += loss_fn(scores, y).item() * len(y)
            correct += (scores.argmax(dim=1) == y).sum()
            count += len(y)
    return total_loss / count, correct / count
