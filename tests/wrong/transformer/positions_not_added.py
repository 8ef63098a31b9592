"""Expect failing: embed
Mistake: embed returns the token rows only and forgets the position table, so the model
cannot tell where a character sits except by what the causal mask lets it count. The
position table then gets no gradient at all.

Everything else comes from solutions/transformer/transformer.py.
"""

import torch


def embed(params: Params, tokens: torch.Tensor) -> torch.Tensor:
    """Token embeddings plus learned position embeddings."""
    return params["token_embedding.weight"][tokens]
