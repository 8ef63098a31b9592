"""Expect failing: no_ready_made_optimizers
Mistake: clip_grad_norm hands the work to torch.nn.utils.clip_grad_norm_ on copies of the
gradients. The numbers are right, but the exercise asks for the rule written by hand.

Everything else comes from solutions/optimizers/optimizers.py.
"""

import torch
from torch.nn.utils import clip_grad_norm_


def clip_grad_norm(grads: Tensors, max_norm: float) -> tuple[Tensors, torch.Tensor]:
    """torch's clipping on parameters whose .grad are copies of the gradients."""
    leaves = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads.values()]
    for leaf, g in zip(leaves, grads.values(), strict=True):
        leaf.grad = g.clone()
    total = clip_grad_norm_(leaves, max_norm)
    return {name: leaf.grad for name, leaf in zip(grads, leaves, strict=True)}, total
