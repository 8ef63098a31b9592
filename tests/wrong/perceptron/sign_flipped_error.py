"""Expect failing: update_rule, train_epoch_matches, learns_and, learns_penguins
Mistake: error = y_hat - y (prediction minus target, the usual residual order).
Every correction then pushes the boundary away from the misclassified point, so
training never settles, even on separable data.

Everything else comes from solutions/perceptron/perceptron.py.
"""

import torch


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
    y_hat = predict(w, b, x[None])[0]
    error = y_hat - y
    return w + lr * error * x, b + lr * error
