"""Transformer: a pre-norm transformer block, and a tiny character-level language model.

What you write, in this order (each builds on the ones before):

1. `layer_norm`: normalize every position's features to mean 0 and variance 1, then scale
   and shift them, as torch's nn.LayerNorm does;
2. `feed_forward`: the position-wise network, Linear, GELU, Linear;
3. `transformer_block`: x + attention(LN(x)), then x + FFN(LN(x)): the pre-norm block of
   torch's nn.TransformerEncoderLayer(..., norm_first=True), in its weight layout;
4. `embed`: each token's learned vector plus its position's learned vector;
5. `lm_forward`: embeddings, the blocks, a final layer norm and a linear head to the vocabulary;
6. `lm_loss`: the cross-entropy of predicting every next character.

Provided, complete: `self_attention` (multi-head self-attention, the previous exercise's
subject, built here on torch's scaled_dot_product_attention so that this exercise does not
depend on yours), `block_params`, the corpus, `init_params`, `lm_gradients`, `generate` and
`train_lm`, which trains a small model with your functions on aphorisms made up from the words
of the Zen of Python, and prints what it writes as it learns.

Rules:
- Every function takes its weights as a dict of tensors with the names of torch's modules:
  `dict(nn.TransformerEncoderLayer(...).named_parameters())` fits `transformer_block` as it is.
  The checks give your functions the weights of torch's own layers and compare the results.
- Write layer normalization yourself: nn.LayerNorm, F.layer_norm and torch's transformer
  layers would skip the exercise (the checks look for them). F.linear, F.gelu and
  F.cross_entropy are fine.
- Never modify an input in place. Results keep the inputs' dtype and device. The training run
  needs autograd through your operations: no .detach(), no torch.no_grad() in your functions.

Read lesson.md for the ideas, then run `mllab check transformer`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Params = dict[str, torch.Tensor]
Log = Callable[[str, float, int], None]


# ------------------------------------------------------------------------------------------
# Provided: multi-head self-attention. Nothing to write here.


def self_attention(x: torch.Tensor, params: Params, n_heads: int, causal: bool) -> torch.Tensor:
    """Multi-head self-attention with the weights of nn.MultiheadAttention(batch_first=True).

    params holds, as nn.TransformerEncoderLayer names them: "self_attn.in_proj_weight"
    (3E, E), "self_attn.in_proj_bias" (3E,), "self_attn.out_proj.weight" (E, E) and
    "self_attn.out_proj.bias" (E,). With causal=True, position i attends to positions 0..i
    only; with causal=False, to every position.

    Shapes: x (B, T, E) -> (B, T, E), in x's dtype and on its device.
    """
    B, T, E = x.shape
    projected = F.linear(x, params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"])
    # (B, T, 3E) -> three (B, n_heads, T, E / n_heads): one slice of the features per head.
    q, k, v = projected.view(B, T, 3, n_heads, E // n_heads).permute(2, 0, 3, 1, 4).unbind(0)
    heads = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    merged = heads.permute(0, 2, 1, 3).reshape(B, T, E)
    return F.linear(merged, params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"])


# ------------------------------------------------------------------------------------------
# What you write.


def layer_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Layer normalization over the last axis, as torch.nn.LayerNorm(D, eps=eps).

    Maths, for each position (each vector of the last axis, x_1 ... x_D):
            mu      = (1/D) sum_j x_j
            sigma^2 = (1/D) sum_j (x_j - mu)^2          (divide by D, not D - 1)
            y_j     = (x_j - mu) / sqrt(sigma^2 + eps) * weight_j + bias_j
    eps sits inside the square root: a position whose features are all equal gets y = bias,
    never a division by zero.

    Shapes: x (..., D), any float dtype; weight (D,), bias (D,).
    Returns y with x's shape, dtype and device.
    """
    # TODO: normalize each vector of the last axis as in the docstring: its own mean and
    #       its own variance, averaged over D (the biased estimate), with eps added to the
    #       variance before the root. Then scale by weight and shift by bias.
    # BEGIN SOLUTION
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance + eps) * weight + bias
    # END SOLUTION


def feed_forward(x: torch.Tensor, params: Params) -> torch.Tensor:
    """The position-wise feed-forward network of a transformer block: Linear, GELU, Linear.

    Maths, for each position x (a vector of E features):
            h = GELU(W_1 x + b_1)          W_1 = params["linear1.weight"] (H, E), b_1 (H,)
            y = W_2 h + b_2                W_2 = params["linear2.weight"] (E, H), b_2 (E,)
    GELU(z) = z * Phi(z) = 0.5 z (1 + erf(z / sqrt(2))), the exact form (F.gelu's default),
    not its tanh approximation. Weights are stored (outputs, inputs), as in nn.Linear.

    Shapes: x (..., E) -> y (..., E), in x's dtype and on its device.
    """
    # TODO: apply the two linear maps of the docstring to every position, with the GELU
    #       between them. Each map has its own bias.
    # BEGIN SOLUTION
    hidden = F.gelu(F.linear(x, params["linear1.weight"], params["linear1.bias"]))
    return F.linear(hidden, params["linear2.weight"], params["linear2.bias"])
    # END SOLUTION


def transformer_block(x: torch.Tensor, params: Params, n_heads: int, causal: bool) -> torch.Tensor:
    """One pre-norm transformer block, as nn.TransformerEncoderLayer(E, n_heads, H,
    dropout=0, activation="gelu", batch_first=True, norm_first=True).

    Maths:  a   = x + self_attention(LN_1(x))          (the attention sub-layer)
            out = a + feed_forward(LN_2(a))            (the feed-forward sub-layer)
    LN_1 is layer_norm with params "norm1.weight", "norm1.bias"; LN_2 with "norm2.weight",
    "norm2.bias"; eps = 1e-5 for both. Each sub-layer reads a normalized copy of its input and
    adds what it computes to the input itself (a residual connection): the un-normalized x
    flows from block to block. causal is passed on to self_attention.

    params holds the twelve tensors of nn.TransformerEncoderLayer's state_dict: those that
    self_attention and feed_forward use, and the two layer norms'.

    Shapes: x (B, T, E) -> (B, T, E), in x's dtype and on its device.
    """
    # TODO: build the block from the docstring's two lines with your layer_norm and
    #       feed_forward and the provided self_attention. Normalize only what goes into a
    #       sub-layer; the residual adds the sub-layer's output to its un-normalized input.
    # BEGIN SOLUTION
    attended = self_attention(layer_norm(x, params["norm1.weight"], params["norm1.bias"]),
                              params, n_heads, causal)  # fmt: skip
    a = x + attended
    normalized = layer_norm(a, params["norm2.weight"], params["norm2.bias"])
    return a + feed_forward(normalized, params)
    # END SOLUTION


def embed(params: Params, tokens: torch.Tensor) -> torch.Tensor:
    """Token embeddings plus learned position embeddings.

    Maths:  x[b, t] = E_tok[tokens[b, t]] + E_pos[t]
    with E_tok = params["token_embedding.weight"] (V, E), one row per token, and
    E_pos = params["position_embedding.weight"] (C, E), one row per position 0 ... C - 1.
    The position is where the token sits in its sequence (t), not the token's number.

    Shapes: tokens (B, T) int64 with values in 0 ... V - 1 and T <= C.
    Returns x (B, T, E) in the tables' dtype, on tokens' device.
    """
    # TODO: look up every token's row of the token table and add the row of its position
    #       from the position table: the same position row for every sequence of the batch.
    # BEGIN SOLUTION
    T = tokens.shape[1]
    return params["token_embedding.weight"][tokens] + params["position_embedding.weight"][:T]
    # END SOLUTION


def lm_forward(params: Params, tokens: torch.Tensor, n_heads: int, n_layers: int) -> torch.Tensor:
    """The language model: scores for the next token at every position.

    Maths:  x = embed(params, tokens)
            x = transformer_block(x, block_params(params, i), n_heads, causal=True)
                for i = 0, 1, ..., n_layers - 1, in order
            logits = LN(x) W^T + b
    LN is layer_norm with "norm.weight" and "norm.bias" (the final layer norm, which a pre-norm
    stack needs: its last block's output was never normalized); W = params["head.weight"]
    (V, E) and b = params["head.bias"] (V,). Every block is causal: position t's scores may
    depend on tokens 0 ... t only, so that it can be trained to predict token t + 1.

    Shapes: tokens (B, T) int64, T <= C. Returns logits (B, T, V), in the weights' dtype, on
    tokens' device.
    """
    # TODO: chain the docstring's steps with your functions: embed, every block in order
    #       (each with its own weights, all causal), the final layer norm, then the head.
    # BEGIN SOLUTION
    x = embed(params, tokens)
    for index in range(n_layers):
        x = transformer_block(x, block_params(params, index), n_heads, causal=True)
    x = layer_norm(x, params["norm.weight"], params["norm.bias"])
    return F.linear(x, params["head.weight"], params["head.bias"])
    # END SOLUTION


def lm_loss(params: Params, tokens: torch.Tensor, n_heads: int, n_layers: int) -> torch.Tensor:
    """The language-modelling loss: how well each position predicts the token after it.

    tokens (B, T + 1) holds windows of text. The model reads the first T tokens of each
    window, and its scores at position t are a guess at token t + 1:
            logits = lm_forward(params, tokens[:, :T], n_heads, n_layers)      (B, T, V)
            loss   = mean over b and t of  -log softmax(logits[b, t])[tokens[b, t + 1]]
    (the cross-entropy averaged over all B * T predictions, in nats).

    Returns a 0-d tensor in the weights' dtype, on tokens' device.
    """
    # TODO: run the model on every token of each window but the last, and score each
    #       position's guess against the token that follows it in the window. Average the
    #       cross-entropy over every prediction of the batch.
    # BEGIN SOLUTION
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    logits = lm_forward(params, inputs, n_heads, n_layers)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    # END SOLUTION


# ------------------------------------------------------------------------------------------
# Provided: the weights' layout, the corpus and the training run. Nothing to write below.

D_MODEL = 32
N_HEADS = 4
N_LAYERS = 2
FFN_SIZE = 4 * D_MODEL
CONTEXT = 32  # the longest sequence the model reads (rows of the position table)
BATCH = 16
STEPS = 200
LR = 1e-2
TRAIN_LINES = 400

# The corpus: aphorisms in the voice of the Zen of Python (`import this`), made up from its
# words. Which word ends a line depends on one far back: "Flat is better than" ends in
# "nested", and "hard to explain" leads to "bad idea", so a model must look back to predict.
PAIRS = (("Beautiful", "ugly"), ("Explicit", "implicit"), ("Simple", "complex"),
         ("Complex", "complicated"), ("Flat", "nested"), ("Sparse", "dense"),
         ("Readable", "clever"), ("Now", "never"))  # fmt: skip
BETTER = tuple(f"{good} is better than {bad}." for good, bad in PAIRS)
IDEAS = ("If the implementation is hard to explain, it's a bad idea.",
         "If the implementation is easy to explain, it may be a good idea.")  # fmt: skip
SAYINGS = ("Readability counts.", "Errors should never pass silently.")
# Every character the corpus can hold, sorted: token i is ALPHABET[i].
ALPHABET = "".join(sorted(set("\n".join(BETTER + IDEAS + SAYINGS) + "\n")))


def block_params(params: Params, index: int) -> Params:
    """The weights of block `index` of a model, under nn.TransformerEncoderLayer's own names.

    params["blocks.1.linear1.weight"] becomes block_params(params, 1)["linear1.weight"].
    """
    prefix = f"blocks.{index}."
    return {name[len(prefix) :]: t for name, t in params.items() if name.startswith(prefix)}


def aphorisms(count: int, seed: int) -> str:
    """`count` made-up aphorisms, one per line, drawn with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    lines = []
    for _ in range(count):
        kind, choice = torch.randint(0, 8, (2,), generator=generator).tolist()
        if kind < 5:
            lines.append(BETTER[choice])
        elif kind < 7:
            lines.append(IDEAS[choice % 2])
        else:
            lines.append(SAYINGS[choice % 2])
    return "\n".join(lines) + "\n"


def encode(text: str) -> torch.Tensor:
    """The characters of `text` as a 1-D int64 tensor of token numbers."""
    return torch.tensor([ALPHABET.index(c) for c in text], dtype=torch.int64)


def decode(tokens: torch.Tensor | list[int]) -> str:
    return "".join(ALPHABET[int(t)] for t in tokens)


def init_params(
    vocab_size: int,
    seed: int,
    device: torch.device | str = "cpu",
    *,
    d_model: int = D_MODEL,
    n_layers: int = N_LAYERS,
    ffn_size: int = FFN_SIZE,
    context: int = CONTEXT,
) -> Params:
    """Starting weights, float32: normal(0, 0.02) for tables and weight matrices, zeros for
    biases, ones for the layer norms' weights (GPT-2's choices, which train fast here)."""
    generator = torch.Generator().manual_seed(seed)
    shapes = {"token_embedding.weight": (vocab_size, d_model),
              "position_embedding.weight": (context, d_model)}  # fmt: skip
    for i in range(n_layers):
        block = {
            "self_attn.in_proj_weight": (3 * d_model, d_model),
            "self_attn.in_proj_bias": (3 * d_model,),
            "self_attn.out_proj.weight": (d_model, d_model),
            "self_attn.out_proj.bias": (d_model,),
            "linear1.weight": (ffn_size, d_model),
            "linear1.bias": (ffn_size,),
            "linear2.weight": (d_model, ffn_size),
            "linear2.bias": (d_model,),
            "norm1.weight": (d_model,),
            "norm1.bias": (d_model,),
            "norm2.weight": (d_model,),
            "norm2.bias": (d_model,),
        }
        shapes.update({f"blocks.{i}.{name}": shape for name, shape in block.items()})
    shapes.update({"norm.weight": (d_model,), "norm.bias": (d_model,),
                   "head.weight": (vocab_size, d_model), "head.bias": (vocab_size,)})  # fmt: skip
    params = {}
    for name, shape in shapes.items():
        if "norm" in name and name.endswith("weight"):
            value = torch.ones(shape)
        elif len(shape) == 1:
            value = torch.zeros(shape)
        else:
            value = 0.02 * torch.randn(shape, generator=generator)
        params[name] = value.to(device)
    return params


def lm_gradients(params: Params, tokens: torch.Tensor, n_heads: int, n_layers: int) -> Params:
    """The gradient of lm_loss for every weight, by autograd through your functions."""
    leaves = {name: t.detach().clone().requires_grad_(True) for name, t in params.items()}
    loss = lm_loss(leaves, tokens, n_heads, n_layers)
    grads = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
    return {
        name: torch.zeros_like(leaf) if grad is None else grad
        for (name, leaf), grad in zip(leaves.items(), grads, strict=True)
    }


@torch.no_grad()
def generate(
    params: Params, prompt: torch.Tensor, length: int, generator: torch.Generator
) -> torch.Tensor:
    """Continue the 1-D token sequence `prompt` by `length` tokens drawn from the model.

    Each new token is sampled from softmax(logits / 0.5) at the last position, the model
    reading at most the last CONTEXT tokens.
    """
    tokens = prompt
    for _ in range(length):
        logits = lm_forward(params, tokens[None, -CONTEXT:], N_HEADS, N_LAYERS)[0, -1]
        probabilities = torch.softmax(logits / 0.5, dim=-1).cpu()
        new = torch.multinomial(probabilities, 1, generator=generator).to(tokens.device)
        tokens = torch.cat([tokens, new])
    return tokens[len(prompt) :]


def train_lm(
    seed: int,
    steps: int = STEPS,
    device: str = "cpu",
    *,
    log: Log | None = None,
) -> Params:
    """Train the language model on TRAIN_LINES made-up aphorisms with Adam; return its weights.

    Every step draws BATCH random windows of CONTEXT + 1 characters of the training text.
    Logs "loss" (the batch's) every 10 steps when `log` is given, and prints a sample of what
    the model writes every 100 steps. Returns the weights as a plain dict {name: tensor}.
    """
    data = encode(aphorisms(TRAIN_LINES, seed)).to(device)
    start = init_params(len(ALPHABET), seed, device)
    params = {name: t.requires_grad_(True) for name, t in start.items()}
    optimizer = torch.optim.Adam(params.values(), lr=LR)
    windows = torch.Generator().manual_seed(seed)
    samples = torch.Generator().manual_seed(seed + 1)
    offsets = torch.arange(CONTEXT + 1)
    for step in range(1, steps + 1):
        starts = torch.randint(0, len(data) - CONTEXT, (BATCH, 1), generator=windows)
        loss = lm_loss(params, data[(starts + offsets).to(device)], N_HEADS, N_LAYERS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if log is not None and step % 10 == 0:
            log("loss", loss.item(), step)
        if step % 100 == 0 or step == steps:
            text = decode(generate(params, encode("\n").to(device), 64, samples))
            print(f"step {step:4d}  loss {loss.item():.3f}  |" + text.replace("\n", " | "))
    return {name: t.detach().clone() for name, t in params.items()}
