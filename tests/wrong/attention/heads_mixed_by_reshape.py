"""Expect failing: split_merge_heads, multi_head_attention, multi_head_masks, learns_to_reverse
Mistake: split_heads reshapes (B, T, E) straight to (B, H, T, E // H), without the
transpose (the shapes come out right, so it looks done). Each "head" then holds slices
of several positions; merge_heads undoes it consistently, but the result is not
multi-head attention, and weights trained through it do not fit torch's layout.

Everything else comes from solutions/attention/attention.py.
"""

import torch


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Cut the last axis into num_heads heads and move the head axis in front of the sequence."""
    B, T, E = x.shape
    return x.reshape(B, num_heads, T, E // num_heads)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """The inverse of split_heads: put the heads side by side again along the last axis."""
    B, H, T, head_dim = x.shape
    return x.reshape(B, T, H * head_dim)
