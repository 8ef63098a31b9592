"""Expect failing: cosine_similarity, negative_sampling_loss, negative_sampling_grads
Mistake: the cosines, the loss and its gradients are computed in float64 "for accuracy" and
returned that way. Every value is right, and float64 inputs give float64 results, but a
float32 input gets a float64 result back: the docstrings promise the inputs' dtype, and in
training the float64 gradients turn the float32 tables into float64 (so learns_embeddings
fails as well).

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def cosine_similarity(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Cosines, computed and returned in float64."""
    a, b = a.double(), b.double()
    a_unit = a / a.norm(dim=1, keepdim=True).clamp_min(eps)
    b_unit = b / b.norm(dim=1, keepdim=True).clamp_min(eps)
    return a_unit @ b_unit.T


def negative_sampling_loss(
    center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
) -> torch.Tensor:
    """The loss, computed and returned in float64."""
    center, context, negatives = center.double(), context.double(), negatives.double()
    positive = (context * center).sum(dim=-1)
    noise = (negatives * center[:, None, :]).sum(dim=-1)
    per_pair = _softplus(-positive) + _softplus(noise).sum(dim=1)
    return per_pair.mean()


def negative_sampling_grads(
    center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradients, computed and returned in float64."""
    center, context, negatives = center.double(), context.double(), negatives.double()
    B = center.shape[0]
    positive = (context * center).sum(dim=-1)
    noise = (negatives * center[:, None, :]).sum(dim=-1)
    d_positive = (torch.sigmoid(positive) - 1) / B
    d_noise = torch.sigmoid(noise) / B
    d_center = d_positive[:, None] * context + (d_noise[:, :, None] * negatives).sum(dim=1)
    d_context = d_positive[:, None] * center
    d_negatives = d_noise[:, :, None] * center[:, None, :]
    return d_center, d_context, d_negatives
