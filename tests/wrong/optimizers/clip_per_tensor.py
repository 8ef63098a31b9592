"""Expect failing: clip_grad_norm
Mistake: each gradient tensor is clipped to max_norm by its own norm, not by the global norm.
It looks like the same rule applied "to each gradient", but the global norm can then be up to
sqrt(number of tensors) * max_norm, and the relative sizes of the tensors change.

Everything else comes from solutions/optimizers/optimizers.py.
"""

import torch


def clip_grad_norm(grads: Tensors, max_norm: float) -> tuple[Tensors, torch.Tensor]:
    """Scale all gradients together so that their global L2 norm is at most max_norm.

    Maths:  total = sqrt(sum over every tensor and every element of g**2)
            scale = min(1, max_norm / (total + 1e-6))
            g_new = scale * g                    (the same scale for every tensor)

    Below the threshold the scale is 1 and the gradients come back unchanged; like
    torch.nn.utils.clip_grad_norm_, the 1e-6 guards against dividing by zero.
    Returns (new_grads, total): a new dict, and the norm before clipping as a 0-d tensor.
    """
    total = torch.stack([g.pow(2).sum() for g in grads.values()]).sum().sqrt()
    clipped = {}
    for name, g in grads.items():
        scale = (max_norm / (g.norm() + 1e-6)).clamp(max=1.0)
        clipped[name] = g * scale
    return clipped, total
