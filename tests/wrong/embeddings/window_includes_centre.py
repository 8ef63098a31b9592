"""Expect failing: skipgram_pairs
Mistake: the window includes the centre position, so every word is its own context.
Looping j over the whole window without skipping j == i adds a pair (w, w) for every
position: the model is then rewarded for making each word predict itself.

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def skipgram_pairs(tokens: torch.Tensor, window: int) -> torch.Tensor:
    """The skip-gram training pairs (centre word, context word) of one sentence."""
    T = len(tokens)
    pairs = [(i, j) for i in range(T) for j in range(max(0, i - window), min(T, i + window + 1))]
    positions = torch.tensor(pairs, dtype=torch.int64, device=tokens.device).reshape(-1, 2)
    return tokens[positions]
