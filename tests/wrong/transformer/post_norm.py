"""Expect failing: transformer_block, learns_text
Mistake: the block of the original transformer paper, post-norm:
a = LN(x + attention(x)), out = LN(a + FFN(a)), where the exercise asks for pre-norm,
x + attention(LN(x)) (torch's norm_first=True). The same weights give other outputs, and
weights trained post-norm do not work in the pre-norm model the training check runs.

Everything else comes from solutions/transformer/transformer.py.
"""

import torch


def transformer_block(x: torch.Tensor, params: Params, n_heads: int, causal: bool) -> torch.Tensor:
    """One pre-norm transformer block, as nn.TransformerEncoderLayer(norm_first=True)."""
    a = layer_norm(x + self_attention(x, params, n_heads, causal), params["norm1.weight"],
                   params["norm1.bias"])  # fmt: skip
    return layer_norm(a + feed_forward(a, params), params["norm2.weight"], params["norm2.bias"])
