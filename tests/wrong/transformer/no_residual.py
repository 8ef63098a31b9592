"""Expect failing: transformer_block, learns_text
Mistake: the block chains its two sub-layers without the skip connections,
out = FFN(LN(attention(LN(x)))): what the sub-layers compute replaces x instead of
being added to it. The mask is still honoured, so the causality check passes; the block,
everything built on it, and the trained model (which relied on no skip path) fail.

Everything else comes from solutions/transformer/transformer.py.
"""

import torch


def transformer_block(x: torch.Tensor, params: Params, n_heads: int, causal: bool) -> torch.Tensor:
    """One pre-norm transformer block, as nn.TransformerEncoderLayer(norm_first=True)."""
    normalized = layer_norm(x, params["norm1.weight"], params["norm1.bias"])
    a = self_attention(normalized, params, n_heads, causal)
    return feed_forward(layer_norm(a, params["norm2.weight"], params["norm2.bias"]), params)
