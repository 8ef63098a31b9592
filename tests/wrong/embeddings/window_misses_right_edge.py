"""Expect failing: skipgram_pairs
Mistake: the context positions run over range(i - window, i + window), which stops one short.
Python's ranges leave out their end, so the word exactly `window` places to the right of the
centre is never a context word, while the one `window` places to the left is: the window is
lopsided.

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def skipgram_pairs(tokens: torch.Tensor, window: int) -> torch.Tensor:
    """The skip-gram training pairs (centre word, context word) of one sentence."""
    T = len(tokens)
    pairs = [
        (i, j) for i in range(T) for j in range(max(0, i - window), min(T, i + window)) if j != i
    ]
    positions = torch.tensor(pairs, dtype=torch.int64, device=tokens.device).reshape(-1, 2)
    return tokens[positions]
