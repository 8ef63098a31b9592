"""Checks for the embeddings exercise: lookup and its gradient, similarity, skip-gram training."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.compare import assert_equal, expect_tensor, fmt_number
from grader.errors import CheckFailure, SubmissionError
from grader.gradcheck import autograd_gradients
from grader.kit import (
    Mistake,
    Shortcuts,
    call_unchanged,
    expect_close,
    expect_no_shortcuts,
    fmt_dtype,
    likely_mistake,
    matches,
    tensor,
    unpack,
)

pytestmark = pytest.mark.exercise("embeddings")

F32, F64 = torch.float32, torch.float64
# float64 first, then float32, the dtype learners train with: each value check runs at both.
# Inputs are rounded to the dtype first, and the trusted side computes in float64 on the
# rounded values, so only the learner's own rounding is left for the tolerance.
DTYPES = (F64, F32)
EXACT: dict[str, Any] = {"rtol": 1e-12, "atol": 1e-12}  # picking and adding rows: exact sums
CLOSE: dict[str, Any] = {"rtol": 1e-9, "atol": 1e-12}  # float64, the same formula reordered
F32_CLOSE: dict[str, Any] = {"rtol": 1e-5, "atol": 1e-6}  # float32 against float64
TOLERANCE = {F64: CLOSE, F32: F32_CLOSE}

LOOKUP_RULE = "out[p] = weight[indices[p]]: one row of the table per index, shape (*S, D)"
BACKWARD_RULE = (
    "row w of the gradient is the sum of grad_output at every position where indices == w; "
    "rows never looked up stay 0"
)
COSINE_RULE = "S[i, j] = a_i . b_j / (max(||a_i||, eps) * max(||b_j||, eps))"
NEIGHBOURS_RULE = (
    "rank every other word by cosine similarity with the query, most similar first, equal "
    "similarities by the smaller id; the query itself is left out"
)
PAIRS_RULE = (
    "for each centre position i in order, each position j with 1 <= |i - j| <= window inside "
    "the sentence, in increasing order: the row (tokens[i], tokens[j])"
)
LOSS_RULE = (
    "per pair: -log sigmoid(u_o . v) - sum over k of log sigmoid(-u_k . v), then the mean "
    "over the batch"
)
OVERFLOW = (
    "the loss overflows to inf: -log(sigmoid(x)) is inf once sigmoid(x) rounds to 0 (and "
    "log(1 + exp(-x)) once exp(-x) does); use the stable form max(-x, 0) + log(1 + exp(-|x|))"
)
GRADIENT_RULE = (
    "with s_o = u_o . v and s_k = u_k . v: dL/ds_o = (sigmoid(s_o) - 1) / B and "
    "dL/ds_k = sigmoid(s_k) / B; each score's gradient for one vector is the other vector"
)

# The corpus: a tiny grammar, "<article> <subject> <verb> <article> <object>", one topic per
# sentence. Words of one topic share sentences; words of different topics never meet.
TOPICS = {
    "pets": (
        ("cat", "dog", "kitten", "puppy"),
        ("chases", "licks", "sniffs"),
        ("ball", "bone", "milk", "mouse"),
    ),
    "traffic": (
        ("driver", "cyclist", "courier"),
        ("parks", "steers", "rides"),
        ("car", "bike", "van", "truck"),
    ),
    "kitchen": (
        ("cook", "baker", "chef"),
        ("bakes", "slices", "stirs"),
        ("bread", "cake", "soup", "dough"),
    ),
}
ARTICLES = ("the", "a")
WORDS = ARTICLES + tuple(word for parts in TOPICS.values() for group in parts for word in group)
TOPIC_OF = {word: topic for topic, parts in TOPICS.items() for group in parts for word in group}
SENTENCES = 150
# window 3 reaches from the subject to the object. Over 290 seeds the reference's smallest
# per-word gap (test_learns_embeddings) was 0.34; an untrained table, or one trained with a
# wrong gradient, gives about 0 or less.
TRAIN_SETTINGS: dict[str, Any] = {
    "dim": 16, "window": 3, "negatives": 5, "epochs": 20, "lr": 1.0,
}  # fmt: skip
MIN_GAP = 0.2
TRAIN_TIMEOUT = 60.0  # seconds for the whole run in the worker (about half a second)


# ------------------------------------------------------------------------------ trusted maths


def _pairs(
    tokens: torch.Tensor, window: int, *, near: int = 1, right: int | None = None,
    wrap: bool = False, swap: bool = False,
) -> torch.Tensor:  # fmt: skip
    """Trusted skip-gram pairs. The keywords make the usual mistakes: near=0 keeps the centre,
    right < window cuts the right edge, wrap reads negative positions from the end, swap puts
    the context first."""
    T, right = len(tokens), window if right is None else right
    rows = []
    for i in range(T):
        for j in range(i - window, i + right + 1):
            if abs(i - j) < near or j >= T or j < (-T if wrap else 0):
                continue
            pair = (int(tokens[i]), int(tokens[j]))
            rows.append(pair[::-1] if swap else pair)
    return torch.tensor(rows, dtype=torch.int64).reshape(-1, 2)


def _cosine(
    a: torch.Tensor, b: torch.Tensor, *, norm_a: bool = True, norm_b: bool = True,
    floor: bool = True, add_eps: bool = False,
) -> torch.Tensor:  # fmt: skip
    """Trusted cosines; without norm_a, norm_b or floor, or with add_eps (||a|| + eps instead
    of max(||a||, eps)), the usual mistakes."""
    a_norm = a.norm(dim=1, keepdim=True)
    b_norm = b.norm(dim=1, keepdim=True)
    if add_eps:
        a_norm, b_norm = a_norm + 1e-8, b_norm + 1e-8
    elif floor:
        a_norm, b_norm = a_norm.clamp_min(1e-8), b_norm.clamp_min(1e-8)
    return (a / a_norm if norm_a else a) @ (b / b_norm if norm_b else b).T


def _neighbours(
    weight: torch.Tensor, queries: torch.Tensor, k: int, *, self_out: str = "id",
    larger_first: bool = False,
) -> torch.Tensor:  # fmt: skip
    """Trusted ranking; self_out: "id" (right), "kept" (the query stays in), "first" (drop
    the first of the ranking), and larger_first breaks ties by the larger id."""
    scores = _cosine(weight[queries], weight)
    if self_out == "id":
        scores[torch.arange(len(queries)), queries] = float("-inf")
    if larger_first:
        order = torch.sort(scores.flip(1), dim=1, descending=True, stable=True).indices
        order = weight.shape[0] - 1 - order
    else:
        order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    return order[:, 1 : k + 1] if self_out == "first" else order[:, :k]


def _scores(center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor):
    """The true pairs' scores (B,) and the noise pairs' scores (B, K)."""
    return (context * center).sum(-1), (negatives * center[:, None, :]).sum(-1)


def _loss(center, context, negatives, *, flip=False, reduce="mean", mean_k=False):
    """The loss through torch's stable logsigmoid; keywords make the usual mistakes."""
    s_o, s_k = _scores(center, context, negatives)
    noise = F.logsigmoid(s_k if flip else -s_k)
    per_pair = -F.logsigmoid(s_o) - (noise.mean(1) if mean_k else noise.sum(1))
    return per_pair.sum() if reduce == "sum" else per_pair.mean()


def _naive_loss(center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor):
    """The loss as it reads, -log(sigmoid(s)): inf once a sigmoid rounds to 0."""
    s_o, s_k = _scores(center, context, negatives)
    log_noise = torch.log(torch.sigmoid(-s_k)).sum(1)
    return -(torch.log(torch.sigmoid(s_o)) + log_noise).mean()


def _vectors(rng: torch.Generator, B: int, K: int, D: int) -> tuple[torch.Tensor, ...]:
    """Random centre, context and negative vectors: scores of a few units."""
    shapes = ((B, D), (B, D), (B, K, D))
    return tuple(torch.randn(shape, generator=rng, dtype=F64) for shape in shapes)


def _extreme(D: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Scores of +-900 and +-40: where sigmoid rounds to 0 or 1 and a naive log overflows."""
    e = torch.eye(D, dtype=F64)
    center = torch.stack([30 * e[0], 30 * e[1], 2 * e[2]])
    context = torch.stack([-30 * e[0], 30 * e[1], 20 * e[2]])
    negatives = torch.stack([
        torch.stack([30 * e[0], -30 * e[0]]),
        torch.stack([30 * e[1], e[3]]),
        torch.stack([-20 * e[2], 20 * e[2]]),
    ])  # fmt: skip
    return center, context, negatives


def _on(device: torch.device, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tuple(t.to(device) for t in tensors)


def _rounded(dtype: torch.dtype, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """float64 tensors rounded to `dtype` and back: the values a `dtype` input really holds."""
    return tuple(t.to(dtype).to(F64) for t in tensors)


def _in(dtype: torch.dtype) -> str:
    """The dtype as a case's name gives it: ", in float32"; float64 cases keep their plain names."""
    return "" if dtype == F64 else f", in {fmt_dtype(dtype)}"


# ------------------------------------------------------------------------------------- lookup


def _indices(rng: torch.Generator, V: int, shape: tuple[int, ...], avoid: int = 0) -> torch.Tensor:
    """Random ids in 0..V-1-avoid with at least one repeat (the last rows are never picked)."""
    ids = torch.randint(0, V - avoid, shape, generator=rng).reshape(-1)
    ids[-1] = ids[0]
    return ids.reshape(shape)


def test_embedding_lookup(submission, device, rng):
    """embedding_lookup picks the table's rows like nn.Embedding, for any shape of indices"""
    V, D = 7, 5
    weight = torch.randn(V, D, generator=rng, dtype=F64)
    layer = nn.Embedding.from_pretrained(weight)
    for dtype, shape in ((F64, (10,)), (torch.float32, (3, 4))):
        indices = _indices(rng, V, shape)
        sent = _on(device, weight.to(dtype), indices)
        got = call_unchanged(submission, "embedding_lookup", *sent, names=("weight", "indices"))
        with torch.no_grad():
            want = layer(indices).to(dtype)
        name = f"embedding_lookup(weight, indices) with indices {tuple(shape)}{_in(dtype)}"
        expect_close(got, want, name=name, hint=LOOKUP_RULE, dtype=dtype, device=device, **EXACT)


@pytest.mark.points(2)
def test_embedding_backward(submission, device, rng):
    """embedding_backward gives nn.Embedding's weight gradient, adding up repeated indices"""
    V, D = 8, 4
    for shape, dtype in (((12,), F64), ((3, 5), F64), ((4, 6), F32)):
        indices = _indices(rng, V, shape, avoid=2)
        (grad_output,) = _rounded(dtype, torch.randn(*shape, D, generator=rng, dtype=F64))
        layer = nn.Embedding.from_pretrained(torch.zeros(V, D, dtype=F64), freeze=False)
        layer(indices).backward(grad_output)
        want = layer.weight.grad
        sent = _on(device, grad_output.to(dtype), indices)
        got = call_unchanged(
            submission, "embedding_backward", *sent, V, names=("grad_output", "indices")
        )
        flat, rows = grad_output.reshape(-1, D), indices.reshape(-1)
        last, first = torch.zeros(V, D, dtype=F64), torch.zeros(V, D, dtype=F64)
        for p in range(len(rows)):
            last[rows[p]] = flat[p]
            first[rows[len(rows) - 1 - p]] = flat[len(rows) - 1 - p]
        kept_one = (
            "a word looked up several times keeps only one of its contributions: assigning "
            "grad[indices] = ... overwrites; add them all (index_add, or += in a loop)"
        )
        mistakes = [Mistake(kept_one, last), Mistake(kept_one, first)]
        name = f"embedding_backward with indices {tuple(shape)}{_in(dtype)} (ids repeat)"
        # The kind first: a float64 result for float32 inputs is named as such, not with the
        # values' hint.
        expect_tensor(got, name=name, shape=want.shape, dtype=dtype, device=device)
        expect_close(
            got,
            want,
            name=name,
            hint=BACKWARD_RULE,
            mistakes=mistakes,
            dtype=dtype,
            device=device,
            **(EXACT if dtype == F64 else F32_CLOSE),
        )


# ---------------------------------------------------------------------------------- similarity

NOTES_VECTORS = torch.tensor(
    [[-0.4, 0.8, 0.5, -0.2, 0.3], [-0.3, 0.2, 0.3, -0.4, 0.9], [-0.5, -0.4, -0.2, 0.7, -0.1]],
    dtype=F64,
)  # Jay, Person #1 and Person #2 in the notes: cosines 0.66 and -0.37


@pytest.mark.points(2)
def test_cosine_similarity(submission, device, rng):
    """cosine_similarity matches F.cosine_similarity for every pair, 0 for zero vectors"""
    a = torch.randn(6, 5, generator=rng, dtype=F64) * torch.tensor([0.1, 3, 1, 10, 0.5, 2])[:, None]
    b = torch.randn(4, 5, generator=rng, dtype=F64) * torch.tensor([5, 1, 0.2, 2])[:, None]
    a[2], b[1] = 0.0, 0.0
    cases = {
        "(6, 5) and (4, 5) rows of many lengths, one zero row in each": (a, b),
        "the notes' example: Jay against Person #1 and Person #2": (
            NOTES_VECTORS[:1],
            NOTES_VECTORS[1:],
        ),
    }
    for dtype, (case, (x, y)) in itertools.product(DTYPES, cases.items()):
        x, y = _rounded(dtype, x, y)
        want = F.cosine_similarity(x[:, None, :], y[None, :, :], dim=-1)
        mistakes = [
            Mistake("only a is divided by its norm: divide by the norms of both vectors",
                    _cosine(x, y, norm_b=False)),
            Mistake("only b is divided by its norm: divide by the norms of both vectors",
                    _cosine(x, y, norm_a=False)),
            Mistake("this is the plain dot product: divide by both norms",
                    _cosine(x, y, norm_a=False, norm_b=False)),
            Mistake("a zero vector gives 0 / 0 = NaN: floor each norm at eps, as the "
                    "docstring says, so that its similarities are 0", _cosine(x, y, floor=False)),
            Mistake("eps is added to every norm, which moves every cosine a little (about "
                    "eps / ||a_i||): the docstring floors each norm instead, "
                    "max(||a_i||, eps), which leaves every nonzero norm as it is",
                    _cosine(x, y, add_eps=True)),
        ]  # fmt: skip
        sent = _on(device, x.to(dtype), y.to(dtype))
        got = call_unchanged(submission, "cosine_similarity", *sent, names=("a", "b"))
        name = f"cosine_similarity on {case}{_in(dtype)}"
        expect_tensor(got, name=name, shape=want.shape, dtype=dtype, device=device)
        expect_close(
            got,
            want,
            name=name,
            hint=COSINE_RULE,
            mistakes=mistakes,
            dtype=dtype,
            device=device,
            **TOLERANCE[dtype],
        )


# A table whose cosines are exact: duplicated rows (ids 0 and 5, 3 and 8), a row scaled by 2
# (id 1), a zero row (id 4). Equal similarities test the ties; the zero row ties everything.
KNOWN_TABLE = torch.tensor(
    [[1, 0, 0, 0], [2, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0],
     [1, 0, 0, 0], [0, 0, 1, 0], [-1, 0, 0, 0], [1, 1, 0, 0], [0, -1, 1, 0]],
    dtype=F64,
)  # fmt: skip


SEPARATION = 1e-4  # between a query's k + 1 best similarities in the float32 case


def _separated_table(
    rng: torch.Generator, V: int, D: int, Q: int, k: int, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random table (in `dtype`'s values) and Q query ids whose k + 1 best similarities are
    at least SEPARATION apart for every query: rounding in `dtype` (float32 cosines are off by
    about 1e-7) cannot reorder them, so the one right ranking is the trusted one."""
    for _ in range(100):
        (weight,) = _rounded(dtype, torch.randn(V, D, generator=rng, dtype=F64))
        queries = torch.randperm(V, generator=rng)[:Q]
        scores = _cosine(weight[queries], weight)
        scores[torch.arange(Q), queries] = float("-inf")
        best = scores.sort(dim=1, descending=True).values[:, : k + 1]
        if bool((best[:, :-1] - best[:, 1:] >= SEPARATION).all()):
            return weight, queries
    raise RuntimeError("no well-separated table in 100 draws")  # 1 table in 20 is redrawn


@pytest.mark.points(2)
def test_nearest_neighbours(submission, device, rng):
    """nearest_neighbours ranks the other words by cosine, ties by id, the word itself left out"""
    V = len(KNOWN_TABLE)
    random_table = torch.randn(30, 6, generator=rng, dtype=F64)
    cases = [
        ("the known table, every word, k=3", KNOWN_TABLE, torch.arange(V), 3, F64),
        ("the known table, words 5, 4, 8, k=9 (every other word)",
         KNOWN_TABLE, torch.tensor([5, 4, 8]), V - 1, F64),
        ("a random (30, 6) table, k=5",
         random_table, torch.randperm(30, generator=rng)[:6], 5, F64),
        # float32 rounding may split the known table's ties, so float32 gets a table without
        # near-ties, where the ranking cannot depend on the dtype.
        ("a random (30, 6) table in float32, k=5",
         *_separated_table(rng, 30, 6, 6, 5, F32), 5, F32),
    ]  # fmt: skip
    for case, weight, queries, k, dtype in cases:
        want = _neighbours(weight, queries, k)
        sent = _on(device, weight.to(dtype), queries)
        got = call_unchanged(
            submission, "nearest_neighbours", *sent, k, names=("weight", "queries")
        )
        mistakes = [
            Mistake("a word's own id is in its list: leave the query word out (its own "
                    "similarity is 1, the highest)", _neighbours(weight, queries, k,
                                                                 self_out="kept")),
            Mistake("dropping the first of the ranking does not always drop the word itself: a "
                    "word with the same vector and a smaller id comes first; leave the query "
                    "out by its id", _neighbours(weight, queries, k, self_out="first")),
            Mistake("equal similarities come in order of the larger id first: break ties by the "
                    "smaller id (a stable sort keeps that order; top-k routines may not)",
                    _neighbours(weight, queries, k, larger_first=True)),
        ]  # fmt: skip
        hint = likely_mistake(got, mistakes, default=NEIGHBOURS_RULE, expected=want, rtol=0, atol=0)
        if hint == NEIGHBOURS_RULE and not matches(got, want, rtol=0, atol=0):
            hint = (
                _cosine_first(submission, weight, queries, device, dtype)
                or _ties_only(got, weight, queries, want)
                or hint
            )
        name = f"nearest_neighbours on {case}: the ids for queries {queries.tolist()}"
        assert_equal(got, want, name=name, dtype=torch.int64, device=device, hint=hint)


def _ties_only(got: Any, weight: torch.Tensor, queries: torch.Tensor, want: torch.Tensor) -> str:
    """A hint when `got` ranks words of the right similarities and only orders ties otherwise."""
    if type(got) is not torch.Tensor or got.shape != want.shape or got.is_floating_point():
        return ""
    got = got.detach().cpu().long()
    V = weight.shape[0]
    if bool(((got < 0) | (got >= V)).any()) or bool((got == queries[:, None]).any()):
        return ""
    if any(len(set(row.tolist())) != len(row) for row in got):
        return ""
    scores = _cosine(weight[queries], weight)
    if not matches(scores.gather(1, got), scores.gather(1, want), rtol=0, atol=1e-12):
        return ""
    return (
        "your lists hold words of the right similarities, in the right order of similarity, "
        "but words of equal similarity come in another order: the smaller id comes first. A "
        "stable sort keeps the ids' order among ties; torch.topk, or a sort without "
        "stable=True, does not promise it"
    )


def _cosine_first(
    submission, weight: torch.Tensor, queries: torch.Tensor, device, dtype: torch.dtype
) -> str:
    """A hint when the learner's cosine_similarity is what makes the ranking wrong, else ""."""
    try:
        sims = submission.cosine_similarity(
            *_on(device, weight[queries].to(dtype), weight.to(dtype))
        )
    except SubmissionError:
        return ""
    if matches(sims, _cosine(weight[queries], weight), **TOLERANCE[dtype]):
        return ""
    return (
        "your cosine_similarity gives other similarities on this table, and the ranking "
        "follows them: make the cosine_similarity check pass first"
    )


# -------------------------------------------------------------------------------- skip-gram


@pytest.mark.points(2)
def test_skipgram_pairs(submission, device, rng):
    """skipgram_pairs gives every (centre, context) pair within the window, in order"""
    for T, window in ((9, 2), (6, 1), (4, 5), (7, 3), (1, 2)):
        tokens = torch.randint(10, 60, (T,), generator=rng)
        want = _pairs(tokens, window)
        got = call_unchanged(submission, "skipgram_pairs", tokens.to(device), window,
                             names=("tokens",))  # fmt: skip
        mistakes = [
            Mistake("the centre word is paired with itself: skip j == i",
                    _pairs(tokens, window, near=0)),
            Mistake("the window misses its right edge: j runs up to i + window included",
                    _pairs(tokens, window, right=window - 1)),
            Mistake("the window is one short on both sides: 1 <= |i - j| <= window, window "
                    "included", _pairs(tokens, window - 1)),
            Mistake("the window reaches past the start of the sentence and wraps around to its "
                    "end (a negative index counts from the end): stop at position 0",
                    _pairs(tokens, window, wrap=True)),
            Mistake("each row is (context, centre): put the centre word first",
                    _pairs(tokens, window, swap=True)),
        ]  # fmt: skip
        hint = likely_mistake(got, mistakes, default=PAIRS_RULE, expected=want, rtol=0, atol=0)
        count = f"{len(want)} pairs" if len(want) != 1 else "1 pair"
        name = f"skipgram_pairs on a sentence of {T} words, window {window} ({count})"
        assert_equal(got, want, name=name, dtype=torch.int64, device=device, hint=hint)


def _loss_cases(
    rng: torch.Generator,
) -> Iterator[tuple[str, torch.dtype, tuple[torch.Tensor, ...]]]:
    """(case, dtype, float64 vectors holding that dtype's values), every case in each dtype."""
    cases = {
        "a batch of 6 pairs, 4 negatives each": _vectors(rng, 6, 4, 5),
        "scores of +-900 and +-40": _extreme(),
    }
    for dtype, (case, vectors) in itertools.product(DTYPES, cases.items()):
        yield case + _in(dtype), dtype, _rounded(dtype, *vectors)


@pytest.mark.points(2)
def test_negative_sampling_loss(submission, device, rng):
    """negative_sampling_loss matches torch's logsigmoid form, finite for extreme scores"""
    for case, dtype, vectors in _loss_cases(rng):
        want = _loss(*vectors)
        mistakes = [
            Mistake("the noise term has the wrong sign: each negative adds "
                    "-log sigmoid(-u_k . v)", _loss(*vectors, flip=True)),
            Mistake("this is the sum over the batch: take the mean", _loss(*vectors, reduce="sum")),
            Mistake("the negatives are averaged: sum their terms over k",
                    _loss(*vectors, mean_k=True)),
            Mistake("the loss has the wrong sign: it is minus the log-likelihoods", -want),
            Mistake(OVERFLOW, _naive_loss(*vectors)),
        ]  # fmt: skip
        sent = _on(device, *(v.to(dtype) for v in vectors))
        got = call_unchanged(submission, "negative_sampling_loss", *sent,
                             names=("center", "context", "negatives"))  # fmt: skip
        name = f"negative_sampling_loss on {case}"
        expect_tensor(got, name=name, shape=(), dtype=dtype, device=device)
        expect_close(got, want, name=name, hint=LOSS_RULE, mistakes=mistakes, dtype=dtype,
                     device=device, **TOLERANCE[dtype])  # fmt: skip


@pytest.mark.points(3)
def test_negative_sampling_grads(submission, device, rng):
    """negative_sampling_grads match autograd's gradients, extreme scores included"""
    for case, dtype, vectors in _loss_cases(rng):
        wants = autograd_gradients(_loss, vectors)
        flipped = autograd_gradients(functools.partial(_loss, flip=True), vectors)
        B = vectors[0].shape[0]
        sent = _on(device, *(v.to(dtype) for v in vectors))
        result = call_unchanged(submission, "negative_sampling_grads", *sent,
                                names=("center", "context", "negatives"))  # fmt: skip
        shapes = {
            f"d_{name}": tensor(v.shape, dtype, device)
            for name, v in zip(("center", "context", "negatives"), vectors, strict=True)
        }
        parts = unpack(result, "negative_sampling_grads", context=case, **shapes)
        for index, (name, got, want) in enumerate(zip(shapes, parts, wants, strict=True)):
            mistakes = [
                Mistake(f"{name} is B = {B} times too large: the loss is a mean over the batch",
                        B * want),
                Mistake(f"{name} has the wrong sign: the loss falls as u_o . v grows", -want),
                Mistake("the negatives are treated like the true pair: for a noise score "
                        "dL/ds_k = sigmoid(s_k) / B, not (sigmoid(s_k) - 1) / B",
                        flipped[index] if name != "d_context" else None),
            ]  # fmt: skip
            expect_close(got, want, name=f"negative_sampling_grads' {name} on {case}",
                         hint=GRADIENT_RULE, mistakes=mistakes, dtype=dtype, device=device,
                         **TOLERANCE[dtype])  # fmt: skip


# torch's embedding and cosine, under every path torch offers them: the layers, the functions,
# and the kernels behind them (a kernel's backward is the gradient embedding_backward computes).
KERNELS = ("embedding", "embedding_bag", "_embedding_bag", "_embedding_bag_forward_only",
           "embedding_backward", "embedding_dense_backward", "embedding_sparse_backward",
           "cosine_similarity")  # fmt: skip
READY_MADE = Shortcuts(
    "a ready-made embedding or cosine",
    names={f"{where}.{name}" for name in KERNELS for where in (
        "torch", "torch.nn.functional", "torch.ops.aten", "torch._C._VariableFunctions")}
    | {"torch.nn.Embedding", "torch.nn.EmbeddingBag", "torch.nn.CosineSimilarity",
       "torch.nn.modules.sparse", "torch.nn.modules.distance", "torch.nn.functional.normalize",
       "torch._VF"},
    functions={"embedding_lookup", "embedding_backward", "cosine_similarity",
               "nearest_neighbours"},
)  # fmt: skip


@pytest.mark.needs_passing(
    "embedding_lookup",
    "embedding_backward",
    "cosine_similarity",
    "nearest_neighbours",
    "negative_sampling_grads",
)
def test_written_by_hand(submission, exercise, source_tree, rng):
    """the gradients are worked out by hand, and no ready-made embedding or cosine is used"""
    center, context, negatives = _vectors(rng, 3, 2, 4)
    d_center = submission.negative_sampling_grads(center, context, negatives)
    if type(d_center) in (tuple, list) and d_center:
        d_center = d_center[0]
    want = autograd_gradients(_loss, (center, context, negatives))[0]
    expect_close(d_center, want, name="negative_sampling_grads' d_center", hint=GRADIENT_RULE,
                 dtype=F64, **CLOSE)  # fmt: skip
    autograd = Shortcuts(
        "autograd",
        names={"torch.autograd", "torch.func"},
        methods={"backward", "grad", "requires_grad", "requires_grad_"},
        functions={"embedding_backward", "negative_sampling_grads"},
    )
    expect_no_shortcuts(
        source_tree,
        exercise.path,
        autograd,
        READY_MADE,
        advice="This exercise is about what those tools do inside: pick rows by indexing, add "
        "the gradients of repeated rows yourself, divide by the norms yourself, and apply the "
        "chain rule to the loss by hand (lesson.md derives it)",
    )


# ---------------------------------------------------------------------------------- training


@functools.lru_cache(maxsize=4)
def _corpus(seed: int) -> tuple[torch.Tensor, ...]:
    """SENTENCES sentences of the grammar, as word ids, drawn from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    ids = {word: i for i, word in enumerate(WORDS)}
    topics = list(TOPICS.values())

    def pick(words: tuple[str, ...]) -> str:
        return words[int(torch.randint(len(words), (1,), generator=generator))]

    sentences = []
    for _ in range(SENTENCES):
        topic = int(torch.randint(len(topics), (1,), generator=generator))
        subjects, verbs, objects = topics[topic]
        words = (pick(ARTICLES), pick(subjects), pick(verbs), pick(ARTICLES), pick(objects))
        sentences.append(torch.tensor([ids[word] for word in words]))
    return tuple(sentences)


def _similarity_gaps(table: torch.Tensor, sentences) -> dict[str, tuple[float, float, list[str]]]:
    """Per topic word: mean cosine with the words it co-occurs with, with other topics' words."""
    together = torch.zeros(len(WORDS), len(WORDS), dtype=torch.bool)
    for tokens in sentences:
        pairs = _pairs(tokens, TRAIN_SETTINGS["window"])
        together[pairs[:, 0], pairs[:, 1]] = True
    sims = _cosine(table, table)
    gaps = {}
    for w, word in enumerate(WORDS):
        if word in ARTICLES:
            continue
        near = [v for v in range(len(WORDS)) if together[w, v] and v != w and v >= len(ARTICLES)]
        far = [v for v in range(len(ARTICLES), len(WORDS)) if TOPIC_OF[WORDS[v]] != TOPIC_OF[word]]
        if near:
            gaps[word] = (float(sims[w, near].mean()), float(sims[w, far].mean()),
                          [WORDS[v] for v in near])  # fmt: skip
    return gaps


def _show_words(metrics, table: torch.Tensor, caption: str) -> None:
    """The words' vectors projected on their first two principal components: a picture only."""
    centred = table - table.mean(dim=0)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    xy = centred @ vh[:2].T
    names = [*TOPICS, "articles"]
    group = [names.index(TOPIC_OF.get(word, "articles")) for word in WORDS]
    data = {"x": xy[:, 0], "y": xy[:, 1], "group": group, "groups": names, "caption": caption,
            "xlabel": "principal component 1", "ylabel": "component 2"}  # fmt: skip
    metrics.figure("word vectors", "scatter", data)


@pytest.mark.points(3)
def test_learns_embeddings(submission, device, metrics, seed):
    """skip-gram trained with your functions puts words that co-occur nearer than strangers"""
    sentences = _corpus(seed % 100_000)
    settings = TRAIN_SETTINGS
    result = submission.call_logged(
        "train_skipgram",
        list(sentences),
        len(WORDS),
        **settings,
        seed=seed % 100_000,
        device=str(device),
        log=metrics.emit,
        timeout=TRAIN_TIMEOUT,
    )
    shape = (len(WORDS), settings["dim"])
    name = "train_skipgram's table"
    table = expect_tensor(result, name=name, shape=shape, dtype=torch.float32, device=device)
    table = table.detach().cpu().to(F64)
    if not bool(torch.isfinite(table).all()):
        raise CheckFailure(
            "train_skipgram's table holds NaN or inf: training blew up. Make the "
            "negative_sampling_grads and embedding_backward checks pass first"
        )
    _show_words(metrics, table, f"after {settings['epochs']} epochs, coloured by topic")
    gaps = _similarity_gaps(table, sentences)
    worst = min(gaps, key=lambda word: gaps[word][0] - gaps[word][1])
    metrics.emit("smallest similarity gap", gaps[worst][0] - gaps[worst][1], settings["epochs"])
    failing = [word for word, (near, far, _) in gaps.items() if near - far < MIN_GAP]
    if failing:
        near, far, partners = gaps[worst]
        raise CheckFailure(
            f"after training with {settings}, {len(failing)} of {len(gaps)} topic words are not "
            f"clearly nearer to the words they co-occur with than to the words of other topics "
            f"(they never share a sentence). Worst, {worst!r}: mean cosine "
            f"{fmt_number(near)} with {', '.join(partners)}, {fmt_number(far)} with the other "
            f"topics' words; the check asks for a gap of at least {MIN_GAP}. Judged here on the "
            "table train_skipgram returned. Make the other checks pass first: "
            "train_skipgram (provided) learns with your embedding_lookup, embedding_backward, "
            "skipgram_pairs and negative_sampling_grads"
        )
