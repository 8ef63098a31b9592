"""Expect failing: kl_divergence
Mistake: kl_divergence computes KL(q || p), weighting by q instead of p.
Both orders are called "the KL divergence between p and q", and it is easy to forget
that it is not symmetric; with zeros in p the swapped version is even infinite.

Everything else comes from solutions/activations_losses/functions.py.
"""

import torch


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Kullback-Leibler divergence KL(p || q), row by row, then the mean over the rows.

    Maths:  KL(p || q) = sum over k of p[k] * log(p[k] / q[k])
            terms with p[k] == 0 count as 0; q[k] must be > 0 wherever p[k] > 0.
            loss = mean over the N rows of KL(p[i] || q[i])

    p, q: (N, K) floating, each row a probability distribution (entries >= 0, summing to 1)
    -> a 0-d tensor of their dtype.
    """
    # Where p is 0 the ratio is set to 1, so its term is 0 * log(1) = 0 instead of 0 * -inf.
    ratio = torch.where(q > 0, q / p, torch.ones_like(q))
    return (q * torch.log(ratio)).sum(dim=1).mean()
