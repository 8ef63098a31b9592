"""Expect failing: stable_losses_at_extreme_logits
Mistake: softmax_cross_entropy takes log(sum(exp(logits))) without subtracting the row max.
It is the formula as written on paper and it is right for moderate logits, but exp(1000)
overflows to inf, so the loss turns into inf or NaN.

Everything else comes from solutions/activations_losses/functions.py.
"""

import torch


def softmax_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of softmax(logits) against class indices, mean over the batch.

    Maths:  for row i, loss_i = -log softmax(logits[i])[targets[i]]
                              = logsumexp(logits[i]) - logits[i, targets[i]]
            logsumexp(v) = m + log(sum(exp(v - m))) with m = max(v), so no exp overflows.
            loss = mean over the N rows of loss_i

    logits: (N, C) floating; targets: (N,) int64 in [0, C) -> a 0-d tensor of logits' dtype.
    """
    log_sum = torch.log(torch.exp(logits).sum(dim=1))
    rows = torch.arange(logits.shape[0], device=logits.device)
    return (log_sum - logits[rows, targets]).mean()
