"""Checks for the attention exercise: attention and its masks, heads, positions, a trained model."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.codec import type_name
from grader.compare import assert_close, assert_equal, expect_tensor, expect_weights
from grader.errors import CheckFailure

pytestmark = pytest.mark.exercise("attention")

F64 = torch.float64
TIGHT: dict[str, Any] = {"rtol": 1e-7, "atol": 1e-9}  # float64 all the way
MASK_RULE = "mask is True where a query may attend (torch's scaled_dot_product_attention rule)"

# The provided Reverser of the learner's file, rebuilt here to judge the weights it returns.
VOCAB, LENGTH, D_MODEL, NUM_HEADS = 8, 8, 32, 4
TRAIN_STEPS = 200  # the reference reaches 100% held-out accuracy well before this
TRAIN_TIMEOUT = 60.0  # seconds in the worker; the reference needs about one
HELD_OUT = 1000
ACCURACY = 0.9


# ------------------------------------------------------------------------------ trusted maths


def _randn(rng: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=rng, dtype=F64)


def _weights(
    q: torch.Tensor,
    k: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    scale: float | None = None,
    dim: int = -1,
    fill: float = float("-inf"),
) -> torch.Tensor:
    """softmax(q k^T * scale) with masked scores set to `fill`; rows of NaN become zeros.

    The defaults give the right weights; the other settings rebuild known mistakes.
    """
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    if mask is not None:
        scores = scores.masked_fill(~mask, fill)
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
    angles = torch.arange(length, dtype=F64)[:, None] / 10000 ** (
        torch.arange(0, d_model, 2, dtype=F64) / d_model
    )
    first, second = (torch.cos, torch.sin) if swap else (torch.sin, torch.cos)
    return torch.stack([first(angles), second(angles)], dim=-1).reshape(length, d_model)


# ---------------------------------------------------------------------------- diagnostics


Mistake = tuple[Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor | None], str]

ATTENTION_MISTAKES: list[Mistake] = [
    (
        lambda q, k, m: _weights(q, k, m, scale=1.0),
        "the scores are not scaled: divide q @ k^T by math.sqrt(d), d = q.shape[-1]",
    ),
    (
        lambda q, k, m: _weights(q, k, m, scale=1 / q.shape[-1]),
        "the scores are divided by d; divide them by math.sqrt(d)",
    ),
    (
        lambda q, k, m: _weights(q, k, m, dim=-2),
        "the softmax runs over the queries (dim=-2); each query's weights over the keys "
        "must sum to 1, so use torch.softmax(scores, dim=-1)",
    ),
    (
        lambda q, k, m: None if m is None else _weights(q, k, ~m),
        f"the mask is inverted: {MASK_RULE}, so set the scores to -inf where it is False "
        "(scores.masked_fill(~mask, float('-inf')))",
    ),
    (
        lambda q, k, m: None if m is None else _weights(q, k, m, fill=0.0),
        "masked scores are set to 0, but softmax still gives them weight exp(0) = 1; "
        "set them to float('-inf')",
    ),
]


def _diagnose(got: Any, q: torch.Tensor, k: torch.Tensor, mask: Any, mistakes: list[Mistake]):
    """The hint of the first known mistake that reproduces the learner's weights, or ''."""
    if type(got) is not torch.Tensor or not got.is_floating_point():
        return ""
    got = torch.nan_to_num(got.detach().cpu().to(F64), nan=0.0)
    for rebuild, hint in mistakes:
        candidate = rebuild(q, k, mask)
        if candidate is not None and candidate.shape == got.shape:
            if torch.allclose(got, candidate, rtol=1e-6, atol=1e-9):
                return hint
    return ""


def _pair(result: Any, call: str) -> tuple[Any, Any]:
    if type(result) is not tuple or len(result) != 2:
        shown = f"a tuple of {len(result)}" if type(result) is tuple else type_name(result)
        raise CheckFailure(f"{call} should return a tuple (output, weights), got {shown}")
    return result


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _check_attention(
    submission,
    device: torch.device,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    want_output: torch.Tensor,
    hint: str,
) -> None:
    """Call the learner's attention on `device` and compare weights, then output, in float64."""
    case = f"q {_shape(q)}, k {_shape(k)}, v {_shape(v)}"
    case += f", mask {_shape(mask)}" if mask is not None else ", no mask"
    args = [t.to(device) for t in (q, k, v)] + ([mask.to(device)] if mask is not None else [])
    output, weights = _pair(submission.attention(*args), f"attention({case})")
    want_weights = _weights(q, k, mask)
    common: dict[str, Any] = {"dtype": F64, "device": device, **TIGHT}
    expect_tensor(output, name=f"attention's output ({case})", shape=want_output.shape)
    expect_tensor(weights, name=f"attention's weights ({case})", shape=want_weights.shape)
    found = _diagnose(weights, q, k, mask, ATTENTION_MISTAKES)
    assert_close(
        weights, want_weights, name=f"attention's weights ({case})", hint=found or hint, **common
    )
    assert_close(
        output,
        want_output,
        name=f"attention's output ({case}), compared with torch's scaled_dot_product_attention",
        hint="the output is weights @ v",
        **common,
    )


# ------------------------------------------------------------------------- attention checks


@pytest.mark.points(2)
def test_attention_matches_torch(submission, device, rng):
    """attention matches torch's scaled_dot_product_attention without a mask"""
    shapes = [  # (batch axes, L, S, d, dv): L != S and d != dv, so a transpose shows
        ((), 4, 6, 3, 5),
        ((2,), 5, 3, 8, 2),
        ((2, 3), 4, 7, 6, 4),
        ((3,), 1, 5, 4, 4),
    ]
    for batch, L, S, d, dv in shapes:
        q = _randn(rng, *batch, L, d, scale=2.0)
        k = _randn(rng, *batch, S, d)
        v = _randn(rng, *batch, S, dv)
        _check_attention(
            submission,
            device,
            q,
            k,
            v,
            None,
            _sdpa(q, k, v),
            "weights = softmax(q @ k^T / sqrt(d)) over the last axis (the keys)",
        )


@pytest.mark.points(2)
def test_attention_mask(submission, device, rng):
    """attention with a boolean mask (True = may attend) matches torch's attn_mask"""
    cases = [  # (q shape, S, mask shape): masks broadcast over leading axes they lack
        ((2, 5, 4), 6, (2, 5, 6)),
        ((2, 3, 4, 3), 6, (4, 6)),
        ((3, 4, 5), 7, (3, 1, 7)),
    ]
    for q_shape, S, mask_shape in cases:
        q = _randn(rng, *q_shape, scale=2.0)
        k = _randn(rng, *q_shape[:-2], S, q_shape[-1])
        v = _randn(rng, *q_shape[:-2], S, 3)
        mask = _random_mask(rng, *mask_shape)
        _check_attention(
            submission,
            device,
            q,
            k,
            v,
            mask,
            _sdpa(q, k, v, mask),
            f"{MASK_RULE}: before the softmax, set the scores where the mask is False to "
            "float('-inf'), so those keys get weight exactly 0",
        )


def test_fully_masked_rows(submission, device, rng):
    """a query row whose mask allows no key gets zero weights and a zero output, not NaN"""
    q, k, v = _randn(rng, 2, 5, 4, scale=2.0), _randn(rng, 2, 6, 4), _randn(rng, 2, 6, 3)
    mask = _random_mask(rng, 2, 5, 6)
    mask[0, 1] = False
    mask[0, 3] = False
    mask[1, 4] = False
    _check_attention(
        submission,
        device,
        q,
        k,
        v,
        mask,
        _sdpa(q, k, v, mask),
        "rows [0, 1], [0, 3] and [1, 4] allow no key: softmax of a row of -inf is 0/0 = NaN. "
        "Set such rows of the weights to 0 after the softmax, e.g. "
        "weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0); the other rows are as usual",
    )


@pytest.mark.points(2)
def test_causal_mask(submission, device, rng):
    """causal_mask(L, S) is the lower triangle, and attention with it matches is_causal=True"""
    for L, S in ((1, 1), (5, 5), (3, 6), (6, 3)):
        want = _causal(L, S)
        got = submission.causal_mask(L, S, str(device))
        hint = "mask[i, j] is True when j <= i: torch.ones(L, S, dtype=torch.bool).tril()"
        if type(got) is torch.Tensor and got.shape == want.shape and got.dtype == torch.bool:
            got_cpu = got.cpu()
            if torch.equal(got_cpu, want.tril(-1)):
                hint = "the diagonal is missing: a position may attend to itself (j <= i)"
            elif torch.equal(got_cpu, ~want):
                hint = f"the mask is inverted: {MASK_RULE}, so the allowed keys j <= i are True"
            elif torch.equal(got_cpu, torch.ones(L, S, dtype=torch.bool).triu()):
                hint = "that is the upper triangle: a query looks back (j <= i), never ahead"
        assert_equal(
            got,
            want,
            name=f"causal_mask({L}, {S})",
            dtype=torch.bool,
            device=device,
            hint=hint,
        )
    for L, S in ((6, 6), (4, 7)):
        q, k, v = _randn(rng, 2, L, 4, scale=2.0), _randn(rng, 2, S, 4), _randn(rng, 2, S, 3)
        _check_attention(
            submission,
            device,
            q,
            k,
            v,
            _causal(L, S),
            _sdpa(q, k, v, is_causal=True),
            "with the causal mask, query i's weights on keys j > i must be 0",
        )


def test_padding_mask(submission, device, rng):
    """padding_mask(lengths, S) marks the first lengths[b] keys of sequence b, shape (B, 1, S)"""
    for B, S in ((4, 6), (3, 1)):
        lengths = torch.randint(0, S + 1, (B,), generator=rng)
        lengths[0], lengths[-1] = S, 0
        want = (torch.arange(S) < lengths[:, None])[:, None, :]
        assert_equal(
            submission.padding_mask(lengths.to(device), S),
            want,
            name=f"padding_mask(lengths={lengths.tolist()}, S={S})",
            dtype=torch.bool,
            device=device,
            hint="mask[b, 0, j] = j < lengths[b]: torch.arange(S) < lengths[:, None], then "
            "[:, None, :] for the query axis",
        )


# ------------------------------------------------------------------------------ multi-head


def test_split_merge_heads(submission, device, rng):
    """split_heads cuts the last axis into heads in front of the sequence; merge_heads undoes it"""
    B, T, E, H = 2, 5, 12, 3
    x = _randn(rng, B, T, E)
    split = x.reshape(B, T, H, E // H).transpose(1, 2)
    got = submission.split_heads(x.to(device), H)
    hint = "out[b, h, t, c] = x[b, t, h * head_dim + c]: reshape to (B, T, H, head_dim), then swap"
    if type(got) is torch.Tensor and got.shape == split.shape:
        if torch.equal(got.cpu().to(F64), x.reshape(B, H, T, E // H)):
            hint = (
                "reshaping straight to (B, H, T, head_dim) mixes positions: each 'head' gets "
                "pieces of several positions. Reshape to (B, T, H, head_dim), then .transpose(1, 2)"
            )
    assert_close(
        got, split, name="split_heads(x (2, 5, 12), 3)", dtype=F64, device=device, hint=hint
    )
    assert_close(
        submission.merge_heads(split.to(device)),
        x,
        name="merge_heads(x (2, 3, 5, 4))",
        dtype=F64,
        device=device,
        hint="the inverse of split_heads: .transpose(1, 2), then reshape to (B, T, H * head_dim)",
    )


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


def _heads_weights(
    params: dict[str, torch.Tensor],
    query: torch.Tensor,
    key: torch.Tensor,
    H: int,
    mask: torch.Tensor | None,
    *,
    mix: bool = False,
    scale_by: str = "head",
    dim: int = -1,
    invert: bool = False,
) -> torch.Tensor:
    """Head-averaged weights of a multi-head attention built in a known wrong way."""
    E = query.shape[-1]
    w_q, w_k, _ = params["in_proj_weight"].chunk(3)
    b_q, b_k, _ = params["in_proj_bias"].chunk(3)

    def split(x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        if mix:
            return x.reshape(B, H, T, E // H)
        return x.reshape(B, T, H, E // H).transpose(1, 2)

    q, k = split(query @ w_q.T + b_q), split(key @ w_k.T + b_k)
    scale = {"head": 1 / math.sqrt(E // H), "model": 1 / math.sqrt(E), "none": 1.0}[scale_by]
    if mask is not None:
        mask = (~mask if invert else mask).unsqueeze(-3)
    return _weights(q, k, mask, scale=scale, dim=dim).mean(dim=1)


def _mha_mistakes(params: dict[str, torch.Tensor], H: int) -> list[Mistake]:
    def rebuild(**how: Any) -> Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor | None]:
        return lambda q, k, m: _heads_weights(params, q, k, H, m, **how)

    return [
        (
            rebuild(mix=True),
            "the heads are split by reshaping (B, T, E) straight to (B, H, T, head_dim), which "
            "mixes positions; use split_heads: reshape to (B, T, H, head_dim), then transpose",
        ),
        (
            rebuild(scale_by="model"),
            "the scores are divided by sqrt(E); in each head they are divided by "
            "sqrt(head_dim) = sqrt(E / num_heads), the size of the vectors being multiplied",
        ),
        (
            rebuild(scale_by="none"),
            "the scores are not divided by sqrt(head_dim); make attention pass its own checks",
        ),
        (
            rebuild(dim=-2),
            "the softmax runs over the queries; make attention pass its own checks",
        ),
        (
            lambda q, k, m: None if m is None else _heads_weights(params, q, k, H, m, invert=True),
            f"the mask is inverted: {MASK_RULE}; make attention pass its own checks",
        ),
    ]


def _check_mha(
    submission,
    device: torch.device,
    module: nn.MultiheadAttention,
    H: int,
    tensors: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    mask: torch.Tensor | None = None,
    torch_masks: dict[str, torch.Tensor] | None = None,
    case: str,
    hint: str,
) -> None:
    """The learner's multi_head_attention against module(query, key, value, **torch_masks)."""
    query, key, value = tensors
    params = {name: t.detach() for name, t in module.state_dict().items()}
    with torch.no_grad():
        want_output, want_weights = module(query, key, value, **(torch_masks or {}))
    args: list[Any] = [t.to(device) for t in tensors]
    args += [{name: t.to(device) for name, t in params.items()}, H]
    args += [mask.to(device)] if mask is not None else []
    output, weights = _pair(
        submission.multi_head_attention(*args), f"multi_head_attention ({case})"
    )
    common: dict[str, Any] = {"dtype": F64, "device": device, **TIGHT}
    expect_tensor(output, name=f"multi_head_attention's output ({case})", shape=query.shape)
    found = _diagnose(weights, query, key, mask, _mha_mistakes(params, H))
    if type(weights) is torch.Tensor and weights.dim() == 4:
        found = "return the weights averaged over the heads, weights.mean(dim=1): (B, L, S)"
    assert_close(
        weights,
        want_weights,
        name=f"multi_head_attention's head-averaged weights ({case})",
        hint=found or hint,
        **common,
    )
    assert_close(
        output,
        want_output,
        name=f"multi_head_attention's output ({case}), compared with nn.MultiheadAttention",
        hint=found
        or "merge the heads back to (B, L, E) with merge_heads, then apply out_proj: "
        "@ params['out_proj.weight'].T + params['out_proj.bias']",
        **common,
    )


@pytest.mark.points(3)
def test_multi_head_attention(submission, device, rng):
    """multi_head_attention matches nn.MultiheadAttention given the same weights"""
    hint = (
        "in_proj_weight stacks W_q, W_k, W_v (each (E, E)) in that order, and in_proj_bias "
        "b_q, b_k, b_v: project query, key and value with their own block and bias, split "
        "the heads, attend, then average the weights over the heads"
    )
    module = _module(12, 3, rng)
    x = _randn(rng, 2, 5, 12)
    _check_mha(
        submission, device, module, 3, (x, x, x), case="self-attention, E=12, 3 heads", hint=hint
    )
    module = _module(8, 4, rng)
    query, key, value = _randn(rng, 3, 4, 8), _randn(rng, 3, 6, 8), _randn(rng, 3, 6, 8)
    _check_mha(
        submission,
        device,
        module,
        4,
        (query, key, value),
        case="query (3, 4, 8), key and value (3, 6, 8), 4 heads",
        hint=hint,
    )


@pytest.mark.points(2)
def test_multi_head_masks(submission, device, rng):
    """multi_head_attention with padding and causal masks matches nn.MultiheadAttention"""
    # nn.MultiheadAttention's bool masks (key_padding_mask and attn_mask) say True = ignore,
    # the opposite of the exercise's rule, so the masks given to torch are the negations.
    module = _module(8, 2, rng)
    lengths = torch.tensor([6, 3, 1])
    query, memory = _randn(rng, 3, 4, 8), _randn(rng, 3, 6, 8)
    keep = (torch.arange(6) < lengths[:, None])[:, None, :]
    _check_mha(
        submission,
        device,
        module,
        2,
        (query, memory, memory),
        mask=keep,
        torch_masks={"key_padding_mask": ~keep[:, 0, :]},
        case=f"padding mask (3, 1, 6) for lengths {lengths.tolist()}",
        hint=f"{MASK_RULE}; give the mask a head axis (mask.unsqueeze(-3)) so that it "
        "broadcasts over (B, H, L, S) and every head uses it",
    )
    lengths = torch.tensor([6, 4])
    x = _randn(rng, 2, 6, 8)
    padded = torch.arange(6) >= lengths[:, None]
    keep = _causal(6, 6) & ~padded[:, None, :]
    _check_mha(
        submission,
        device,
        module,
        2,
        (x, x, x),
        mask=keep,
        torch_masks={"attn_mask": ~_causal(6, 6), "key_padding_mask": padded},
        case=f"causal and padding mask (2, 6, 6) for lengths {lengths.tolist()}",
        hint=f"{MASK_RULE}; the same mask applies in every head (mask.unsqueeze(-3))",
    )


# ------------------------------------------------------------------------------- positions


def test_positional_encoding(submission):
    """positional_encoding puts sin on even and cos on odd dimensions, with 10000^(2i/d)"""
    for length, d_model in ((8, 32), (50, 16), (1, 4), (7, 6)):
        got = submission.positional_encoding(length, d_model)
        hint = (
            "PE[pos, 2i] = sin(pos / 10000^(2i/d)) and PE[pos, 2i+1] = cos(the same angle): "
            "both columns of a pair share one frequency"
        )
        if type(got) is torch.Tensor and got.shape == (length, d_model) and length > 1:
            if torch.allclose(got.cpu().to(F64), _sinusoids(length, d_model, swap=True), atol=1e-5):
                hint = "sin and cos are swapped: sin goes in the even columns (0::2)"
        assert_close(
            got,
            _sinusoids(length, d_model),
            name=f"positional_encoding({length}, {d_model})",
            dtype=torch.float32,
            rtol=1e-5,
            atol=1e-5,
            hint=hint,
        )


# -------------------------------------------------------------------------------- training


class _TrustedReverser(nn.Module):
    """The provided Reverser with torch's own attention and the trusted encoding."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.attn = nn.MultiheadAttention(D_MODEL, NUM_HEADS, batch_first=True)
        self.readout = nn.Linear(D_MODEL, VOCAB)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = _sinusoids(tokens.shape[1], D_MODEL).float().to(tokens.device)
        x = self.embed(tokens) + positions
        mixed, _ = self.attn(x, x, x, need_weights=False)
        return self.readout(mixed)


def _expect_state(value: Any, like: dict[str, torch.Tensor], device: torch.device) -> dict:
    return expect_weights(
        value,
        like,
        what="train_reverser's result",
        device=device,
        restore="restore the provided Reverser and train_reverser",
    )


def _show_attention(metrics, model: _TrustedReverser, seed: int, caption: str) -> None:
    """Draw the attention weights of one sequence (mean over heads) as a heat map: a picture."""
    shown = torch.randperm(VOCAB, generator=torch.Generator().manual_seed(seed))[:LENGTH]
    tokens = shown[None].to(model.readout.weight.device)
    with torch.no_grad():
        x = model.embed(tokens) + _sinusoids(LENGTH, D_MODEL).float().to(tokens.device)
        _, weights = model.attn(x, x, x, need_weights=True, average_attn_weights=True)
    panel = {
        "title": "rows: outputs (target) · cols: inputs",
        "values": weights[0],
        "xlabels": [str(t) for t in shown.tolist()],
        "ylabels": [str(t) for t in shown.flip(0).tolist()],
    }
    metrics.figure("attention weights", "heatmap", {"panels": [panel], "caption": caption})


@pytest.mark.points(2)
def test_learns_to_reverse(submission, device, metrics, seed):
    """a small model built on your functions learns to reverse sequences of 8 tokens"""
    with torch.random.fork_rng():
        model = _TrustedReverser().to(device).eval()
        torch.manual_seed(seed % 1000)  # the weights train_reverser starts from
        _show_attention(metrics, _TrustedReverser().to(device), seed, "before training")
    state = submission.call_logged(
        "train_reverser",
        seed % 1000,
        TRAIN_STEPS,
        str(device),
        log=metrics.emit,
        timeout=TRAIN_TIMEOUT,
    )
    model.load_state_dict(_expect_state(state, model.state_dict(), device))
    _show_attention(metrics, model, seed, f"after {TRAIN_STEPS} steps")
    held_out = torch.Generator().manual_seed(seed % 1000 + 1000)  # not the training stream
    tokens = torch.randint(0, VOCAB, (HELD_OUT, LENGTH), generator=held_out).to(device)
    with torch.no_grad():
        predicted = model(tokens).argmax(dim=-1)
    accuracy = float((predicted == tokens.flip(1)).double().mean())
    metrics.emit("held-out accuracy", accuracy, TRAIN_STEPS)
    if accuracy < ACCURACY:
        raise CheckFailure(
            f"after {TRAIN_STEPS} training steps the model reverses {accuracy:.1%} of the tokens "
            f"of {HELD_OUT} new sequences correctly, expected at least {ACCURACY:.0%} (chance is "
            f"{1 / VOCAB:.1%}). This is measured here with the weights train_reverser returned, "
            "loaded into the same model run by torch's own attention and the sinusoidal "
            "encoding: weights trained through a wrong attention, head split or encoding do not "
            "work with the right ones. Make the other checks pass first"
        )
