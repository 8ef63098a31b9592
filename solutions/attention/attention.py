"""Attention: scaled dot-product attention, its masks, multi-head attention, positions.

What you write, in this order (each builds on the ones before):

1. `attention`: mix the values v with weights softmax(q k^T / sqrt(d)), honouring a mask;
2. `causal_mask` and `padding_mask`: the two masks every sequence model needs;
3. `split_heads` and `merge_heads`: cut the model dimension into heads and glue it back;
4. `multi_head_attention`: project, split, attend and project back, with the weights laid
   out as in torch's nn.MultiheadAttention;
5. `positional_encoding`: each position's sinusoidal signature.

Rules:
- Mask convention (that of torch.nn.functional.scaled_dot_product_attention): a bool mask,
  True where a query may attend to a key, False where it may not. nn.MultiheadAttention's
  masks mean the opposite; this file never uses them.
- A query row in which no key is allowed gets all-zero weights and an all-zero output.
- Write the maths with tensor operations: torch's own attention functions would skip the
  exercise (the checks compare against them). Inputs are never modified.

At the bottom, a small model (provided) learns to reverse sequences with your functions.
Read lesson.md for the ideas, then run `mllab check attention`.
"""

from __future__ import annotations

import math  # noqa: F401 (attention needs math.sqrt)
from collections.abc import Callable

import torch
from torch import nn

Log = Callable[[str, float, int], None]


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention of queries q over keys k and values v.

    Maths:  scores  = q @ k^T / sqrt(d)                        (..., L, S)
            scores[..., i, j] = -inf where mask[..., i, j] is False
            weights = softmax(scores) over the last axis (the keys)
            output  = weights @ v                              (..., L, dv)
    A row i where mask allows no key at all would be softmax of all -inf, which is NaN:
    such a row gets weights 0 everywhere and an output of 0.

    Shapes: q (..., L, d), k (..., S, d), v (..., S, dv), any float dtype, the same leading
    axes (or ones that broadcast); mask None or bool broadcastable to (..., L, S), True
    where query i may attend to key j.
    Returns (output (..., L, dv), weights (..., L, S)), in q's dtype and on q's device;
    each row of weights sums to 1, or is all zeros where the mask allows no key.
    """
    # TODO: compute the docstring's maths for any number of leading axes. Each query's
    #       weights form a distribution over the keys; a forbidden key gets weight exactly 0,
    #       and a query with no allowed key gets a row of zeros, never NaN.
    # BEGIN SOLUTION
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        # A row with no allowed key is all -inf, and softmax turns that into 0/0 = NaN.
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights
    # END SOLUTION


def causal_mask(L: int, S: int, device: torch.device | str | None = None) -> torch.Tensor:
    """The causal mask: query i may attend to keys 0, 1, ..., i (itself included), no later.

    Maths:  mask[i, j] = (j <= i)       (the lower triangle, diagonal included)

    Returns a bool tensor of shape (L, S) on `device` (the CPU when None). When L != S the
    triangle starts at the top left, as torch's is_causal=True does.
    """
    # TODO: build the docstring's mask directly on the requested device: True on and below
    #       the diagonal, False above it. A position always sees itself.
    # BEGIN SOLUTION
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()
    # END SOLUTION


def padding_mask(lengths: torch.Tensor, S: int) -> torch.Tensor:
    """The padding mask: in sequence b, only the first lengths[b] keys are real tokens.

    Maths:  mask[b, 0, j] = (j < lengths[b])

    Shapes: lengths (B,) int64 with 0 <= lengths[b] <= S.
    Returns a bool tensor of shape (B, 1, S) on lengths' device; the axis of size 1 lets it
    broadcast over the L query rows of (B, L, S) scores.
    """
    # TODO: build the docstring's mask for the whole batch at once: in each sequence, True
    #       at the key positions before its length. Keep it on the device of lengths, with
    #       the query axis of size 1 in the middle.
    # BEGIN SOLUTION
    positions = torch.arange(S, device=lengths.device)
    return (positions < lengths[:, None])[:, None, :]
    # END SOLUTION


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Cut the last axis into num_heads heads and move the head axis in front of the sequence.

    Maths:  out[b, h, t, c] = x[b, t, h * head_dim + c],   head_dim = E // num_heads

    So head h gets, at every position, that position's features h * head_dim up to
    (h + 1) * head_dim - 1.

    Shapes: x (B, T, E) with E divisible by num_heads.
    Returns (B, num_heads, T, head_dim).
    """
    # TODO: rearrange x as the docstring's index formula says: each head takes its own
    #       consecutive slice of every position's features, and the head axis ends up in
    #       front of the time axis. The right shape is not enough; the contents must follow.
    # BEGIN SOLUTION
    B, T, E = x.shape
    return x.reshape(B, T, num_heads, E // num_heads).transpose(1, 2)
    # END SOLUTION


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """The inverse of split_heads: put the heads side by side again along the last axis.

    Maths:  out[b, t, h * head_dim + c] = x[b, h, t, c]

    Shapes: x (B, H, T, head_dim).
    Returns (B, T, H * head_dim).
    """
    # TODO: undo split_heads exactly: every feature goes back where the docstring's index
    #       formula puts it, so that merging what split_heads made returns the original.
    # BEGIN SOLUTION
    B, H, T, head_dim = x.shape
    return x.transpose(1, 2).reshape(B, T, H * head_dim)
    # END SOLUTION


def multi_head_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    params: dict[str, torch.Tensor],
    num_heads: int,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head attention with the weights of torch's nn.MultiheadAttention(batch_first=True).

    params holds, as in nn.MultiheadAttention(E, num_heads).state_dict():
        "in_proj_weight" (3E, E): W_q, W_k, W_v stacked in that order along the first axis;
        "in_proj_bias" (3E,): b_q, b_k, b_v likewise;
        "out_proj.weight" (E, E) and "out_proj.bias" (E,).
    Maths:  Q = query @ W_q^T + b_q,  K = key @ W_k^T + b_k,  V = value @ W_v^T + b_v
            split Q, K, V into num_heads heads of head_dim = E // num_heads features;
            attend in each head (scores scaled by 1 / sqrt(head_dim)), with the same
            `mask` in every head; merge the heads, then  output = merged @ W_o^T + b_o,
            with W_o = "out_proj.weight" and b_o = "out_proj.bias".

    Shapes: query (B, L, E), key (B, S, E), value (B, S, E); mask None or bool broadcastable
    to (B, L, S) with True = may attend (e.g. causal_mask(L, S) or padding_mask(lengths, S)).
    Returns (output (B, L, E), weights (B, L, S)): the weights averaged over the heads, as
    nn.MultiheadAttention returns them by default.
    """
    # TODO: follow the docstring's maths with your own functions. Each of query, key and
    #       value gets its own block of the stacked in-projection and its own bias; the mask
    #       needs a head axis before it can broadcast over every head. Return the output
    #       with the weights averaged over the heads.
    # BEGIN SOLUTION
    w_q, w_k, w_v = params["in_proj_weight"].chunk(3)
    b_q, b_k, b_v = params["in_proj_bias"].chunk(3)
    q = split_heads(query @ w_q.T + b_q, num_heads)
    k = split_heads(key @ w_k.T + b_k, num_heads)
    v = split_heads(value @ w_v.T + b_v, num_heads)
    if mask is not None:
        mask = mask.unsqueeze(-3)  # a head axis, so that every head gets the same mask
    heads, weights = attention(q, k, v, mask)
    output = merge_heads(heads) @ params["out_proj.weight"].T + params["out_proj.bias"]
    return output, weights.mean(dim=1)
    # END SOLUTION


def positional_encoding(length: int, d_model: int) -> torch.Tensor:
    """The sinusoidal positional encoding of "Attention Is All You Need".

    Maths:  PE[pos, 2i]     = sin(pos / 10000^(2i / d_model))
            PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))
    for pos = 0, ..., length - 1 and i = 0, ..., d_model / 2 - 1.

    Column 2i and column 2i + 1 share one angle. Computed in float64, returned as float32.

    d_model is even. Returns a float32 tensor of shape (length, d_model) on the CPU.
    """
    # TODO: fill the docstring's table: one angle per position and pair of columns, its
    #       sine in the pair's even column and its cosine in the odd one. Work in float64
    #       and hand back float32.
    # BEGIN SOLUTION
    positions = torch.arange(length, dtype=torch.float64)[:, None]
    even_dims = torch.arange(0, d_model, 2, dtype=torch.float64)
    angles = positions / 10000 ** (even_dims / d_model)
    encoding = torch.zeros(length, d_model, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(angles)
    encoding[:, 1::2] = torch.cos(angles)
    return encoding.float()
    # END SOLUTION


# ------------------------------------------------------------------------------------------
# Provided: a tiny model that reverses sequences of tokens with your functions, and its
# training loop. There is nothing to write below this line.

VOCAB = 8  # tokens are 0, 1, ..., 7
LENGTH = 8  # every sequence has 8 tokens
D_MODEL = 32
NUM_HEADS = 4


class Reverser(nn.Module):
    """Embed the tokens, add positions, one multi-head self-attention layer, read out tokens.

    Position i of the output must name the token at position LENGTH - 1 - i of the input, so
    it has to look elsewhere in the sequence: without attention this cannot be learned.
    nn.MultiheadAttention only holds the weights here (in torch's layout); forward runs them
    through your multi_head_attention.
    """

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.attn = nn.MultiheadAttention(D_MODEL, NUM_HEADS, batch_first=True)
        self.readout = nn.Linear(D_MODEL, VOCAB)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) int64 -> scores (B, T, VOCAB) for the token at each output position."""
        positions = positional_encoding(tokens.shape[1], D_MODEL).to(tokens.device)
        x = self.embed(tokens) + positions
        params: dict[str, torch.Tensor] = dict(self.attn.named_parameters())
        mixed, _ = multi_head_attention(x, x, x, params, NUM_HEADS)
        return self.readout(mixed)


def reversal_batch(
    batch_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """batch_size random sequences (B, LENGTH) of tokens and their reversals, on the CPU."""
    tokens = torch.randint(0, VOCAB, (batch_size, LENGTH), generator=generator)
    return tokens, tokens.flip(1)


def train_reverser(
    seed: int,
    steps: int = 200,
    device: str = "cpu",
    *,
    log: Log | None = None,
) -> dict[str, torch.Tensor]:
    """Train a Reverser with Adam on fresh random batches; return its weights.

    Logs "loss" and "accuracy" (on the current batch) every 10 steps when `log` is given.
    Returns the state_dict as a plain dict {name: tensor} on `device`.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = Reverser().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(1, steps + 1):
        tokens, targets = (t.to(device) for t in reversal_batch(64, generator))
        scores = model(tokens)
        loss = loss_fn(scores.reshape(-1, VOCAB), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if log is not None and step % 10 == 0:
            accuracy = (scores.argmax(dim=-1) == targets).double().mean()
            log("loss", loss.item(), step)
            log("accuracy", accuracy.item(), step)
    return {name: t.detach().clone() for name, t in model.state_dict().items()}
