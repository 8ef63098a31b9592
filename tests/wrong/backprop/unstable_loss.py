"""Expect failing: loss
Mistake: the loss exponentiates the logits without shifting each row by its maximum first.
It is right for small logits, but exp(1000) overflows to inf and the loss becomes NaN or inf.

Everything else comes from solutions/backprop/mlp.py.
"""

import torch


def loss_and_grads(params: Params, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, Params]:
    """The loss from log(sum(exp(logits))) with no shift; the gradients from a shifted softmax."""
    logits, cache = forward(params, X)
    N = X.shape[0]
    rows = torch.arange(N, device=X.device)
    loss = (torch.log(torch.exp(logits).sum(dim=1)) - logits[rows, y]).mean()

    dlogits = torch.softmax(logits, dim=1)
    dlogits[rows, y] -= 1
    dlogits = dlogits / N
    dz1 = dlogits @ params["W2"].T * (cache["z1"] > 0)
    grads = {
        "W1": cache["X"].T @ dz1,
        "b1": dz1.sum(dim=0),
        "W2": cache["h1"].T @ dlogits,
        "b2": dlogits.sum(dim=0),
    }
    return loss, grads
