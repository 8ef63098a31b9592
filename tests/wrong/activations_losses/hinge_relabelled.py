"""Expect failing: hinge
Mistake: hinge converts the labels with 2 * y - 1, as if they came as 0 and 1.
That conversion is right for 0/1 labels, but these are already -1 and +1, so a -1 becomes
-3 and the margin of every negative example is tripled.

Everything else comes from solutions/activations_losses/functions.py.
"""

import torch


def hinge(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Hinge loss (as in a linear SVM), mean over the batch.

    Maths:  loss = mean( max(0, 1 - y * scores) )

    scores: (N,) real; y: (N,) labels -1.0 or +1.0 (not 0/1); both floating, same dtype
    -> a 0-d tensor of that dtype.
    """
    signs = 2 * y - 1
    return torch.clamp(1 - signs * scores, min=0).mean()
