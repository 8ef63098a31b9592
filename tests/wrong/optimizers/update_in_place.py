"""Expect failing: inputs_unchanged
Mistake: momentum_step updates the velocity and the parameters in place, as torch.optim's own
source does (buf.mul_(momentum).add_(g), p.sub_(...)). The numbers are right, but the caller's
params and old state change under it, so a step can no longer be retried or compared.

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
    old_velocity = state.get("velocity", {})
    velocity, new_params = {}, {}
    for name, p in params.items():
        g = decayed[name]
        if name in old_velocity:
            v = old_velocity[name].mul_(momentum).add_(g)
        else:
            v = g.clone()
        direction = g + momentum * v if nesterov else v
        velocity[name] = v
        new_params[name] = p.sub_(lr * direction)
    return new_params, {**state, "velocity": velocity}
