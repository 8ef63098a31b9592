"""Expect failing: negative_sampling_loss
Mistake: the noise words enter the loss as -log sigmoid(u_k . v), like the true pair.
Copying the first term for the negatives drops the minus inside the sigmoid: the loss then
rewards random pairs for scoring high, the opposite of what negative sampling is for.
(train_skipgram learns from negative_sampling_grads, so only the loss check sees this.)

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def negative_sampling_loss(
    center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
) -> torch.Tensor:
    """Skip-gram's loss with negative sampling, averaged over a batch of pairs."""
    positive = (context * center).sum(dim=-1)
    noise = (negatives * center[:, None, :]).sum(dim=-1)
    per_pair = _softplus(-positive) + _softplus(-noise).sum(dim=1)
    return per_pair.mean()
