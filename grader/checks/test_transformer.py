"""Checks for the transformer exercise: layer norm, the pre-norm block, a tiny language model."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.compare import assert_close, expect_tensor, expect_weights, fmt_number
from grader.errors import CheckFailure
from grader.kit import (
    Mistake,
    Shortcuts,
    call_unchanged,
    expect_close,
    expect_no_shortcuts,
    fmt_dtype,
    likely_mistake,
    matches,
)

pytestmark = pytest.mark.exercise("transformer")

F64 = torch.float64
TIGHT: dict[str, Any] = {"rtol": 1e-7, "atol": 1e-9}  # float64 all the way
Params = dict[str, torch.Tensor]

LN_RULE = (
    "y = (x - mean) / sqrt(var + eps) * weight + bias, with the mean and the variance of each "
    "vector of the last axis, the variance averaged over D (not D - 1)"
)
BLOCK_RULE = (
    "a = x + self_attention(LN_1(x)), then out = a + feed_forward(LN_2(a)): each sub-layer reads "
    "a normalized copy of its input and adds its result to the input itself"
)
OWN_PARTS = (
    ", compared with the right {what} built from your own {parts}, which do not pass their own "
    "checks yet: fix those too; this check judges how {function} puts them together"
)

# The provided model of the learner's file, rebuilt here to judge the weights train_lm returns.
D_MODEL, N_HEADS, N_LAYERS, FFN_SIZE, CONTEXT = 32, 4, 2, 128, 32
TRAIN_STEPS = 200
TRAIN_TIMEOUT = 120.0  # seconds in the worker; the reference needs two or three
HELD_OUT_LINES = 60
HELD_OUT_SEED = 1_000_003  # far from the training seeds (seed % 1000)
# Over 28 seeds the reference reaches 0.29 to 0.40 nats per character on the held-out lines
# after 200 steps; trained without the mask, without residuals or post-norm (4 seeds each),
# 1.7 to 4.8; with the positions left out, 0.53 to 0.77 (which embed's check catches anyway).
# A bigram model, which sees only the current character, gets 1.6.
LOSS_BOUND = 0.5

# The corpus of the learner's file (provided there), written out again: aphorisms made up from
# the words of the Zen of Python.
PAIRS = (("Beautiful", "ugly"), ("Explicit", "implicit"), ("Simple", "complex"),
         ("Complex", "complicated"), ("Flat", "nested"), ("Sparse", "dense"),
         ("Readable", "clever"), ("Now", "never"))  # fmt: skip
LINES = (
    tuple(f"{good} is better than {bad}." for good, bad in PAIRS),
    ("If the implementation is hard to explain, it's a bad idea.",
     "If the implementation is easy to explain, it may be a good idea."),
    ("Readability counts.", "Errors should never pass silently."),
)  # fmt: skip
ALPHABET = "".join(sorted(set("\n".join(line for kind in LINES for line in kind) + "\n")))


# ------------------------------------------------------------------------------ trusted maths


def _randn(rng: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=rng, dtype=F64)


def _encoder_layer(E: int, H: int, FF: int, dtype: torch.dtype, norm_first: bool = True) -> Any:
    with torch.random.fork_rng():  # torch's initial weights must not move the global seed
        return nn.TransformerEncoderLayer(
            E, H, FF, dropout=0.0, activation="gelu", batch_first=True, norm_first=norm_first,
            dtype=dtype,
        )  # fmt: skip


def _randomize(module: nn.Module, rng: torch.Generator) -> None:
    """Every weight random and far from torch's initial values (norm weights near 1, biases
    and norm biases of size 0.3), so that a forgotten one shows."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            if "norm" in name and name.endswith("weight"):
                param.copy_(1 + _randn(rng, *param.shape, scale=0.3))
            elif name.endswith("bias"):
                param.copy_(_randn(rng, *param.shape, scale=0.3))
            elif "embedding" in name:
                param.copy_(_randn(rng, *param.shape))
            else:
                param.copy_(_randn(rng, *param.shape) / math.sqrt(param.shape[1]))


def _layer(E: int, H: int, FF: int, rng: torch.Generator) -> Any:
    """nn.TransformerEncoderLayer(norm_first=True) in float64 with random weights, eval mode."""
    layer = _encoder_layer(E, H, FF, F64)
    _randomize(layer, rng)
    return layer.eval()


def _weights_of(module: nn.Module) -> Params:
    return {name: t.detach().clone() for name, t in module.state_dict().items()}


def _square_mask(T: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """nn.MultiheadAttention's bool attn_mask for causal attention: True where it may NOT look."""
    return torch.ones(T, T, dtype=torch.bool, device=device).triu(1)


def _run_layer(layer: Any, x: torch.Tensor, causal: bool) -> torch.Tensor:
    with torch.no_grad():
        if not causal:
            return layer(x)
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], dtype=x.dtype)
        return layer(x, src_mask=mask, is_causal=True)


def _post_norm(layer: Any, x: torch.Tensor, causal: bool) -> torch.Tensor:
    """The same weights in a post-norm layer (norm_first=False): LN(x + sublayer(x))."""
    twin = _encoder_layer(x.shape[-1], layer.self_attn.num_heads, layer.linear1.out_features,
                          F64, norm_first=False)  # fmt: skip
    twin.load_state_dict(layer.state_dict())
    return _run_layer(twin.eval(), x, causal)


def _block(layer: Any, x: torch.Tensor, causal: bool, *, residual: str) -> torch.Tensor:
    """The pre-norm block from the layer's own parts with a known mistake in its skips:
    residual="none" (no skip connections) or "normalized" (the skip adds the normalized input).
    """
    mask = _square_mask(x.shape[1]) if causal else None
    with torch.no_grad():
        h = layer.norm1(x)
        attended = layer.self_attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        a = attended + (h if residual == "normalized" else 0)
        h = layer.norm2(a)
        return layer.linear2(F.gelu(layer.linear1(h))) + (h if residual == "normalized" else 0)


class _TrustedLM(nn.Module):
    """The learner file's language model with torch's own layers, weights under the same names."""

    def __init__(self, V: int, E: int, H: int, L: int, FF: int, C: int, dtype=torch.float32):
        super().__init__()
        with torch.random.fork_rng():
            self.token_embedding = nn.Embedding(V, E, dtype=dtype)
            self.position_embedding = nn.Embedding(C, E, dtype=dtype)
            self.blocks = nn.ModuleList(_encoder_layer(E, H, FF, dtype) for _ in range(L))
            self.norm = nn.LayerNorm(E, dtype=dtype)
            self.head = nn.Linear(E, V, dtype=dtype)
        self.eval()

    def hidden(self, tokens: torch.Tensor, *, positions: bool = True, causal: bool = True):
        """The input of the final layer norm."""
        x = self.token_embedding(tokens)
        if positions:
            x = x + self.position_embedding.weight[: tokens.shape[1]]
        mask = _square_mask(tokens.shape[1], tokens.device) if causal else None
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=causal)
        return x

    def forward(self, tokens: torch.Tensor, **how: bool) -> torch.Tensor:
        return self.head(self.norm(self.hidden(tokens, **how)))

    def first_block_only(self, tokens: torch.Tensor) -> torch.Tensor:
        """The logits with every block run on block 0's weights: a mistake in the loop."""
        x = self.token_embedding(tokens) + self.position_embedding.weight[: tokens.shape[1]]
        mask = _square_mask(tokens.shape[1], tokens.device)
        for _ in self.blocks:
            x = self.blocks[0](x, src_mask=mask, is_causal=True)
        return self.head(self.norm(x))


def _random_lm(rng: torch.Generator, V: int = 13, C: int = 10) -> _TrustedLM:
    """A float64 model (E=16, 4 heads, 2 blocks) with every weight random and far from init."""
    model = _TrustedLM(V, 16, 4, 2, 32, C, dtype=F64)
    _randomize(model, rng)
    return model


def _next_token_loss(logits: torch.Tensor, targets: torch.Tensor, reduction="mean"):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           reduction=reduction)  # fmt: skip


def _on(params: Params, device: torch.device) -> Params:
    return {name: t.to(device) for name, t in params.items()}


# ------------------------------------------------------------ composites, from the learner's parts
# A composite (the block, the model, the loss) is judged with the learner's own parts, so that
# one mistake costs its points once: where the parts reproduce torch's results, the composite is
# compared with torch; where they do not, with what the learner's parts give when put together
# the right way (and the parts' own checks say what is wrong with them).


def _sent(value: Any, device: torch.device) -> Any:
    if type(value) is torch.Tensor:
        return value.to(device)
    return _on(value, device) if type(value) is dict else value


def _own(submission: Any, device: torch.device, function: str, *args: Any) -> Any:
    """The learner's `function` on `args` as a float64 CPU tensor; None where it gives none."""
    try:
        got = getattr(submission, function)(*(_sent(a, device) for a in args))
    except Exception:  # that function's own check says what goes wrong
        return None
    if type(got) is not torch.Tensor or not got.is_floating_point():
        return None
    return got.detach().cpu().to(F64)


def _block_from_parts(submission, device, layer, x: torch.Tensor, H: int, causal: bool):
    """The right block around the learner's layer_norm and feed_forward (None if they fail)."""
    p = _weights_of(layer)
    h = _own(submission, device, "layer_norm", x, p["norm1.weight"], p["norm1.bias"])
    if h is None or h.shape != x.shape:
        return None
    mask = _square_mask(x.shape[1]) if causal else None
    with torch.no_grad():
        a = x + layer.self_attn(h, h, h, attn_mask=mask, need_weights=False)[0]
    h = _own(submission, device, "layer_norm", a, p["norm2.weight"], p["norm2.bias"])
    if h is None or h.shape != x.shape:
        return None
    f = _own(submission, device, "feed_forward", h, p)
    return None if f is None or f.shape != x.shape else a + f


def _lm_from_parts(submission, device, model: _TrustedLM, tokens: torch.Tensor):
    """The right model around the learner's embed, transformer_block and layer_norm."""
    params = _weights_of(model)
    x = _own(submission, device, "embed", params, tokens)
    for index in range(len(model.blocks)):
        if x is None:
            return None
        block = _weights_of(model.blocks[index])
        x = _own(submission, device, "transformer_block", x, block, 4, True)
    if x is None:
        return None
    x = _own(submission, device, "layer_norm", x, params["norm.weight"], params["norm.bias"])
    if x is None or x.shape[-1] != model.head.in_features:
        return None
    with torch.no_grad():
        return model.head(x)


def _judge(got: Any, want: torch.Tensor, own: Callable[[], Any]) -> tuple[torch.Tensor, bool]:
    """(the value `got` is compared with, whether that is torch's): torch's result `want` when
    `got` matches it or the learner's parts reproduce it, else the parts' composite `own()`."""
    if matches(got, want, **TIGHT):
        return want, True
    composite = own()
    if composite is None or composite.shape != want.shape or matches(composite, want, **TIGHT):
        return want, True
    return composite, False


# ------------------------------------------------------------------------------ layer norm


def _layer_norm_mistakes(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float):
    centred = x - x.mean(dim=-1, keepdim=True)
    biased = (centred**2).mean(dim=-1, keepdim=True)
    unbiased = x.var(dim=-1, keepdim=True)
    return [
        Mistake("the variance is divided by D - 1 (torch.var's default, unbiased=True); "
                "layer norm divides by D (unbiased=False, or the mean of the squares)",
                centred / torch.sqrt(unbiased + eps) * weight + bias),
        Mistake("eps is missing: a position whose features are all equal divides 0 by 0. "
                "Add eps to the variance, inside the square root",
                centred / torch.sqrt(biased) * weight + bias),
        Mistake("eps is added after the square root; it belongs inside: sqrt(var + eps)",
                centred / (torch.sqrt(biased) + eps) * weight + bias),
        Mistake("the result is normalized but not scaled and shifted: multiply by weight, "
                "then add bias", centred / torch.sqrt(biased + eps)),
    ]  # fmt: skip


@pytest.mark.points(2)
def test_layer_norm(submission, device, rng):
    """layer_norm matches nn.LayerNorm: per-position mean and biased variance, eps inside"""
    cases = [(torch.Size([4, 6]), 1e-5, F64), (torch.Size([2, 3, 8]), 1e-3, F64),
             (torch.Size([5, 7]), 1e-5, torch.float32)]  # fmt: skip
    for shape, eps, dtype in cases:
        D = shape[-1]
        x = _randn(rng, *shape, scale=2.0) + _randn(rng, *shape[:-1], 1)
        # A position whose features are all equal (variance 0) and one with a spread of 1e-3,
        # whose variance 1e-6 is smaller than eps: both show where eps goes. The second sits
        # near 0: around a larger mean, float32 itself (torch's layer norm too) misses the
        # float32 tolerance on about 1 seed in 200, its mean being off by a rounding error.
        x.view(-1, D)[0] = 1.5
        x.view(-1, D)[1] = 0.02 + 1e-3 * _randn(rng, D)
        module = nn.LayerNorm(D, eps=eps, dtype=F64)
        with torch.no_grad():
            module.weight.copy_(1 + _randn(rng, D, scale=0.5))
            module.bias.copy_(_randn(rng, D, scale=0.5))
            want = module(x)
        weight, bias = module.weight.detach(), module.bias.detach()
        case = f"x {tuple(shape)} {fmt_dtype(dtype)}, eps={eps:g}"
        args = (x.to(device, dtype), weight.to(device, dtype), bias.to(device, dtype), eps)
        got = call_unchanged(submission, "layer_norm", *args, names=("x", "weight", "bias"))
        mistakes = _layer_norm_mistakes(x, weight, bias, eps)
        tolerance = TIGHT if dtype == F64 else {"rtol": 1e-4, "atol": 1e-5}
        expect_close(got, want, name=f"layer_norm ({case})", hint=LN_RULE, mistakes=mistakes,
                     dtype=dtype, device=device, **tolerance)  # fmt: skip


# ---------------------------------------------------------------------------- feed-forward


def test_feed_forward(submission, device, rng):
    """feed_forward is linear1, exact GELU, linear2, with nn.TransformerEncoderLayer's weights"""
    layer = _layer(12, 3, 20, rng)
    x = _randn(rng, 2, 5, 12, scale=1.5)
    params = _weights_of(layer)
    got = call_unchanged(submission, "feed_forward", x.to(device), _on(params, device),
                         names=("x", "params"))  # fmt: skip
    w1, b1, w2, b2 = (params[k] for k in ("linear1.weight", "linear1.bias", "linear2.weight",
                                          "linear2.bias"))  # fmt: skip
    z = x @ w1.T + b1
    mistakes = [
        Mistake("this is ReLU between the two maps; the block uses GELU, z * Phi(z)",
                torch.relu(z) @ w2.T + b2),
        Mistake("this is GELU's tanh approximation; use the exact form, "
                "0.5 z (1 + erf(z / sqrt(2))) (F.gelu's default)",
                F.gelu(z, approximate="tanh") @ w2.T + b2),
        Mistake("there is no activation between the two linear maps: apply GELU to the first "
                "map's output", z @ w2.T + b2),
        Mistake("a bias is missing: both linear maps add their own bias",
                F.gelu(x @ w1.T) @ w2.T + b2),
        Mistake("a bias is missing: both linear maps add their own bias", F.gelu(z) @ w2.T),
    ]  # fmt: skip
    rule = "y = linear2(GELU(linear1(x))), each map x @ W.T + b with W stored (outputs, inputs)"
    expect_close(got, F.gelu(z) @ w2.T + b2, name="feed_forward(x (2, 5, 12))", hint=rule,
                 mistakes=mistakes, dtype=F64, device=device, **TIGHT)  # fmt: skip


# ------------------------------------------------------------------------------------ block


def _check_block(submission, device, layer, x: torch.Tensor, H: int, causal: bool, got=None):
    """The learner's transformer_block against nn.TransformerEncoderLayer, in float64."""
    case = f"x {tuple(x.shape)}, {H} heads, causal={causal}"
    if got is None:
        got = call_unchanged(submission, "transformer_block", x.to(device),
                             _on(_weights_of(layer), device), H, causal,
                             names=("x", "params"))  # fmt: skip
    want = _run_layer(layer, x, causal)
    mistakes = [
        Mistake("this is the post-norm block (the original transformer's, norm_first=False): "
                "LN(x + sublayer(x)). Here the norm comes first, inside the branch: "
                "x + sublayer(LN(x))", lambda: _post_norm(layer, x, causal)),
        Mistake("there are no residual connections: add each sub-layer's output to the "
                "sub-layer's input (x + ..., then a + ...)",
                lambda: _block(layer, x, causal, residual="none")),
        Mistake("the residual adds the normalized input: add the sub-layer's output to the "
                "un-normalized x (and then to a), so the raw signal flows on",
                lambda: _block(layer, x, causal, residual="normalized")),
        Mistake("the attention is causal although causal=False: pass causal on to "
                "self_attention as it is" if not causal else
                "the attention ignores causal=True: pass causal on to self_attention",
                lambda: _run_layer(layer, x, not causal)),
    ]  # fmt: skip
    want, exact = _judge(got, want, lambda: _block_from_parts(submission, device, layer, x, H,
                                                              causal))  # fmt: skip
    name = f"transformer_block ({case})" + (
        ", compared with nn.TransformerEncoderLayer(norm_first=True)" if exact else
        OWN_PARTS.format(what="block", parts="layer_norm and feed_forward",
                         function="transformer_block"))  # fmt: skip
    hint = likely_mistake(got, mistakes, default=BLOCK_RULE) if exact else BLOCK_RULE
    assert_close(got, want, name=name, hint=hint, dtype=F64, device=device, **TIGHT)


@pytest.mark.points(3)
def test_transformer_block(submission, device, rng):
    """transformer_block matches nn.TransformerEncoderLayer(norm_first=True) given its weights"""
    for E, H, FF, B, T in ((16, 4, 40, 3, 7), (12, 3, 24, 2, 5)):
        layer = _layer(E, H, FF, rng)
        _check_block(submission, device, layer, _randn(rng, B, T, E, scale=1.5), H, False)


def _leaks(outputs: torch.Tensor, T: int) -> tuple[int, int, float] | None:
    """(changed position t, earlier position s, size) of the first leak from the future, or None.

    outputs[0] is for the original input, outputs[t + 1] for the input with position t changed.
    """
    base = outputs[0]
    for t in range(1, T):
        difference = (outputs[t + 1, :t] - base[:t]).abs().flatten(start_dim=1).amax(dim=1)
        moved = difference > 1e-9 * (1 + base[:t].abs().flatten(start_dim=1).amax(dim=1))
        if bool(moved.any()):
            s = int(moved.nonzero()[0])
            return t, s, float(difference[s])
    return None


@pytest.mark.points(2)
@pytest.mark.needs_passing("transformer_block")
def test_causal(submission, device, rng):
    """with causal=True, changing a later position never changes an earlier output"""
    E, H, FF, T = 16, 4, 40, 7
    layer = _layer(E, H, FF, rng)
    # Row 0 is x; row t + 1 is x with only position t replaced: one call tests every position.
    batch = _randn(rng, 1, T, E, scale=1.5).repeat(T + 1, 1, 1)
    for t in range(T):
        batch[t + 1, t] = _randn(rng, E, scale=1.5)
    got = call_unchanged(submission, "transformer_block", batch.to(device),
                         _on(_weights_of(layer), device), H, True,
                         names=("x", "params"))  # fmt: skip
    expect_tensor(got, name="transformer_block (causal=True)", shape=batch.shape, device=device)
    leak = _leaks(got.detach().cpu().to(F64), T)
    if leak is not None:
        t, s, size = leak
        ignored = matches(got, _run_layer(layer, batch, False), **TIGHT)
        raise CheckFailure(
            f"transformer_block with causal=True: changing only the input at position {t} "
            f"changed the output at position {s} (by up to {fmt_number(size)}), an earlier "
            "position, which must not see it. "
            + ("The attention ignores causal: pass it on to self_attention" if ignored else
               "Position i's output may depend on positions 0 ... i only")
        )  # fmt: skip
    # Where the block is right without the mask (its own check), it must be torch's with it too;
    # where it is not, that check says so and this one judges only the mask.
    unmasked = submission.transformer_block(batch.to(device), _on(_weights_of(layer), device), H,
                                            False)  # fmt: skip
    if matches(unmasked, _run_layer(layer, batch, False), **TIGHT):
        _check_block(submission, device, layer, batch, H, True, got=got)


# ------------------------------------------------------------------------------ the model


@pytest.mark.points(1)
def test_embed(submission, device, rng):
    """embed adds each token's row and its position's row of the two learned tables"""
    V, C, E = 7, 9, 8  # V < C: the mistake of picking position rows by token shows
    params = {"token_embedding.weight": _randn(rng, V, E),
              "position_embedding.weight": _randn(rng, C, E)}  # fmt: skip
    tok, pos = params["token_embedding.weight"], params["position_embedding.weight"]
    for B, T in ((3, 6), (2, C)):
        tokens = torch.randint(0, V, (B, T), generator=rng)
        tokens[:, 1] = tokens[:, 0]  # a repeated token, at two positions
        mistakes = [
            Mistake("the positions are not added: x[b, t] = E_tok[tokens[b, t]] + E_pos[t]",
                    tok[tokens]),
            Mistake("the position rows are picked by token number; pick them by position t, "
                    "the same rows 0 ... T - 1 for every sequence", tok[tokens] + pos[tokens]),
        ]  # fmt: skip
        got = call_unchanged(submission, "embed", _on(params, device), tokens.to(device),
                             names=("params", "tokens"))  # fmt: skip
        expect_close(got, tok[tokens] + pos[:T], name=f"embed(tokens ({B}, {T}))",
                     hint="x[b, t] = E_tok[tokens[b, t]] + E_pos[t]", mistakes=mistakes,
                     dtype=F64, device=device, **TIGHT)  # fmt: skip


@pytest.mark.points(2)
def test_lm_forward(submission, device, rng):
    """lm_forward: embeddings, causal blocks, final layer norm and head, as torch computes them"""
    model = _random_lm(rng)
    # Row 0 is a sequence; row t + 1 the same with only token t changed: the logits of row t + 1
    # before position t must be row 0's (causality), and all of them torch's.
    tokens = torch.randint(0, 13, (1, 8), generator=rng).repeat(9, 1)
    for t in range(8):
        tokens[t + 1, t] = (tokens[0, t] + 1 + t) % 13
    got = call_unchanged(submission, "lm_forward", _on(_weights_of(model), device),
                         tokens.to(device), 4, 2, names=("params", "tokens"))  # fmt: skip
    expect_tensor(got, name="lm_forward(tokens (9, 8))", shape=(9, 8, 13), device=device)
    composite = functools.cache(lambda: _lm_from_parts(submission, device, model, tokens))
    leak = _leaks(got.detach().cpu().to(F64), 8)
    # A leak that the learner's own blocks make is transformer_block's (test_causal's) mistake.
    if leak is not None and not matches(got, composite(), **TIGHT):
        t, s, size = leak
        raise CheckFailure(
            f"lm_forward: changing only the token at position {t} changed the logits at "
            f"position {s} (by up to {fmt_number(size)}), an earlier position, which must not "
            "see it. Every block of the model is causal: call transformer_block with causal=True"
        )
    with torch.no_grad():
        want = model(tokens)
        no_final_norm = model.head(model.hidden(tokens))
        first_block_only = model.first_block_only(tokens)
    want, exact = _judge(got, want, composite)
    name = "lm_forward(tokens (9, 8)), 2 blocks of 4 heads" + (
        "" if exact else OWN_PARTS.format(what="model", parts="embed, transformer_block and "
                                          "layer_norm", function="lm_forward"))  # fmt: skip
    rule = ("x = embed(params, tokens); then every block i in order, with block_params(params, i) "
            "and causal=True; then layer_norm with 'norm.weight' and 'norm.bias'; then the head, "
            "x @ W.T + b")  # fmt: skip
    mistakes = [
        Mistake("the final layer norm is missing: apply layer_norm with 'norm.weight' and "
                "'norm.bias' before the head", no_final_norm),
        Mistake("every block runs with block 0's weights: block i takes block_params(params, i)",
                first_block_only),
    ] if exact else []  # fmt: skip
    expect_close(got, want, name=name, hint=rule, mistakes=mistakes, dtype=F64, device=device,
                 **TIGHT)  # fmt: skip


def test_lm_loss(submission, device, rng):
    """lm_loss is the mean cross-entropy of each position's guess at the token after it"""
    model = _random_lm(rng)
    tokens = torch.randint(0, 13, (3, 9), generator=rng)
    params = _weights_of(model)
    got = call_unchanged(submission, "lm_loss", _on(params, device), tokens.to(device), 4, 2,
                         names=("params", "tokens"))  # fmt: skip
    expect_tensor(got, name="lm_loss(tokens (3, 9))", shape=(), dtype=F64, device=device)
    with torch.no_grad():
        logits = model(tokens[:, :-1])
    own_logits = functools.cache(
        lambda: _own(submission, device, "lm_forward", params, tokens[:, :-1], 4, 2)
    )
    want, exact = _judge(got, _next_token_loss(logits, tokens[:, 1:]),
                         lambda: _loss_from(own_logits(), tokens))  # fmt: skip
    if not exact:  # judged with the learner's own logits, which lm_forward's check judges
        logits = own_logits()
    mistakes = [
        Mistake("each position is scored against its own token, not the next one: the target "
                "of position t is tokens[:, t + 1]", _next_token_loss(logits, tokens[:, :-1])),
        Mistake("the cross-entropy is summed; average it over all B * T predictions",
                _next_token_loss(logits, tokens[:, 1:], reduction="sum")),
    ]  # fmt: skip
    name = "lm_loss(tokens (3, 9))" + ("" if exact else ", computed from your lm_forward's logits")
    expect_close(got, want, name=name, mistakes=mistakes, device=device, **TIGHT,
                 hint="the model reads tokens[:, :-1]; position t's logits are scored against "
                 "tokens[:, t + 1]; the mean over every prediction")  # fmt: skip


def _loss_from(logits: torch.Tensor | None, tokens: torch.Tensor) -> torch.Tensor | None:
    if logits is None or logits.shape[:2] != tokens[:, 1:].shape:
        return None
    return _next_token_loss(logits, tokens[:, 1:])


def _slopes(submission, device, params: Params, tokens: torch.Tensor, step: float = 1e-4):
    """For each weight, a random direction v and the slope of the learner's own lm_loss along
    it, by central differences: (L(w + step v) - L(w - step v)) / (2 step)."""
    rng = torch.Generator().manual_seed(2024)
    for name, value in params.items():
        direction = torch.randn(value.shape, generator=rng, dtype=F64)
        ends = [_own(submission, device, "lm_loss", {**params, name: value + sign * direction},
                     tokens, 4, 2) for sign in (step, -step)]  # fmt: skip
        if ends[0] is None or ends[1] is None:
            raise CheckFailure("lm_loss fails or returns no tensor: make its own check pass first")
        yield name, direction, (ends[0] - ends[1]) / (2 * step)


def test_lm_gradients(submission, device, rng):
    """autograd through your functions gives lm_loss's true gradient for every weight"""
    model = _random_lm(rng)
    tokens = torch.randint(0, 13, (2, 9), generator=rng)
    params = _weights_of(model)
    got = submission.lm_gradients(_on(params, device), tokens.to(device), 4, 2)
    expect_weights(got, params, what="lm_gradients (provided)", device=device,
                   restore="restore the provided lm_gradients")  # fmt: skip
    cut = ("no gradient reaches {name}, though lm_loss depends on it: something cuts it off from "
           "autograd (.detach(), torch.no_grad(), .data, .item(), a NumPy detour)")  # fmt: skip
    loss = _next_token_loss(model(tokens[:, :-1]), tokens[:, 1:])
    if matches(_own(submission, device, "lm_loss", params, tokens, 4, 2), loss, **TIGHT):
        wants = torch.autograd.grad(loss, list(model.parameters()))
        for (name, _), want in zip(model.named_parameters(), wants, strict=True):
            zero = matches(got[name], torch.zeros_like(want)) and bool(want.abs().max() > 1e-6)
            assert_close(got[name], want, name=f"the gradient of lm_loss for {name!r}", dtype=F64,
                         device=device, rtol=1e-6, atol=1e-9,
                         hint=cut.format(name=repr(name)) if zero else "something in your "
                         "functions is not differentiated as computed (an in-place change "
                         "or a value taken out of autograd and put back)")  # fmt: skip
        return
    # The loss itself is wrong (its checks say why): judge the gradients of the learner's own
    # loss, which must still be its gradients.
    for name, direction, slope in _slopes(submission, device, params, tokens):
        along = (got[name].detach().cpu().to(F64) * direction).sum()
        hint = cut.format(name=repr(name)) if bool(got[name].abs().max() == 0) else ""
        assert_close(along, slope, name=f"the gradient of your lm_loss for {name!r} along a "
                     "random direction, against the loss's own change along it", rtol=1e-4,
                     atol=1e-7, hint=hint)  # fmt: skip


def test_written_by_hand(submission, exercise, source_tree, rng):
    """layer_norm is written by hand: right, and no nn.LayerNorm, F.layer_norm or torch's layers"""
    x, weight, bias = _randn(rng, 3, 5), 1 + _randn(rng, 5, scale=0.3), _randn(rng, 5, scale=0.3)
    expect_close(submission.layer_norm(x, weight, bias), F.layer_norm(x, (5,), weight, bias),
                 name="layer_norm(x (3, 5))", hint=LN_RULE, dtype=F64, **TIGHT)  # fmt: skip
    rule = Shortcuts(
        "a ready-made layer norm or transformer layer",
        names={"torch.nn.functional.layer_norm", "torch.layer_norm", "torch.native_layer_norm",
               "torch.nn.LayerNorm", "torch.nn.modules.normalization",
               "torch.nn.modules.transformer",
               "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerEncoder",
               "torch.nn.TransformerDecoderLayer", "torch.nn.TransformerDecoder",
               "torch.nn.Transformer", "torch.nn.functional.group_norm", "torch.group_norm",
               "torch.nn.GroupNorm", "torch.nn.RMSNorm", "torch.nn.functional.rms_norm"},
    )  # fmt: skip
    expect_no_shortcuts(
        source_tree, exercise.path, rule,
        advice="Write the mean, the variance and the normalization with tensor operations; "
        "the block and the model are made of your own functions",
    )  # fmt: skip


# -------------------------------------------------------------------------------- training


def _aphorisms(count: int, seed: int) -> str:
    """The corpus generator of the learner's file: `count` lines drawn with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    lines = []
    for _ in range(count):
        kind, choice = torch.randint(0, 8, (2,), generator=generator).tolist()
        group = LINES[0] if kind < 5 else LINES[1] if kind < 7 else LINES[2]
        lines.append(group[choice % len(group)])
    return "\n".join(lines) + "\n"


def _held_out_loss(model: _TrustedLM, device: torch.device) -> float:
    """Mean next-character loss (nats) on held-out lines, in windows of CONTEXT + 1 characters."""
    text = _aphorisms(HELD_OUT_LINES, HELD_OUT_SEED)
    data = torch.tensor([ALPHABET.index(c) for c in text])
    usable = (len(data) - 1) // CONTEXT * CONTEXT
    inputs = data[:usable].reshape(-1, CONTEXT).to(device)
    targets = data[1 : usable + 1].reshape(-1, CONTEXT).to(device)
    with torch.no_grad():
        return float(_next_token_loss(model(inputs).double(), targets))


def _sample(model: _TrustedLM, device: torch.device, seed: int, length: int = 70) -> str:
    """What the trained model writes after a line break, sampled at temperature 0.5."""
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.tensor([ALPHABET.index("\n")], device=device)
    with torch.no_grad():
        for _ in range(length):
            logits = model(tokens[None, -CONTEXT:])[0, -1].double().cpu()
            new = torch.multinomial(torch.softmax(logits / 0.5, dim=-1), 1, generator=generator)
            tokens = torch.cat([tokens, new.to(device)])
    return "".join(ALPHABET[int(t)] for t in tokens[1:])


def _show_attention(metrics, model: _TrustedLM, device: torch.device, caption: str) -> None:
    """The first block's attention weights (mean over heads) on a held-out line: a picture."""
    line = "If the implementation is hard to explain"[:CONTEXT]
    tokens = torch.tensor([[ALPHABET.index(c) for c in line]], device=device)
    block: nn.TransformerEncoderLayer = model.blocks[0]  # type: ignore[assignment]
    with torch.no_grad():
        x = model.token_embedding(tokens) + model.position_embedding.weight[: tokens.shape[1]]
        h = block.norm1(x)
        _, weights = block.self_attn(h, h, h, attn_mask=_square_mask(len(line), device),
                                     need_weights=True, average_attn_weights=True)  # fmt: skip
    labels = [c if c != " " else "·" for c in line]
    panel = {"title": "rows: the position predicting · cols: the characters it reads",
             "values": weights[0].cpu(), "xlabels": labels, "ylabels": labels}  # fmt: skip
    metrics.figure("attention in block 0", "heatmap", {"panels": [panel], "caption": caption})


@pytest.mark.points(2)
def test_learns_text(submission, device, metrics, seed):
    """a language model built on your functions learns to write the made-up aphorisms"""
    model = _TrustedLM(len(ALPHABET), D_MODEL, N_HEADS, N_LAYERS, FFN_SIZE, CONTEXT).to(device)
    state = submission.call_logged("train_lm", seed % 1000, TRAIN_STEPS, str(device),
                                   log=metrics.emit, timeout=TRAIN_TIMEOUT)  # fmt: skip
    state = expect_weights(state, model.state_dict(), what="train_lm's result", device=device,
                           restore="restore the provided train_lm and init_params")  # fmt: skip
    model.load_state_dict(state)
    loss = _held_out_loss(model, device)
    metrics.emit("held-out loss", loss, TRAIN_STEPS)
    if math.isfinite(loss):
        sample = _sample(model, device, seed).replace("\n", " | ")
        _show_attention(metrics, model, device, f"after {TRAIN_STEPS} steps it writes: {sample}")
    if not loss < LOSS_BOUND:
        raise CheckFailure(
            f"after {TRAIN_STEPS} training steps the model's loss on {HELD_OUT_LINES} new lines "
            f"is {fmt_number(loss)} nats per character, expected below {LOSS_BOUND} (a model "
            "that sees only the current character gets about 1.6). It is measured here with "
            "the weights train_lm returned, in the same model built from torch's own layers "
            "(pre-norm blocks, causal attention, residual connections, learned positions): "
            "weights trained through a block of another shape, or one that sees the future, "
            "do not work there. Make the other checks pass first"
        )
