"""A two-layer neural network (an MLP) with its gradients worked out by hand.

The network: logits = relu(X @ W1 + b1) @ W2 + b2, trained with softmax cross-entropy.

Your task: fill in the four functions below, in order.

- `init_params` draws starting weights at a scale that keeps signals from fading or blowing up;
- `forward` computes the logits and keeps what the backward pass needs in a cache;
- `loss_and_grads` computes the loss and every gradient with the chain rule, by hand;
- `sgd_step` moves each parameter a small step against its gradient.

Only tensor operations: no autograd (`.backward()`, `torch.autograd`, `requires_grad`) and no
`torch.nn`; a check reads this file to make sure. Never modify an input in place (no
`params["W1"] -= ...`): return new tensors and a new dict instead.
Read lesson.md for the ideas, then run `mllab check backprop`.
"""

from __future__ import annotations

import math  # noqa: F401 (init_params needs math.sqrt)

import torch

Params = dict[str, torch.Tensor]


def init_params(D: int, H: int, C: int, seed: int) -> Params:
    """Random starting parameters for a network with D inputs, H hidden units and C classes.

    W1: (D, H) from a normal distribution with standard deviation sqrt(2 / D)  (He init: a ReLU
        follows this layer and zeroes about half its outputs, so the variance is doubled)
    b1: (H,) zeros
    W2: (H, C) from a normal distribution with standard deviation sqrt(1 / H)  (no ReLU after it)
    b2: (C,) zeros

    All float64 on the CPU, drawn from torch.Generator().manual_seed(seed): W1 first, then W2.
    Returns {"W1": ..., "b1": ..., "W2": ..., "b2": ...}.
    """
    # TODO: make generator = torch.Generator().manual_seed(seed); draw W1 with
    #       torch.randn(D, H, generator=generator, dtype=torch.float64) times math.sqrt(2.0 / D),
    #       then W2 the same way with shape (H, C) times math.sqrt(1.0 / H); biases are
    #       torch.zeros(H, dtype=torch.float64) and torch.zeros(C, dtype=torch.float64).
    #       Return the dict with keys "W1", "b1", "W2", "b2".
    raise NotImplementedError("backprop: implement init_params")


def forward(params: Params, X: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The forward pass: inputs to class scores (logits).

    Maths:  z1 = X @ W1 + b1          (N, H)  pre-activations of the hidden layer
            h1 = relu(z1)             (N, H)  relu(z) = max(z, 0)
            logits = h1 @ W2 + b2     (N, C)

    Shapes: params as from init_params, X (N, D); everything on one device with one dtype.
    Returns (logits, cache): logits (N, C), and a dict of the tensors the backward pass needs.
    """
    # TODO: compute z1, then h1 = torch.clamp(z1, min=0), then logits, as in the maths above.
    #       Return (logits, cache) where cache is a dict such as {"X": X, "z1": z1, "h1": h1}.
    raise NotImplementedError("backprop: implement forward")


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
    # TODO: 1. logits, cache = forward(params, X); N = X.shape[0].
    #       2. Stable log-softmax: shifted = logits - (row max, keepdim=True);
    #          log_probs = shifted - log(sum over the row of exp(shifted), keepdim=True).
    #       3. loss = minus the mean of log_probs[rows, y], rows = torch.arange(N, device=X.device).
    #       4. dlogits = exp(log_probs) with 1 subtracted at [rows, y], all divided by N.
    #       5. Follow the backward formulas above, layer by layer from the output back to the input.
    #       Return (loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}).
    raise NotImplementedError("backprop: implement loss_and_grads")


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """One step of gradient descent: each parameter moves against its gradient.

    Maths:  new[name] = params[name] - lr * grads[name]   for every name in params

    Shapes: params and grads dicts with the same keys and shapes; lr a positive float.
    Returns a new dict. The tensors in params are not modified.
    """
    # TODO: return a new dict {name: params[name] - lr * grads[name] for each name}; do not use
    #       -= on the tensors in params, which would change the caller's parameters too.
    raise NotImplementedError("backprop: implement sgd_step")
