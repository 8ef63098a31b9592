"""Expect failing: written_by_hand
Mistake: logistic_step gets its gradient from autograd (requires_grad and backward) instead
of the docstring's formula. The step is right, so only the rule catches it.

Everything else comes from solutions/sgd/sgd.py.
"""

import torch.nn.functional as F


def logistic_step(w, b, X, y, lr):
    """One step, the gradient by autograd."""
    w_, b_ = w.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(X @ w_ + b_, y)
    loss.backward()
    return (w_ - lr * w_.grad).detach(), (b_ - lr * b_.grad).detach()
