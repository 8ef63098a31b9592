"""Expect failing: embedding_backward, learns_embeddings
Mistake: embedding_backward assigns each position's gradient to its row instead of adding it.
grad[indices] = grad_output reads like "put the gradient where the word is", but when a word
appears twice in the batch, the second write replaces the first, so its row keeps only one
contribution. Frequent words lose most of their gradient, and training collapses every vector
onto one direction.

Everything else comes from solutions/embeddings/embeddings.py.
"""

import torch


def embedding_backward(
    grad_output: torch.Tensor, indices: torch.Tensor, num_embeddings: int
) -> torch.Tensor:
    """The gradient of a loss for the table, given its gradient for the looked-up vectors."""
    D = grad_output.shape[-1]
    grad = grad_output.new_zeros(num_embeddings, D)
    grad[indices.reshape(-1)] = grad_output.reshape(-1, D)
    return grad
