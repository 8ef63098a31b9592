"""The perceptron: a single artificial neuron with a step activation, trained by Rosenblatt's rule.

Your task: fill in the three functions below, in order. Each builds on the one before.

- `predict` turns inputs into 0/1 decisions with the current weights and bias;
- `update` applies the learning rule to one example;
- `train_epoch` makes one pass over a data set, updating after every example.

Everything is a torch tensor. Never modify an input in place (no `w += ...`): return new
tensors instead. Read lesson.md for the ideas, then run `mllab check perceptron`.
"""

from __future__ import annotations

import torch


def predict(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Classify every row of X with the perceptron (w, b).

    Maths:  z = X @ w + b            (one number per row)
            y_hat = step(z),  step(z) = 1 if z >= 0 else 0

    Note the boundary: a row with z exactly 0 is classified as 1.

    Shapes: X (N, D), w (D,), b a 0-d tensor (shape ()).
    Returns a tensor of shape (N,) holding 0.0 and 1.0, with X's dtype and on X's device.
    """
    # TODO: compute z = X @ w + b (shape (N,)), compare it with 0 using >= (this gives a
    #       bool tensor), and return that converted to X's dtype with .to(X.dtype).
    raise NotImplementedError("perceptron: implement predict")


def update(
    w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of Rosenblatt's learning rule on a single example (x, y).

    Maths:  y_hat = predict(w, b, x[None])[0]
            error = y - y_hat                      (0 when right, +1 or -1 when wrong)
            w_new = w + lr * error * x
            b_new = b + lr * error

    Shapes: w (D,), b (), x (D,), y () holding 0.0 or 1.0; lr a positive float.
    Returns (w_new, b_new) with the shapes of w and b. w and b are not modified.
    """
    # TODO: get y_hat = predict(w, b, x[None])[0] (x[None] is x as a batch of one row),
    #       set error = y - y_hat, and return the pair (w + lr * error * x, b + lr * error).
    raise NotImplementedError("perceptron: implement update")


def train_epoch(
    w: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lr: float
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """One pass over the rows of (X, y) in order, calling `update` on each row.

    A row counts as a mistake when its prediction, made with the weights as they are when the
    row is reached (before its own update), differs from its label.

    Shapes: w (D,), b (), X (N, D), y (N,) holding 0.0 and 1.0; lr a positive float.
    Returns (w_new, b_new, mistakes): the weights after the last row, and the number of
    mistakes in this pass as a Python int. w and b are not modified.
    """
    # TODO: set mistakes = 0, then loop: for x_row, y_row in zip(X, y, strict=True):
    #         - predict x_row with the current w and b, as update does;
    #         - if that prediction differs from y_row, add 1 to mistakes;
    #         - then w, b = update(w, b, x_row, y_row, lr).
    #       After the loop, return w, b, mistakes (mistakes stays a plain Python int).
    raise NotImplementedError("perceptron: implement train_epoch")
