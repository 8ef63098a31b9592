"""A two-layer neural network (an MLP) with its gradients worked out by hand.

The network: logits = relu(X @ W1 + b1) @ W2 + b2, trained with softmax cross-entropy.

Your task: write the four functions below, in this order (each one is checked on its own):

1. `init_params` draws starting weights at a scale that keeps signals from fading or blowing up;
2. `forward` computes the logits and keeps what the backward pass needs in a cache;
3. `loss_and_grads` computes the loss and every gradient with the chain rule, by hand;
4. `sgd_step` moves each parameter a small step against its gradient.

Each docstring is the specification: the maths, the shapes, what must stay unchanged.
Rules: tensor operations only. No autograd (`.backward()`, `torch.autograd`, `requires_grad`)
and no `torch.nn`: a check reads this file to make sure. Never modify an input in place (no
`params["W1"] -= ...`): return new tensors and a new dict instead.
Read lesson.md for the derivations, ask `mllab hint backprop` when stuck, and run
`mllab check backprop`.
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
    # TODO: draw both weight matrices from one generator seeded with `seed`, W1 first, each
    #       at the standard deviation given above; the biases start at zero. Everything is
    #       float64, and the same seed must give the same weights.
    # BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    W1 = torch.randn(D, H, generator=generator, dtype=torch.float64) * math.sqrt(2.0 / D)
    W2 = torch.randn(H, C, generator=generator, dtype=torch.float64) * math.sqrt(1.0 / H)
    return {
        "W1": W1,
        "b1": torch.zeros(H, dtype=torch.float64),
        "W2": W2,
        "b2": torch.zeros(C, dtype=torch.float64),
    }
    # END SOLUTION


def forward(params: Params, X: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The forward pass: inputs to class scores (logits).

    Maths:  z1 = X @ W1 + b1          (N, H)  pre-activations of the hidden layer
            h1 = relu(z1)             (N, H)  relu(z) = max(z, 0)
            logits = h1 @ W2 + b2     (N, C)

    Shapes: params as from init_params, X (N, D); everything on one device with one dtype.
    Returns (logits, cache): logits (N, C), and a dict of the tensors the backward pass needs.
    """
    # TODO: compute the three lines of maths above, in order. Put in the cache every tensor
    #       your backward pass will need again (the lesson's derivation tells you which).
    #       Build new tensors: params and X must keep their values.
    # BEGIN SOLUTION
    z1 = X @ params["W1"] + params["b1"]
    h1 = torch.clamp(z1, min=0)
    logits = h1 @ params["W2"] + params["b2"]
    return logits, {"X": X, "z1": z1, "h1": h1}
    # END SOLUTION


def loss_and_grads(params: Params, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, Params]:
    """Softmax cross-entropy of the network on (X, y), and its gradient for every parameter.

    Loss:  L = mean over the N rows of ( logsumexp(logits[i]) - logits[i, y[i]] )
           computed stably: shift each row of logits by its maximum before exponentiating
           (logsumexp(v) = max(v) + log(sum(exp(v - max(v))))), so large logits stay finite.

    Gradients: grads[name] = dL / d params[name], with the shape of params[name], by the
    chain rule. The backward pass starts at the loss, where (lesson.md derives it), with
    P = softmax(logits) row by row and Y the one-hot matrix of y,
            dlogits = dL / dlogits = (P - Y) / N           (N, C)
    and goes back through the second linear layer, the ReLU and the first linear layer, in
    that order. The ReLU's slope is 1 where z1 > 0 and 0 elsewhere (z1 == 0 included).

    Shapes: params as from init_params, X (N, D), y (N,) int64 class indices in [0, C).
    Returns (loss, grads): loss a 0-d tensor; grads a dict with the keys and shapes of params.
    """
    # TODO: run your forward pass, then compute the mean loss in a numerically stable way
    #       (large logits must not overflow). Then walk back from dlogits to the input,
    #       output layer first, applying the lesson's rules for a linear layer and for the
    #       ReLU at each step; each gradient has its parameter's shape. By hand: no
    #       autograd. Leave params, X and y unchanged.
    # BEGIN SOLUTION
    logits, cache = forward(params, X)
    N = X.shape[0]
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    rows = torch.arange(N, device=X.device)
    loss = -log_probs[rows, y].mean()

    dlogits = torch.exp(log_probs)
    dlogits[rows, y] -= 1
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
    # END SOLUTION


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """One step of gradient descent: each parameter moves against its gradient.

    Maths:  new[name] = params[name] - lr * grads[name]   for every name in params

    Shapes: params and grads dicts with the same keys and shapes; lr a positive float.
    Returns a new dict. The tensors in params are not modified.
    """
    # TODO: move every parameter one step against its gradient, as the maths above says.
    #       Return a fresh dict of new tensors: the caller's parameters keep their values.
    # BEGIN SOLUTION
    return {name: value - lr * grads[name] for name, value in params.items()}
    # END SOLUTION
