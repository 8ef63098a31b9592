"""Expect failing: adam_small_gradients
Mistake: eps is added inside the square root, sqrt(v_hat + eps), a common way to "keep it safe".
With gradients of size 1 the difference is invisible, but with gradients near 1e-4, v_hat is
about 1e-8 = eps and every step is about 30% too small: Adam loses its scale invariance.

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
        m_hat = m[name] / (1 - beta1**step)
        v_hat = v[name] / (1 - beta2**step)
        new_params[name] = p - lr * m_hat / (v_hat + eps).sqrt()
    return new_params, {**state, "step": step, "m": m, "v": v}
