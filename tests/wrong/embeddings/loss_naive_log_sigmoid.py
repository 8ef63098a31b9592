"""Expect failing: negative_sampling_loss
Mistake: the loss is computed as written, -log(sigmoid(x)), without a stable form.
For moderate scores it is right, but once a score passes about -40 in float64, sigmoid
rounds to 0 and the log gives inf: one confident wrong pair turns the whole loss infinite.

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def negative_sampling_loss(
    center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
) -> torch.Tensor:
    """Skip-gram's loss with negative sampling, averaged over a batch of pairs."""
    positive = (context * center).sum(dim=-1)
    noise = (negatives * center[:, None, :]).sum(dim=-1)
    per_pair = -torch.log(torch.sigmoid(positive)) - torch.log(torch.sigmoid(-noise)).sum(dim=1)
    return per_pair.mean()
