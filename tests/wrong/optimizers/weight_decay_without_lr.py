"""Expect failing: sgd_step, momentum_steps, nesterov_steps, adam_steps
Mistake: the steps subtract weight_decay * p from the parameter, without lr, instead of adding it
to the gradient. The course formula W - lr * dJ/dW - lr * alpha * W is easy to misremember
without its second lr, which makes the decay 1/lr times too strong (and Adam's m and v miss it).

Everything else comes from solutions/optimizers/optimizers.py.
"""

import torch


def sgd_step(
    params: Tensors, grads: Tensors, state: dict, lr: float, weight_decay: float = 0.0
) -> tuple[Tensors, dict]:
    """One step of plain (stochastic) gradient descent, like torch.optim.SGD(momentum=0).

    Maths:  g = grad + weight_decay * p
            p_new = p - lr * g

    Plain SGD remembers nothing, so the state comes back as it went in (an empty dict).
    Returns (new_params, state) with new_params a new dict of new tensors.
    """
    decayed = grads
    new_params = {
        name: params[name] - lr * decayed[name] - weight_decay * params[name] for name in params
    }
    return new_params, dict(state)


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
    decayed = grads
    old_velocity = state.get("velocity", {})
    velocity, new_params = {}, {}
    for name, p in params.items():
        g = decayed[name]
        v = momentum * old_velocity.get(name, torch.zeros_like(g)) + g
        direction = g + momentum * v if nesterov else v
        velocity[name] = v
        new_params[name] = p - lr * direction - weight_decay * p
    return new_params, {**state, "velocity": velocity}


def adam_step(
    params: Tensors,
    grads: Tensors,
    state: dict,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
) -> tuple[Tensors, dict]:
    """One step of Adam with bias correction, like torch.optim.Adam (L2 weight decay, not AdamW).

    Maths, with t the number of this step (1 on the first step):
            g = grad + weight_decay * p
            m_new = beta1 * m + (1 - beta1) * g          (m and v start at zeros)
            v_new = beta2 * v + (1 - beta2) * g**2
            m_hat = m_new / (1 - beta1**t)
            v_hat = v_new / (1 - beta2**t)
            p_new = p - lr * m_hat / (sqrt(v_hat) + eps)

    State: {"step": t (an int), "m": {name: m}, "v": {name: v}}; {} before the first step.
    Returns (new_params, new_state); the inputs do not change.
    """
    beta1, beta2 = betas
    decayed = grads
    step = state.get("step", 0) + 1
    old_m, old_v = state.get("m", {}), state.get("v", {})
    m, v, new_params = {}, {}, {}
    for name, p in params.items():
        g = decayed[name]
        m[name] = beta1 * old_m.get(name, torch.zeros_like(g)) + (1 - beta1) * g
        v[name] = beta2 * old_v.get(name, torch.zeros_like(g)) + (1 - beta2) * g * g
        m_hat = m[name] / (1 - beta1**step)
        v_hat = v[name] / (1 - beta2**step)
        new_params[name] = p - lr * m_hat / (v_hat.sqrt() + eps) - weight_decay * p
    return new_params, {**state, "step": step, "m": m, "v": v}
