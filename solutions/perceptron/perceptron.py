"""The perceptron: a single artificial neuron with a step activation, trained by Rosenblatt's rule.

Your task: write the three functions below, in order; each one can use the one before.

- `predict` turns inputs into 0/1 decisions with the current weights and bias;
- `update` applies Rosenblatt's learning rule to one example;
- `train_epoch` makes one pass over a data set, updating after every example.

Rules: everything is a torch tensor, and results keep the inputs' dtype and device. Labels
are 0 and 1, and a point exactly on the boundary counts as 1. Never modify an input in place:
return new tensors, so the caller's weights keep their values. lesson.md derives the rule and
works an epoch by hand; `mllab hint perceptron` gives one hint at a time. Then run
`mllab check perceptron`.
"""

from __future__ import annotations

import torch


def predict(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Classify every row of X with the perceptron (w, b).

    Maths:  z_n = x_n . w + b        for every row x_n of X (one number per row)
            y_hat_n = step(z_n),     step(z) = 1 if z >= 0, else 0

    Note the boundary: a row with z exactly 0 is classified as 1.

    Shapes: X (N, D), w (D,), b a 0-d tensor (shape ()).
    Returns a tensor of shape (N,) holding the numbers 0.0 and 1.0 (not bools), with X's
    dtype and on X's device.
    """
    # TODO: classify every row at once: its weighted sum plus the bias, through the step.
    #       z == 0 counts as 1, and the answer holds numbers in X's dtype, not True/False.
    # BEGIN SOLUTION
    z = X @ w + b
    return (z >= 0).to(X.dtype)
    # END SOLUTION


def update(
    w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of Rosenblatt's learning rule on a single example (x, y).

    Maths:  y_hat = step(x . w + b)                the prediction predict makes for x
            error = y - y_hat                      (0 when right, +1 or -1 when wrong)
            w_new = w + lr * error * x
            b_new = b + lr * error

    Shapes: w (D,), b (), x (D,), y () holding 0.0 or 1.0; lr a positive float.
    Returns (w_new, b_new) with the shapes of w and b (b_new stays 0-d). w and b are not
    modified.
    """
    # TODO: apply Rosenblatt's rule from the docstring to this one example, with the
    #       prediction your predict makes. Return new tensors; the caller's w and b must
    #       keep their values.
    # BEGIN SOLUTION
    y_hat = predict(w, b, x[None])[0]
    error = y - y_hat
    return w + lr * error * x, b + lr * error
    # END SOLUTION


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
    # TODO: visit the rows in order. Judge each row with the weights as they are when it is
    #       reached, then let update move them; the next row sees the moved weights.
    #       Return the final weights and the count of mistakes as a plain Python int.
    # BEGIN SOLUTION
    mistakes = 0
    for x_row, y_row in zip(X, y, strict=True):
        y_hat = predict(w, b, x_row[None])[0]
        mistakes += int(y_hat != y_row)
        w, b = update(w, b, x_row, y_row, lr)
    return w, b, mistakes
    # END SOLUTION
