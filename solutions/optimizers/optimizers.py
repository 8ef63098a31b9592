"""Optimizers as pure step functions: SGD, momentum (and Nesterov), Adam, weight decay, clipping.

Your task: write the five functions below, in order: `apply_weight_decay` first, since every
step uses it. Every function works on dictionaries that map a parameter's name to a tensor:

- `params`: the current parameters, e.g. {"weight": (3, 4) tensor, "bias": (3,) tensor};
- `grads`: the gradient of the loss for each parameter, same names, shapes, dtype and device;
- `state`: what an optimizer remembers between steps. It starts as an empty dict {} and each
  step returns the next one; it may hold only dicts, tensors and numbers.

A step returns `(new_params, new_state)` and never modifies its inputs in place: no `+=`, no
`.add_()`, no `state[...] = ...` on a dict you were given. Build new dicts and new tensors.
The formulas in the docstrings follow `torch.optim`, and the checks compare your numbers with
PyTorch's SGD and Adam step by step. Keep every result on the device and dtype of the inputs.
Write each rule yourself: no `torch.optim` and no `torch.nn.utils.clip_grad_norm_` (a check
reads this file to make sure).
Read lesson.md for the ideas, ask `mllab hint optimizers` when stuck, and run
`mllab check optimizers`.
"""

from __future__ import annotations

import torch

Tensors = dict[str, torch.Tensor]


def apply_weight_decay(params: Tensors, grads: Tensors, weight_decay: float) -> Tensors:
    """L2 weight decay as torch.optim adds it: the gradient of loss + (wd / 2) * ||p||^2.

    Maths:  g' = g + weight_decay * p        for every parameter

    Shapes: each grads[name] has the shape of params[name]; weight_decay >= 0.
    Returns a new dict {name: g'}; with weight_decay == 0 the values equal the gradients.
    """
    # TODO: add the decay term of the formula above to every parameter's gradient. Return a
    #       new dict; the gradients you were given keep their values.
    # BEGIN SOLUTION
    return {name: grads[name] + weight_decay * params[name] for name in params}
    # END SOLUTION


def sgd_step(
    params: Tensors, grads: Tensors, state: dict, lr: float, weight_decay: float = 0.0
) -> tuple[Tensors, dict]:
    """One step of plain (stochastic) gradient descent, like torch.optim.SGD(momentum=0).

    Maths:  g = grad + weight_decay * p
            p_new = p - lr * g

    Plain SGD remembers nothing, so the state comes back as it went in (an empty dict).
    Returns (new_params, state) with new_params a new dict of new tensors.
    """
    # TODO: apply weight decay first, then move every parameter against its decayed
    #       gradient. Return the new parameters and a state like the one you got (plain SGD
    #       remembers nothing).
    # BEGIN SOLUTION
    decayed = apply_weight_decay(params, grads, weight_decay)
    new_params = {name: params[name] - lr * decayed[name] for name in params}
    return new_params, dict(state)
    # END SOLUTION


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
    # TODO: apply weight decay first. For every parameter, build the new velocity from the
    #       old one (zeros on the first step, when the state is empty) and the gradient, then
    #       step along the velocity, or along the look-ahead direction when nesterov is set.
    #       Return the new parameters and a new state holding the new velocities; the state
    #       you were given must stay as it was.
    # BEGIN SOLUTION
    decayed = apply_weight_decay(params, grads, weight_decay)
    old_velocity = state.get("velocity", {})
    velocity, new_params = {}, {}
    for name, p in params.items():
        g = decayed[name]
        v = momentum * old_velocity.get(name, torch.zeros_like(g)) + g
        direction = g + momentum * v if nesterov else v
        velocity[name] = v
        new_params[name] = p - lr * direction
    return new_params, {**state, "velocity": velocity}
    # END SOLUTION


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
    # TODO: count this step first (the first call is step 1), then apply weight decay. For
    #       every parameter, update both running averages (zeros on the first step), correct
    #       their bias with the step count, and move by the corrected ratio, with eps added
    #       outside the square root. Return the new parameters and a new state; the state you
    #       were given must stay as it was.
    # BEGIN SOLUTION
    beta1, beta2 = betas
    decayed = apply_weight_decay(params, grads, weight_decay)
    step = state.get("step", 0) + 1
    old_m, old_v = state.get("m", {}), state.get("v", {})
    m, v, new_params = {}, {}, {}
    for name, p in params.items():
        g = decayed[name]
        m[name] = beta1 * old_m.get(name, torch.zeros_like(g)) + (1 - beta1) * g
        v[name] = beta2 * old_v.get(name, torch.zeros_like(g)) + (1 - beta2) * g * g
        m_hat = m[name] / (1 - beta1**step)
        v_hat = v[name] / (1 - beta2**step)
        new_params[name] = p - lr * m_hat / (v_hat.sqrt() + eps)
    return new_params, {**state, "step": step, "m": m, "v": v}
    # END SOLUTION


def clip_grad_norm(grads: Tensors, max_norm: float) -> tuple[Tensors, torch.Tensor]:
    """Scale all gradients together so that their global L2 norm is at most max_norm.

    Maths:  total = sqrt(sum over every tensor and every element of g**2)
            scale = min(1, max_norm / (total + 1e-6))
            g_new = scale * g                    (the same scale for every tensor)

    Below the threshold the scale is 1 and the gradients come back unchanged; like
    torch.nn.utils.clip_grad_norm_, the 1e-6 guards against dividing by zero.
    Returns (new_grads, total): a new dict, and the norm before clipping as a 0-d tensor.
    """
    # TODO: measure the norm of all the gradients together (one number for the whole dict),
    #       then multiply every tensor by the same factor from the formula above. Return new
    #       tensors and the norm from before clipping, as a 0-d tensor on the gradients' device.
    # BEGIN SOLUTION
    total = torch.stack([g.pow(2).sum() for g in grads.values()]).sum().sqrt()
    scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
    return {name: g * scale for name, g in grads.items()}, total
    # END SOLUTION
