"""Expect failing: clip_grad_norm
Mistake: clip_grad_norm returns the total norm as a Python float (total.item()), where the
docstring promises a 0-d tensor on the gradients' device (as torch's clip_grad_norm_ returns).

Everything else comes from solutions/optimizers/optimizers.py.
"""

import torch


def clip_grad_norm(grads: Tensors, max_norm: float) -> tuple[Tensors, torch.Tensor]:
    """The right scaling, but the norm as a float."""
    total = torch.stack([g.pow(2).sum() for g in grads.values()]).sum().sqrt()
    scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
    return {name: g * scale for name, g in grads.items()}, total.item()
