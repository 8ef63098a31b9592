"""Checks for the attention exercise: attention and its masks, heads, positions, a trained model."""

from __future__ import annotations

import functools
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader import kit
from grader.kit import Mistake, tensor

pytestmark = pytest.mark.exercise("attention")

F64 = torch.float64
TIGHT: dict[str, Any] = {"rtol": 1e-7, "atol": 1e-9}  # float64 all the way
SINGLE: dict[str, Any] = {"rtol": 1e-4, "atol": 1e-5}  # float32 against the float64 reference
# torch's own attention under every name it goes by; the provided Reverser may hold its
# weights in an nn.MultiheadAttention, so the rule covers the learner's functions only.
READY_MADE = kit.Shortcuts(
    "torch's own attention",
    names={f"torch.nn.{name}" for name in (
        "functional.scaled_dot_product_attention", "functional.multi_head_attention_forward",
        "functional._scaled_dot_product_attention", "MultiheadAttention",
        "modules.MultiheadAttention", "modules.activation.MultiheadAttention", "Transformer",
        "TransformerEncoderLayer", "TransformerDecoderLayer", "modules.transformer", "attention")}
    | {f"torch.ops.aten.{name}" for name in (
        "_native_multi_head_attention", "scaled_dot_product_attention",
        "_scaled_dot_product_attention_math", "_scaled_dot_product_flash_attention",
        "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention")}
    | {"torch._C._nn.scaled_dot_product_attention", "torch._native_multi_head_attention",
       "torch._C._VariableFunctions._native_multi_head_attention"},
    functions={"attention", "causal_mask", "padding_mask", "split_heads", "merge_heads",
               "multi_head_attention", "positional_encoding"},
)  # fmt: skip
MASK_RULE = "mask is True where a query may attend (torch's scaled_dot_product_attention rule)"
NAN_ROWS = (
    "the weights are NaN in the rows where the mask allows no key: softmax of a row of -inf is "
    "0/0. Such a row must come out as zeros, in the weights and in the output"
)
# Known mistakes in the weights: (hint, how _weights rebuilds the mistake). Without a mask, the
# mask's mistakes rebuild the right weights, which never count as a mistake.
ATTENTION_MISTAKES: list[tuple[str, dict[str, Any]]] = [
    ("the scores are not scaled: q @ k^T is divided by sqrt(d), d the last size of q",
     {"power": 0.0}),
    ("the scores are divided by d; divide them by sqrt(d)", {"power": 1.0}),
    ("the softmax runs over the queries (dim=-2); each query's weights over the keys must sum "
     "to 1", {"dim": -2}),
    (f"the mask is inverted: {MASK_RULE}, so the scores where it is False become -inf",
     {"invert": True}),
    ("masked scores are set to 0, but softmax still gives them weight exp(0) = 1; a forbidden "
     "key needs a score of -inf", {"fill": 0.0}),
]  # fmt: skip
# The same in multi-head attention, as _heads_weights rebuilds them; attention's own mistakes
# are attention's to fix.
MHA_MISTAKES: list[tuple[str, dict[str, Any]]] = [
    ("the heads are split by reshaping (B, T, E) straight to (B, H, T, head_dim), which mixes "
     "positions; each head takes its own slice of every position's features, as split_heads "
     "does", {"mix": True}),
    ("the scores are divided by sqrt(E); in each head they are divided by sqrt(head_dim) = "
     "sqrt(E / num_heads), the size of the vectors being multiplied", {"by_model": True}),
] + [(f"{what}; make attention pass its own checks", how) for what, how in (
    ("the scores are not divided by sqrt(head_dim)", {"power": 0.0}),
    ("the scores are divided by head_dim, not by its square root", {"power": 1.0}),
    ("the softmax runs over the queries", {"dim": -2}),
    (f"the mask is inverted: {MASK_RULE}", {"invert": True}),
    ("masked scores are set to 0, which softmax still weighs", {"fill": 0.0}),
)]  # fmt: skip

# The provided Reverser of the learner's file, rebuilt here to judge the weights it returns.
VOCAB, LENGTH, D_MODEL, NUM_HEADS = 8, 8, 32, 4
TRAIN_STEPS = 200  # the reference reaches 100% held-out accuracy well before this
TRAIN_TIMEOUT = 60.0  # seconds in the worker; the reference needs about one
HELD_OUT = 1000
ACCURACY = 0.9


# ------------------------------------------------------------------------------ trusted maths


def _randn(rng: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=rng, dtype=F64)


def _qkv(rng: torch.Generator, q_shape: tuple[int, ...], S: int, dv: int) -> tuple:
    """q of q_shape (..., L, d), times 2; then k (..., S, d) and v (..., S, dv)."""
    *batch, _, d = q_shape
    return _randn(rng, *q_shape, scale=2.0), _randn(rng, *batch, S, d), _randn(rng, *batch, S, dv)


def _weights(q, k, mask=None, *, power=0.5, d=None, dim=-1, fill=-math.inf, invert=False):
    """softmax(q k^T / d ** power) with masked scores set to `fill`; rows of NaN become zeros.

    The defaults (d the last size of q) give the right weights; the others rebuild mistakes.
    """
    scores = q @ k.transpose(-2, -1) / (d or q.shape[-1]) ** power
    if mask is not None:
        scores = scores.masked_fill(mask if invert else ~mask, fill)
    return torch.nan_to_num(torch.softmax(scores, dim=dim), nan=0.0)


def _sdpa(q, k, v, mask=None, *, is_causal=False) -> torch.Tensor:
    """torch's scaled_dot_product_attention, with rows that may attend nowhere set to zero."""
    output = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal)
    if mask is None:
        return output
    # Depending on version and back end torch gives NaN or zeros there; the exercise says zeros.
    return torch.where(mask.any(dim=-1, keepdim=True), output, 0.0)


def _random_mask(rng: torch.Generator, *shape: int) -> torch.Tensor:
    """A random bool mask in which every row allows at least one key."""
    mask = torch.rand(*shape, generator=rng) < 0.6
    keep = torch.randint(0, shape[-1], shape[:-1], generator=rng)
    return mask | F.one_hot(keep, shape[-1]).bool()


def _causal(L: int, S: int) -> torch.Tensor:
    return torch.ones(L, S, dtype=torch.bool).tril()


def _sinusoids(length: int, d_model: int, *, swap: bool = False) -> torch.Tensor:
    """The sinusoidal positional encoding in float64 (swap=True puts cos on the even dims)."""
    frequencies = 10000 ** (torch.arange(0, d_model, 2, dtype=F64) / d_model)
    angles = torch.arange(length, dtype=F64)[:, None] / frequencies
    first, second = (torch.cos, torch.sin) if swap else (torch.sin, torch.cos)
    return torch.stack([first(angles), second(angles)], dim=-1).reshape(length, d_model)


# ---------------------------------------------------------------------------- diagnostics


def _weights_hint(got, table, rebuild, want, default: str, tol=TIGHT) -> str:
    """The hint of the mistake of `table`, (hint, settings) rebuilt by `rebuild(**settings)`,
    that the weights reproduce; NaN rows count as the zeros they should be."""
    mistakes = [Mistake(hint, functools.partial(rebuild, **how)) for hint, how in table]
    if type(got) is torch.Tensor and got.is_floating_point():
        got = torch.nan_to_num(got.detach().cpu().to(F64), nan=0.0)
    return kit.likely_mistake(got, mistakes, default=default, expected=want, **tol)


def _check_attention(
    submission, device, qkv: tuple, mask, hint: str, dtype=F64, is_causal: bool = False
) -> None:
    """The learner's attention on `device`, with q, k, v rounded to `dtype`, against the float64
    reference on the values sent (torch's with is_causal=True instead of the mask if asked):
    weights, then output; the call must leave its inputs unchanged and answer in q's dtype."""
    q, k, v = (t.to(dtype) for t in qkv)
    case = f"q {kit.fmt_shape(q.shape)}, k {kit.fmt_shape(k.shape)}, v {kit.fmt_shape(v.shape)}"
    case += f", mask {kit.fmt_shape(mask.shape)}" if mask is not None else ", no mask"
    case += ", float32" if dtype == torch.float32 else ""
    args = [t.to(device) for t in (q, k, v)] + ([mask.to(device)] if mask is not None else [])
    q, k, v = (t.to(F64) for t in (q, k, v))  # the reference works on the values sent
    want, tol = _weights(q, k, mask), TIGHT if dtype == F64 else SINGLE
    want_output = _sdpa(q, k, v, None if is_causal else mask, is_causal=is_causal)
    result = kit.call_unchanged(submission, "attention", *args, names=("q", "k", "v", "mask"))
    output, weights = kit.unpack(
        result, "attention", context=case,
        output=tensor(want_output.shape, dtype, device), weights=tensor(want.shape, dtype, device),
    )  # fmt: skip
    # NaN exactly in the rows where the mask allows no key: the 0/0 of a softmax over -inf.
    nan = torch.isnan(weights.detach().cpu())
    empty = None if mask is None else (~mask.any(dim=-1, keepdim=True)).expand_as(nan)
    hint = NAN_ROWS if empty is not None and nan.any() and torch.equal(nan, empty) else hint
    rebuild = functools.partial(_weights, q, k, mask)
    hint = _weights_hint(weights, ATTENTION_MISTAKES, rebuild, want, hint, tol)
    kit.expect_close(weights, want, name=f"attention's weights ({case})", dtype=dtype,
                     hint=hint, **tol)  # fmt: skip
    name = f"attention's output ({case}), compared with torch's scaled_dot_product_attention"
    kit.expect_close(output, want_output, name=name, hint="the output is weights @ v",
                     dtype=dtype, **tol)  # fmt: skip


def _check_random(submission, device, rng, cases, hint: str, dtype=F64) -> None:
    """attention on random q, k, v (dv = 3) and random masks: cases of (q shape, S, mask shape)."""
    for q_shape, S, mask_shape in cases:
        qkv = _qkv(rng, q_shape, S, 3)
        mask = None if mask_shape is None else _random_mask(rng, *mask_shape)
        _check_attention(submission, device, qkv, mask, hint, dtype)


# ------------------------------------------------------------------------- attention checks


@pytest.mark.points(2)
def test_attention_matches_torch(submission, device, rng):
    """attention matches torch's scaled_dot_product_attention without a mask"""
    rule = "weights = softmax(q @ k^T / sqrt(d)) over the last axis (the keys)"
    # (batch axes, L, S, d, dv): L != S and d != dv, so a transpose shows.
    for batch, L, S, d, dv in (((), 4, 6, 3, 5), ((2,), 5, 3, 8, 2), ((2, 3), 4, 7, 6, 4),
                               ((3,), 1, 5, 4, 4)):  # fmt: skip
        _check_attention(submission, device, _qkv(rng, (*batch, L, d), S, dv), None, rule)


@pytest.mark.points(2)
def test_attention_mask(submission, device, rng):
    """attention with a boolean mask (True = may attend) matches torch's attn_mask"""
    # (q shape, S, mask shape): masks broadcast over leading axes they lack.
    _check_random(submission, device, rng,
                  (((2, 5, 4), 6, (2, 5, 6)), ((2, 3, 4, 3), 6, (4, 6)), ((3, 4, 5), 7, (3, 1, 7))),
                  f"{MASK_RULE}: a key the mask forbids gets the score -inf before the softmax, "
                  "so its weight is exactly 0")  # fmt: skip


def test_attention_float32(submission, device, rng):
    """attention works in float32, the dtype models train in, and answers in float32"""
    _check_random(submission, device, rng,
                  (((2, 5, 4), 6, None), ((2, 3, 4, 8), 6, (4, 6)), ((3, 4, 5), 7, (3, 1, 7))),
                  "the same maths in the inputs' dtype: build every tensor and constant in q's "
                  "dtype and on q's device (a -inf score, a zero row), and return float32 for "
                  "float32 inputs", dtype=torch.float32)  # fmt: skip


def test_fully_masked_rows(submission, device, rng):
    """a query row whose mask allows no key gets zero weights and a zero output, not NaN"""
    qkv, mask = _qkv(rng, (2, 5, 4), 6, 3), _random_mask(rng, 2, 5, 6)
    mask[0, 1] = mask[0, 3] = mask[1, 4] = False
    _check_attention(submission, device, qkv, mask, "rows [0, 1], [0, 3] and [1, 4] allow no "
                     "key: their weights and their outputs are all zeros; the other rows are as "
                     "usual")  # fmt: skip


@pytest.mark.points(2)
def test_causal_mask(submission, device, rng):
    """causal_mask(L, S) is the lower triangle, and attention with it matches is_causal=True"""
    for L, S in ((1, 1), (5, 5), (3, 6), (6, 3)):
        want = _causal(L, S)
        got = submission.causal_mask(L, S, str(device))
        hint = kit.likely_mistake(got.to(F64) if type(got) is torch.Tensor else got, [
            Mistake("the diagonal is missing: a position may attend to itself (j <= i)",
                    want.tril(-1).to(F64)),
            Mistake(f"the mask is inverted: {MASK_RULE}, so the allowed keys j <= i are True",
                    (~want).to(F64)),
            Mistake("that is the upper triangle: a query looks back (j <= i), never ahead",
                    torch.ones(L, S, dtype=F64).triu()),
        ], default="mask[i, j] is True exactly when j <= i: the lower triangle, diagonal "
           "included", expected=want.to(F64))  # fmt: skip
        kit.assert_equal(got, want, name=f"causal_mask({L}, {S})", dtype=torch.bool,
                         device=device, hint=hint)  # fmt: skip
    rule = "with the causal mask, query i's weights on keys j > i must be 0"
    for L, S in ((6, 6), (4, 7)):
        qkv = _qkv(rng, (2, L, 4), S, 3)
        _check_attention(submission, device, qkv, _causal(L, S), rule, is_causal=True)


def test_padding_mask(submission, device, rng):
    """padding_mask(lengths, S) marks the first lengths[b] keys of sequence b, shape (B, 1, S)"""
    for B, S in ((4, 6), (3, 1)):
        lengths = torch.randint(0, S + 1, (B,), generator=rng)
        lengths[0], lengths[-1] = S, 0
        kit.assert_equal(
            submission.padding_mask(lengths.to(device), S),
            (torch.arange(S) < lengths[:, None])[:, None, :],
            name=f"padding_mask(lengths={lengths.tolist()}, S={S})", dtype=torch.bool,
            device=device, hint="mask[b, 0, j] is True exactly when j < lengths[b]; the middle "
            "axis, of size 1, is the query axis",
        )  # fmt: skip


# ------------------------------------------------------------------------------ multi-head


def test_split_merge_heads(submission, device, rng):
    """split_heads cuts the last axis into heads in front of the sequence; merge_heads undoes it"""
    B, T, E, H = 2, 5, 12, 3
    x = _randn(rng, B, T, E)
    split = x.reshape(B, T, H, E // H).transpose(1, 2)
    mixes = "which mixes positions: each head must hold its own slice of every position"
    kit.expect_close(
        submission.split_heads(x.to(device), H), split, name="split_heads(x (2, 5, 12), 3)",
        hint="out[b, h, t, c] = x[b, t, h * head_dim + c]: the shape alone is not enough",
        mistakes=[Mistake(f"x was reshaped straight to (B, H, T, head_dim), {mixes}",
                          x.reshape(B, H, T, E // H))], dtype=F64, device=device,
    )  # fmt: skip
    kit.expect_close(
        submission.merge_heads(split.to(device)), x, name="merge_heads(x (2, 3, 5, 4))",
        hint="out[b, t, h * head_dim + c] = x[b, h, t, c]: merging what split_heads made gives "
        "back the original",
        mistakes=[Mistake(f"x was reshaped to (B, T, E) with the head axis still in front, "
                          f"{mixes}", split.reshape(B, T, E))], dtype=F64, device=device,
    )  # fmt: skip


def _module(E: int, H: int, rng: torch.Generator) -> nn.MultiheadAttention:
    """nn.MultiheadAttention in float64 with random weights and biases (torch sets biases to 0)."""
    with torch.random.fork_rng():
        module = nn.MultiheadAttention(E, H, batch_first=True, dtype=F64)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=rng, dtype=F64) / math.sqrt(E))
        module.in_proj_bias.mul_(math.sqrt(E) / 2)
        module.out_proj.bias.mul_(math.sqrt(E) / 2)
    return module.eval()


def _heads_weights(params, query, key, H: int, mask, *, mix=False, by_model=False, **how):
    """Head-averaged weights of a multi-head attention built in a known wrong way."""
    E = query.shape[-1]
    w_q, w_k, _ = params["in_proj_weight"].chunk(3)
    b_q, b_k, _ = params["in_proj_bias"].chunk(3)

    def split(x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.reshape(B, H, T, E // H) if mix else x.reshape(B, T, H, E // H).transpose(1, 2)

    q, k = split(query @ w_q.T + b_q), split(key @ w_k.T + b_k)
    mask = None if mask is None else mask.unsqueeze(-3)
    return _weights(q, k, mask, d=E if by_model else None, **how).mean(dim=1)


def _check_mha(submission, device, module, H: int, tensors, *, case: str, hint: str,
               mask=None, torch_masks=None) -> None:  # fmt: skip
    """The learner's multi_head_attention against module(query, key, value, **torch_masks)."""
    query, key, value = tensors
    params = {name: t.detach() for name, t in module.state_dict().items()}
    with torch.no_grad():
        want_output, want_weights = module(query, key, value, **(torch_masks or {}))
    args: list[Any] = [t.to(device) for t in tensors]
    args += [{name: t.to(device) for name, t in params.items()}, H]
    args += [mask.to(device)] if mask is not None else []
    names = ("query", "key", "value", "params", None, "mask")
    result = kit.call_unchanged(submission, "multi_head_attention", *args, names=names)
    kinds: dict[str, Any] = {"output": tensor(query.shape, F64, device), "weights": kit.anything}
    output, weights = kit.unpack(result, "multi_head_attention", context=case, **kinds)
    if type(weights) is torch.Tensor and weights.dim() == 4:
        hint = "these look like one set of weights per head: average them over the heads"
    else:
        rebuild = functools.partial(_heads_weights, params, query, key, H, mask)
        hint = _weights_hint(weights, MHA_MISTAKES, rebuild, want_weights, hint)
    kit.expect_close(weights, want_weights, name=f"multi_head_attention's head-averaged weights "
                     f"({case})", hint=hint, dtype=F64, device=device, **TIGHT)  # fmt: skip
    kit.expect_close(
        output, want_output, name=f"multi_head_attention's output ({case}), compared with "
        "nn.MultiheadAttention", hint="the heads merged back to (B, L, E), then the output "
        "projection: output = merged @ W_o^T + b_o (if merge_heads fails its own check, fix "
        "that first)",
        mistakes=[Mistake("out_proj.bias is missing: output = merged @ W_o^T + b_o",
                          want_output - params["out_proj.bias"])], **TIGHT,
    )  # fmt: skip


@pytest.mark.points(3)
def test_multi_head_attention(submission, device, rng):
    """multi_head_attention matches nn.MultiheadAttention given the same weights"""
    hint = (
        "in_proj_weight stacks W_q, W_k, W_v (each (E, E)) in that order, and in_proj_bias "
        "b_q, b_k, b_v: project query, key and value with their own block and bias, split "
        "the heads, attend, then average the weights over the heads"
    )
    module, x = _module(12, 3, rng), _randn(rng, 2, 5, 12)
    _check_mha(submission, device, module, 3, (x, x, x), case="self-attention, E=12, 3 heads",
               hint=hint)  # fmt: skip
    module = _module(8, 4, rng)
    tensors = (_randn(rng, 3, 4, 8), _randn(rng, 3, 6, 8), _randn(rng, 3, 6, 8))
    _check_mha(submission, device, module, 4, tensors,
               case="query (3, 4, 8), key and value (3, 6, 8), 4 heads", hint=hint)  # fmt: skip


@pytest.mark.points(2)
def test_multi_head_masks(submission, device, rng):
    """multi_head_attention with padding and causal masks matches nn.MultiheadAttention"""
    # nn.MultiheadAttention's bool masks (key_padding_mask and attn_mask) say True = ignore,
    # the opposite of the exercise's rule, so the masks given to torch are the negations.
    hint = f"{MASK_RULE}; the same mask applies in every head, so it needs a head axis to "
    module = _module(8, 2, rng)
    lengths = torch.tensor([6, 3, 1])
    query, memory = _randn(rng, 3, 4, 8), _randn(rng, 3, 6, 8)
    keep = (torch.arange(6) < lengths[:, None])[:, None, :]
    _check_mha(submission, device, module, 2, (query, memory, memory), mask=keep,
               torch_masks={"key_padding_mask": ~keep[:, 0, :]},
               case=f"padding mask (3, 1, 6) for lengths {lengths.tolist()}",
               hint=hint + "broadcast over the (B, H, L, S) scores")  # fmt: skip
    lengths = torch.tensor([6, 4])
    x = _randn(rng, 2, 6, 8)
    padded = torch.arange(6) >= lengths[:, None]
    _check_mha(submission, device, module, 2, (x, x, x), mask=_causal(6, 6) & ~padded[:, None, :],
               torch_masks={"attn_mask": ~_causal(6, 6), "key_padding_mask": padded},
               case=f"causal and padding mask (2, 6, 6) for lengths {lengths.tolist()}",
               hint=hint + "broadcast over the heads")  # fmt: skip
    # The docstring's 2-D form: causal_mask(L, S) itself, (L, S), shared by the whole batch.
    tensors = (_randn(rng, 3, 5, 8), _randn(rng, 3, 7, 8), _randn(rng, 3, 7, 8))
    _check_mha(submission, device, module, 2, tensors, mask=_causal(5, 7),
               torch_masks={"attn_mask": ~_causal(5, 7)},
               case="causal mask (5, 7) for the whole batch, query (3, 5, 8), key (3, 7, 8)",
               hint=hint + "broadcast over the batch and the heads: put the head axis just "
               "before the last two axes (unsqueeze(-3)), whatever the mask's number of "
               "axes")  # fmt: skip


# ------------------------------------------------------------------------------- positions


def test_positional_encoding(submission):
    """positional_encoding puts sin on even and cos on odd dimensions, with 10000^(2i/d)"""
    for length, d_model in ((8, 32), (50, 16), (1, 4), (7, 6)):
        kit.expect_close(
            submission.positional_encoding(length, d_model), _sinusoids(length, d_model),
            name=f"positional_encoding({length}, {d_model})", dtype=torch.float32, rtol=1e-5,
            atol=1e-5, hint="PE[pos, 2i] = sin(pos / 10000^(2i/d)) and PE[pos, 2i+1] = cos(the "
            "same angle): both columns of a pair share one frequency",
            mistakes=[Mistake("sin and cos are swapped: sin goes in the even columns",
                              _sinusoids(length, d_model, swap=True))],
        )  # fmt: skip


@pytest.mark.needs_passing(
    "attention_matches_torch", "attention_mask", "attention_float32", "fully_masked_rows",
    "causal_mask", "multi_head_attention", "multi_head_masks",
)  # fmt: skip
def test_written_by_hand(submission, exercise, source_tree):
    """attention and multi-head attention are yours: no scaled_dot_product_attention,
    multi_head_attention_forward or nn.MultiheadAttention in your functions"""
    advice = "Write the scores, the mask, the softmax and the heads with tensor operations: "
    advice += "torch's own attention is what the checks compare your results with"
    kit.expect_no_shortcuts(source_tree, exercise.path, READY_MADE, advice=advice)


# -------------------------------------------------------------------------------- training


class _TrustedReverser(nn.Module):
    """The provided Reverser with torch's own attention and the trusted encoding."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.attn = nn.MultiheadAttention(D_MODEL, NUM_HEADS, batch_first=True)
        self.readout = nn.Linear(D_MODEL, VOCAB)

    def mixed(self, tokens: torch.Tensor, **options: Any) -> tuple[torch.Tensor, Any]:
        x = self.embed(tokens) + _sinusoids(tokens.shape[1], D_MODEL).float().to(tokens.device)
        return self.attn(x, x, x, **options)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.readout(self.mixed(tokens, need_weights=False)[0])


def _show_attention(metrics, model: _TrustedReverser, seed: int, caption: str) -> None:
    """Draw the attention weights of one sequence (mean over heads) as a heat map: a picture."""
    shown = torch.randperm(VOCAB, generator=torch.Generator().manual_seed(seed))[:LENGTH]
    with torch.no_grad():
        _, weights = model.mixed(shown[None].to(model.readout.weight.device), need_weights=True,
                                 average_attn_weights=True)  # fmt: skip
    labels = [str(t) for t in shown.tolist()]
    panel = {"title": "rows: outputs (target) · cols: inputs", "values": weights[0],
             "xlabels": labels, "ylabels": labels[::-1]}  # fmt: skip
    metrics.figure("attention weights", "heatmap", {"panels": [panel], "caption": caption})


@pytest.mark.points(2)
def test_learns_to_reverse(submission, device, metrics, seed):
    """a small model built on your functions learns to reverse sequences of 8 tokens"""
    with torch.random.fork_rng():
        model = _TrustedReverser().to(device).eval()
        torch.manual_seed(seed % 1000)  # the weights train_reverser starts from
        _show_attention(metrics, _TrustedReverser().to(device), seed, "before training")
    state = submission.call_logged("train_reverser", seed % 1000, TRAIN_STEPS, str(device),
                                   log=metrics.emit, timeout=TRAIN_TIMEOUT)  # fmt: skip
    model.load_state_dict(kit.expect_weights(
        state, model.state_dict(), what="train_reverser's result", device=device,
        restore="restore the provided Reverser and train_reverser",
    ))  # fmt: skip
    _show_attention(metrics, model, seed, f"after {TRAIN_STEPS} steps")
    held_out = torch.Generator().manual_seed(seed % 1000 + 1000)  # not the training stream
    tokens = torch.randint(0, VOCAB, (HELD_OUT, LENGTH), generator=held_out).to(device)
    with torch.no_grad():
        predicted = model(tokens).argmax(dim=-1)
    accuracy = float((predicted == tokens.flip(1)).double().mean())
    metrics.emit("held-out accuracy", accuracy, TRAIN_STEPS)
    if accuracy < ACCURACY:
        raise kit.CheckFailure(
            f"after {TRAIN_STEPS} training steps the model reverses {accuracy:.1%} of the tokens "
            f"of {HELD_OUT} new sequences correctly, expected at least {ACCURACY:.0%} (chance is "
            f"{1 / VOCAB:.1%}). This is measured here with the weights train_reverser returned, "
            "loaded into the same model run by torch's own attention and the sinusoidal "
            "encoding: weights trained through a wrong attention, head split or encoding do not "
            "work with the right ones. Make the other checks pass first"
        )
