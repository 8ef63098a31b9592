"""Expect failing: nearest_neighbours
Mistake: nearest_neighbours ranks the query word among its own neighbours.
A word's similarity with itself is 1, the highest possible, so every list starts with the
word itself: a useless answer to "which words are like this one?".

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def nearest_neighbours(weight: torch.Tensor, queries: torch.Tensor, k: int) -> torch.Tensor:
    """For each query word, the k words whose vectors are most similar to its vector."""
    scores = cosine_similarity(weight[queries], weight)
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    return order[:, :k]
