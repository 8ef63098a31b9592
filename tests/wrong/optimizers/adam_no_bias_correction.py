"""Expect failing: adam_steps, adam_small_gradients
Mistake: Adam uses m and v directly, without dividing by (1 - beta1**t) and (1 - beta2**t).
The correction looks like a detail, but m and v start at zero, so the first step is
(1 - beta1) / sqrt(1 - beta2) = 3.2 times what it should be (and later ones differ too).

Everything else comes from solutions/optimizers/optimizers.py.
"""

import torch


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
    decayed = apply_weight_decay(params, grads, weight_decay)
    step = state.get("step", 0) + 1
    old_m, old_v = state.get("m", {}), state.get("v", {})
    m, v, new_params = {}, {}, {}
    for name, p in params.items():
        g = decayed[name]
        m[name] = beta1 * old_m.get(name, torch.zeros_like(g)) + (1 - beta1) * g
        v[name] = beta2 * old_v.get(name, torch.zeros_like(g)) + (1 - beta2) * g * g
        m_hat = m[name]
        v_hat = v[name]
        new_params[name] = p - lr * m_hat / (v_hat.sqrt() + eps)
    return new_params, {**state, "step": step, "m": m, "v": v}
