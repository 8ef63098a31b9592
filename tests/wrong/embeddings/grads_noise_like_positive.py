"""Expect failing: negative_sampling_grads, written_by_hand, learns_embeddings
Mistake: the noise scores get the true pair's derivative, sigmoid(s) - 1, instead of sigmoid(s).
Differentiating -log sigmoid(x) once and reusing the result for -log sigmoid(-x) forgets the
inner minus of the chain rule. The negatives are then pulled towards the centre word like
true contexts, and every vector drifts to the same direction.

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def negative_sampling_grads(
    center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradients of negative_sampling_loss (the batch mean) for its three inputs."""
    B = center.shape[0]
    positive = (context * center).sum(dim=-1)
    noise = (negatives * center[:, None, :]).sum(dim=-1)
    d_positive = (torch.sigmoid(positive) - 1) / B
    d_noise = (torch.sigmoid(noise) - 1) / B
    d_center = d_positive[:, None] * context + (d_noise[:, :, None] * negatives).sum(dim=1)
    d_context = d_positive[:, None] * center
    d_negatives = d_noise[:, :, None] * center[:, None, :]
    return d_center, d_context, d_negatives
