"""Expect failing: multi_head_masks
Mistake: multi_head_attention gives the mask its head axis with mask[:, None] (right after
the first axis) rather than just before the last two. For the (B, 1, S) and (B, L, S) masks
that is the same thing; for the 2-D form the docstring allows, causal_mask(L, S) shared by
the batch, it turns (L, S) into (L, 1, S), which lines L up with the heads.

Everything else comes from solutions/attention/attention.py.
"""

import torch


def multi_head_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    params: dict[str, torch.Tensor],
    num_heads: int,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head attention with the weights of torch's nn.MultiheadAttention(batch_first=True)."""
    w_q, w_k, w_v = params["in_proj_weight"].chunk(3)
    b_q, b_k, b_v = params["in_proj_bias"].chunk(3)
    q = split_heads(query @ w_q.T + b_q, num_heads)
    k = split_heads(key @ w_k.T + b_k, num_heads)
    v = split_heads(value @ w_v.T + b_v, num_heads)
    if mask is not None:
        mask = mask[:, None]
    heads, weights = attention(q, k, v, mask)
    output = merge_heads(heads) @ params["out_proj.weight"].T + params["out_proj.bias"]
    return output, weights.mean(dim=1)
