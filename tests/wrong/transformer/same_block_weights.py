"""Expect failing: lm_forward
Mistake: the loop over the blocks always fetches block 0's weights, so every block of the
stack runs the same layer and block 1's weights are never used (nor trained). Training may
still pass: an untrained pre-norm block with small weights is close to the identity, so the
trusted model runs well enough with block 1 left at its start.

Everything else comes from solutions/transformer/transformer.py.
"""

import torch
import torch.nn.functional as F


def lm_forward(params: Params, tokens: torch.Tensor, n_heads: int, n_layers: int) -> torch.Tensor:
    """The language model: scores for the next token at every position."""
    x = embed(params, tokens)
    for _ in range(n_layers):
        x = transformer_block(x, block_params(params, 0), n_heads, causal=True)
    x = layer_norm(x, params["norm.weight"], params["norm.bias"])
    return F.linear(x, params["head.weight"], params["head.bias"])
