"""Expect failing: bernoulli_reconstruction, negative_elbo, training_reconstructs
Mistake: the logits go through a sigmoid and then into binary_cross_entropy_with_logits,
which applies a sigmoid of its own (the decoders in many tutorials end with a Sigmoid
layer). The "probabilities" then lie between sigmoid(0) = 0.5 and sigmoid(1) = 0.73, so
no pixel can ever be predicted black, and training cannot reconstruct the digits.

Everything else comes from solutions/vae/vae.py.
"""

import torch
import torch.nn.functional as F


def bernoulli_reconstruction(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """BCE summed over pixels, computed on sigmoid(logits) as if those were logits."""
    probabilities = torch.sigmoid(logits)
    return F.binary_cross_entropy_with_logits(probabilities, x, reduction="none").sum(dim=1)
