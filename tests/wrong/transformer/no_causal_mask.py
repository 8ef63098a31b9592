"""Expect failing: causal, learns_text
Mistake: the block never passes `causal` on: every position attends to every other,
the future included. The training loss then drops fast, since each position can read the
character it is asked to predict, but a model that learned to copy from the future has
nothing to copy when it writes, so its loss on new text (computed with the mask) is bad.
With causal=False the block is right, so the block's own check passes.

Everything else comes from solutions/transformer/transformer.py.
"""

import torch


def transformer_block(x: torch.Tensor, params: Params, n_heads: int, causal: bool) -> torch.Tensor:
    """One pre-norm transformer block, as nn.TransformerEncoderLayer(norm_first=True)."""
    normalized = layer_norm(x, params["norm1.weight"], params["norm1.bias"])
    a = x + self_attention(normalized, params, n_heads, False)
    return a + feed_forward(layer_norm(a, params["norm2.weight"], params["norm2.bias"]), params)
