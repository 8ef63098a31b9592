"""Expect failing: lm_loss, learns_text
Mistake: each position is scored against its own character, tokens[:, :-1], not the one
after it. Under the causal mask a position can see its own character, so the model learns
to copy it and the training loss falls towards 0 while it learns nothing about what comes
next: its loss on new text is far above the bound.

Everything else comes from solutions/transformer/transformer.py.
"""

import torch
import torch.nn.functional as F


def lm_loss(params: Params, tokens: torch.Tensor, n_heads: int, n_layers: int) -> torch.Tensor:
    """The language-modelling loss: how well each position predicts the token after it."""
    inputs = tokens[:, :-1]
    logits = lm_forward(params, inputs, n_heads, n_layers)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), inputs.reshape(-1))
