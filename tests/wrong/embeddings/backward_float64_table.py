"""Expect failing: embedding_backward, learns_embeddings
Mistake: embedding_backward starts from torch.zeros(V, D, dtype=torch.float64), a table of
the dtype the learner saw in float64 tests, instead of one in grad_output's own dtype. Every
float64 value is right; in float32 the gradient comes back as float64, and training, which
subtracts it from a float32 table, quietly turns the whole table into float64.

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def embedding_backward(
    grad_output: torch.Tensor, indices: torch.Tensor, num_embeddings: int
) -> torch.Tensor:
    """The gradient for the table, built in float64 whatever grad_output's dtype."""
    D = grad_output.shape[-1]
    grad = torch.zeros(num_embeddings, D, dtype=torch.float64, device=grad_output.device)
    return grad.index_add(0, indices.reshape(-1), grad_output.reshape(-1, D).double())
