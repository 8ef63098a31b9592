"""Expect failing: cosine_similarity, nearest_neighbours
Mistake: cosine_similarity divides by the norm of a's rows only.
Normalising the query and forgetting the table is an easy slip when one side "is already a
unit vector" in the learner's head; long vectors of b then look more similar than short ones
pointing the same way, and the neighbour rankings change with the vectors' lengths.

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def cosine_similarity(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The cosine similarity of every row of a with every row of b."""
    a_unit = a / a.norm(dim=1, keepdim=True).clamp_min(eps)
    return a_unit @ b.T
