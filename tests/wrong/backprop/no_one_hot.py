"""Expect failing: gradients_match_autograd, gradients_match_numerical, learns_xor
Mistake: dlogits is softmax(logits) / N, without subtracting the one-hot labels.
The derivative of logsumexp is the softmax, and the other half of the loss,
-logits[i, y[i]], is easy to forget: its derivative is -1 at each row's true class.

Everything else comes from solutions/backprop/mlp.py.
"""

import torch


def loss_and_grads(params: Params, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, Params]:
    """Softmax cross-entropy of the network on (X, y), and its gradient for every parameter.

    Loss:  L = mean over the N rows of ( logsumexp(logits[i]) - logits[i, y[i]] )

    Backward, with P = softmax(logits) row by row and Y the one-hot matrix of y:
            dlogits = (P - Y) / N           (N, C)
            dW2 = h1.T @ dlogits             (H, C)
            db2 = dlogits summed over rows   (C,)
            dh1 = dlogits @ W2.T             (N, H)
            dz1 = dh1 * (z1 > 0)             (N, H)  the ReLU passes gradient only where z1 > 0
            dW1 = X.T @ dz1                  (D, H)
            db1 = dz1 summed over rows       (H,)

    Shapes: params as from init_params, X (N, D), y (N,) int64 class indices in [0, C).
    Returns (loss, grads): loss a 0-d tensor; grads a dict with the keys and shapes of params.
    """
    logits, cache = forward(params, X)
    N = X.shape[0]
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    rows = torch.arange(N, device=X.device)
    loss = -log_probs[rows, y].mean()

    dlogits = torch.exp(log_probs)
    dlogits = dlogits / N
    dh1 = dlogits @ params["W2"].T
    dz1 = dh1 * (cache["z1"] > 0)
    grads = {
        "W1": cache["X"].T @ dz1,
        "b1": dz1.sum(dim=0),
        "W2": cache["h1"].T @ dlogits,
        "b2": dlogits.sum(dim=0),
    }
    return loss, grads
