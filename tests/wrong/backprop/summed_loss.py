"""Expect failing: loss, gradients_match_numerical
Mistake: the loss sums over the batch instead of taking the mean. The gradients, taken from
the docstring's dlogits = (P - Y) / N, are still right, so only the loss's own check fails.

Everything else comes from solutions/backprop/mlp.py.
"""

import torch


def loss_and_grads(params: Params, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, Params]:
    """The loss summed over the rows, with the right gradients."""
    logits, cache = forward(params, X)
    N = X.shape[0]
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    rows = torch.arange(N, device=X.device)
    loss = -log_probs[rows, y].sum()

    dlogits = torch.exp(log_probs)
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
