"""Expect failing: momentum_steps, nesterov_steps
Mistake: the velocity update decays the parameter instead of the old velocity (v = mu * p + g).
Both are per-parameter tensors of the same shape, so the slip runs without an error; the
first step already moves p by lr * (mu * p + g) instead of lr * g.

Everything else comes from solutions/optimizers/optimizers.py.
"""


def momentum_step(
    params: Tensors,
    grads: Tensors,
    state: dict,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> tuple[Tensors, dict]:
    """One step of SGD with momentum, in PyTorch's formulation (torch.optim.SGD, dampening 0).

    Maths:  g = grad + weight_decay * p
            v_new = momentum * v + g             (v starts at zeros, so v_1 = g)
            direction = g + momentum * v_new     if nesterov, else v_new
            p_new = p - lr * direction

    State: {"velocity": {name: v}} after the first step; {} before it.
    Returns (new_params, new_state); neither the inputs nor the old velocity change.
    """
    decayed = apply_weight_decay(params, grads, weight_decay)
    velocity, new_params = {}, {}
    for name, p in params.items():
        g = decayed[name]
        v = momentum * p + g
        direction = g + momentum * v if nesterov else v
        velocity[name] = v
        new_params[name] = p - lr * direction
    return new_params, {**state, "velocity": velocity}
