"""Expect failing: sgd_step
Mistake: sgd_step updates each tensor with -= and returns the same dict.
This is how an update looks in many training loops, but -= changes the caller's tensors
in place, so the parameters before the step are lost to whoever still holds them.

Everything else comes from solutions/backprop/mlp.py.
"""


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """One step of gradient descent: each parameter moves against its gradient.

    Maths:  new[name] = params[name] - lr * grads[name]   for every name in params

    Shapes: params and grads dicts with the same keys and shapes; lr a positive float.
    Returns a new dict. The tensors in params are not modified.
    """
    for name in params:
        params[name] -= lr * grads[name]
    return params
