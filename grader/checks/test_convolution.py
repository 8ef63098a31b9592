"""Checks for the convolution exercise: output sizes, conv2d (loops, vectorised, backward),
max pooling forward and backward, a small CNN on the digits, and no ready-made layers.

The sweeps draw many shapes, strides and paddings from the check's seed and try them from the
smallest to the largest, so the first failure reported is the smallest case that fails.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from grader.codec import Opaque, type_name
from grader.compare import assert_close, assert_equal, expect_tensor, fmt_shape
from grader.datasets import digits
from grader.errors import CheckFailure
from grader.gradcheck import assert_gradient

pytestmark = pytest.mark.exercise("convolution")

F64 = torch.float64
FORWARD_TOL: dict[str, Any] = {"rtol": 1e-8, "atol": 1e-10}
GRAD_THRESHOLD = 1e-7  # CS231n's relative error; float64 sums stay near 1e-15


# -------------------------------------------------------------------------------- the cases


def _draw(rng: torch.Generator, low: int, high: int) -> int:
    """A random int in [low, high], both ends included."""
    return int(torch.randint(low, high + 1, (1,), generator=rng))


def _size(size: int, kernel: int, stride: int, padding: int) -> int:
    # Counts the window's starting positions (not output_size's formula: a release ships this).
    return len(range(0, size + 2 * padding - kernel + 1, stride))


def _formula(axis: str, size: int, kernel: int, stride: int, padding: int) -> str:
    k = "KH" if axis == "H" else "KW"
    return (
        f"{axis}_out = ({axis} + 2P - {k}) // S + 1 = ({size} + 2*{padding} - {kernel}) // "
        f"{stride} + 1 = {_size(size, kernel, stride, padding)}"
    )


@dataclass(frozen=True)
class ConvCase:
    """One convolution layer's shapes: x (n, c_in, h, w), weight (c_out, c_in, kh, kw)."""

    n: int
    c_in: int
    c_out: int
    h: int
    w: int
    kh: int
    kw: int
    stride: int
    padding: int

    @property
    def x_shape(self) -> tuple[int, ...]:
        return (self.n, self.c_in, self.h, self.w)

    @property
    def w_shape(self) -> tuple[int, ...]:
        return (self.c_out, self.c_in, self.kh, self.kw)

    @property
    def out_shape(self) -> tuple[int, ...]:
        h_out = _size(self.h, self.kh, self.stride, self.padding)
        w_out = _size(self.w, self.kw, self.stride, self.padding)
        return (self.n, self.c_out, h_out, w_out)

    def cost(self) -> tuple[int, int]:
        _, _, h_out, w_out = self.out_shape
        work = self.n * self.c_out * h_out * w_out * self.c_in * self.kh * self.kw
        return (work + self.n * self.c_in * self.h * self.w, self.stride + self.padding)

    def shapes_formula(self) -> str:
        return (
            f"{_formula('H', self.h, self.kh, self.stride, self.padding)} and "
            f"{_formula('W', self.w, self.kw, self.stride, self.padding)}"
        )

    def __str__(self) -> str:
        return (
            f"x {fmt_shape(self.x_shape)}, weight {fmt_shape(self.w_shape)}, "
            f"stride {self.stride}, padding {self.padding}"
        )


# Edge cases every sweep includes: the lesson's 5x5 image with a 3x3 filter, a 1x1 convolution,
# padding wider than the kernel, a kernel as large as the image, and a stride that skips pixels.
FIXED_CONV = (
    ConvCase(1, 1, 1, 5, 5, 3, 3, 1, 0),
    ConvCase(1, 3, 2, 4, 4, 1, 1, 1, 0),
    ConvCase(1, 1, 2, 4, 5, 1, 1, 2, 2),
    ConvCase(2, 2, 1, 3, 4, 3, 4, 2, 0),
    ConvCase(1, 2, 2, 7, 7, 2, 2, 3, 1),
)


def _conv_cases(rng: torch.Generator, count: int, side: int, channels: int) -> list[ConvCase]:
    """The fixed cases and `count` random ones, smallest first."""
    cases = list(FIXED_CONV)
    for _ in range(count):
        kh, kw = _draw(rng, 1, 4), _draw(rng, 1, 4)
        stride, padding = _draw(rng, 1, 3), _draw(rng, 0, 2)
        h = _draw(rng, max(1, kh - 2 * padding), side)
        w = _draw(rng, max(1, kw - 2 * padding), side)
        n, c_in, c_out = _draw(rng, 1, 3), _draw(rng, 1, channels), _draw(rng, 1, channels)
        cases.append(ConvCase(n, c_in, c_out, h, w, kh, kw, stride, padding))
    return sorted(cases, key=ConvCase.cost)


def _conv_tensors(rng: torch.Generator, case: ConvCase) -> tuple[torch.Tensor, ...]:
    x = torch.randn(case.x_shape, generator=rng, dtype=F64)
    weight = torch.randn(case.w_shape, generator=rng, dtype=F64)
    bias = torch.randn(case.c_out, generator=rng, dtype=F64)
    return x, weight, bias


@dataclass(frozen=True)
class PoolCase:
    """One max pooling layer: x (n, c, h, w), square windows of `kernel`, moved by `stride`."""

    n: int
    c: int
    h: int
    w: int
    kernel: int
    stride: int

    @property
    def x_shape(self) -> tuple[int, ...]:
        return (self.n, self.c, self.h, self.w)

    @property
    def out_shape(self) -> tuple[int, ...]:
        h_out = _size(self.h, self.kernel, self.stride, 0)
        return (self.n, self.c, h_out, _size(self.w, self.kernel, self.stride, 0))

    def cost(self) -> tuple[int, int]:
        return (self.n * self.c * self.h * self.w, self.kernel)

    def __str__(self) -> str:
        return f"x {fmt_shape(self.x_shape)}, kernel {self.kernel}, stride {self.stride}"


FIXED_POOL = (
    PoolCase(1, 1, 4, 4, 2, 2),  # the usual 2x2 pooling
    PoolCase(1, 2, 5, 5, 3, 1),  # overlapping windows
    PoolCase(2, 1, 5, 6, 2, 3),  # a stride that skips pixels, and a leftover column
    PoolCase(1, 1, 3, 3, 3, 3),  # one window over the whole image
)


def _pool_cases(rng: torch.Generator, count: int) -> list[PoolCase]:
    cases = list(FIXED_POOL)
    for _ in range(count):
        kernel, stride = _draw(rng, 1, 3), _draw(rng, 1, 3)
        h, w = _draw(rng, kernel, 9), _draw(rng, kernel, 9)
        cases.append(PoolCase(_draw(rng, 1, 3), _draw(rng, 1, 3), h, w, kernel, stride))
    return sorted(cases, key=PoolCase.cost)


# ------------------------------------------------------------------------------ shared checks


def _expect_shape(value: Any, *, name: str, shape: tuple[int, ...], how: str) -> torch.Tensor:
    """A tensor of `shape`; otherwise a failure that names the case and the size formula."""
    tensor = expect_tensor(value, name=name)
    if tuple(tensor.shape) != shape:
        raise CheckFailure(
            f"{name} returned shape {fmt_shape(tensor.shape)}, expected {fmt_shape(shape)}: {how}"
        )
    return tensor


def _expect_untouched(function: str, sent: list[Any], after: list[Any], names: list[str]) -> None:
    for label, before, now in zip(names, sent, after, strict=False):
        if type(now) is torch.Tensor and not torch.equal(before.cpu(), now.cpu()):
            raise CheckFailure(
                f"{function} modified its argument {label} in place; leave the inputs as they "
                "are and build new tensors (F.pad, torch.zeros, ...), since the caller still "
                f"needs {label}"
            )


def _matches(got: torch.Tensor, candidate: torch.Tensor) -> bool:
    got64 = got.detach().cpu().to(F64)
    return got64.shape == candidate.shape and torch.allclose(got64, candidate, 1e-6, 1e-9)


def _call(submission, function: str, args: list[Any], names: list[str]) -> Any:
    result, after = submission.call_with_inputs(function, *args)
    _expect_untouched(function, [a for a in args if isinstance(a, torch.Tensor)], after, names)
    return result


# -------------------------------------------------------------------------------- output_size


OUTPUT_SIZE_CASES = (  # (size, kernel, stride, padding): stride 1, then strides that divide or not
    (5, 3, 1, 0),
    (5, 3, 1, 1),
    (5, 1, 1, 0),
    (8, 3, 2, 1),
    (7, 3, 2, 1),
    (7, 2, 3, 0),
    (6, 3, 3, 0),
    (9, 4, 2, 2),
    (4, 4, 1, 0),
    (28, 5, 2, 2),
)


def test_output_size(submission, rng):
    """output_size follows (size + 2 * padding - kernel) // stride + 1"""
    cases = list(OUTPUT_SIZE_CASES)
    for _ in range(30):
        kernel, stride, padding = _draw(rng, 1, 7), _draw(rng, 1, 4), _draw(rng, 0, 3)
        cases.append((_draw(rng, max(1, kernel - 2 * padding), 40), kernel, stride, padding))
    for size, kernel, stride, padding in cases:
        got = submission.output_size(size, kernel, stride, padding)
        call = f"output_size({size}, {kernel}, {stride}, {padding})"
        if type(got) is not int:
            advice = "; use // (floor division), not /" if type(got) is float else ""
            raise CheckFailure(f"{call} should return a Python int, got {type_name(got)}{advice}")
        want = _size(size, kernel, stride, padding)
        if got != want:
            raise CheckFailure(
                f"{call} returned {got}, expected {want} = ({size} + 2*{padding} - {kernel}) // "
                f"{stride} + 1.\nHint: the window starts at 0 and moves by the stride while it "
                "still fits inside the padded axis; the last start is size + 2P - kernel, and "
                "the +1 counts the window at 0"
            )


# ---------------------------------------------------------------------------- conv2d forward


def _forward_hint(
    got: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, case: ConvCase
) -> str:
    """What a wrong forward result most likely did, read off a few tell-tale alternatives."""
    s, p = case.stride, case.padding
    if type(got) is torch.Tensor and tuple(got.shape) == case.out_shape:
        flipped = F.conv2d(x, weight.flip(2, 3), bias, s, p)
        if max(case.kh, case.kw) > 1 and _matches(got, flipped):
            return (
                "your output is a convolution with the kernel flipped; torch's conv2d (and this "
                "exercise) slides the kernel as it is, a cross-correlation: "
                "x_pad[n, c, i*S + u, j*S + v] * weight[k, c, u, v], no flip"
            )
        if _matches(got, F.conv2d(x, weight, None, s, p)):
            return "the bias is missing: add bias[k] to every output of channel k"
    return (
        "out[n, k, i, j] = bias[k] + sum over c, u, v of x_pad[n, c, i*S + u, j*S + v] * "
        "weight[k, c, u, v], where x_pad has P zeros on all four sides (F.pad(x, (P, P, P, P)))"
    )


def _check_forward(submission, function: str, cases: list[ConvCase], rng, device) -> None:
    for number, case in enumerate(cases, 1):
        x, weight, bias = _conv_tensors(rng, case)
        args = [x.to(device), weight.to(device), bias.to(device), case.stride, case.padding]
        got = _call(submission, function, args, ["x", "weight", "bias"])
        name = f"{function} for {case} (case {number} of {len(cases)}, smallest first)"
        how = (
            f"{case.shapes_formula()}\nHint: pad all four sides with P zeros "
            "(F.pad(x, (P, P, P, P))) and keep only windows that fit inside the padded image"
        )
        _expect_shape(got, name=name, shape=case.out_shape, how=how)
        expected = F.conv2d(x, weight, bias, case.stride, case.padding)
        try:
            assert_close(got, expected, name=name, dtype=F64, device=device, **FORWARD_TOL)
        except CheckFailure as failure:
            hint = _forward_hint(got, x, weight, bias, case)
            raise CheckFailure(f"{failure}\nHint: {hint}") from None


@pytest.mark.points(2)
def test_conv2d_loop_forward(submission, device, rng):
    """conv2d_loop matches torch's conv2d on small shapes, strides and paddings"""
    _check_forward(submission, "conv2d_loop", _conv_cases(rng, 7, 6, 3), rng, device)


@pytest.mark.points(2)
def test_conv2d_forward(submission, device, rng):
    """conv2d matches torch's conv2d on a sweep of shapes, strides and paddings"""
    _check_forward(submission, "conv2d", _conv_cases(rng, 30, 12, 4), rng, device)


# --------------------------------------------------------------------------- conv2d backward


def _backward_hints(grads: tuple[Any, ...], want: tuple[torch.Tensor, ...], case: ConvCase):
    """A hint for each of dx, dw, db, sharpened where a common mistake fits the numbers."""
    _, _, h_out, w_out = case.out_shape
    hints = [
        "dx_pad[n, c, i*S + u, j*S + v] collects dout[n, k, i, j] * weight[k, c, u, v] from "
        "every window covering it (add, windows overlap), then drop the border: "
        "dx = dx_pad[:, :, P:P + H, P:P + W]",
        "dw[k, c, u, v] = sum over n, i, j of dout[n, k, i, j] * x_pad[n, c, i*S + u, j*S + v]: "
        "no flip, and summed over the whole batch",
        "db[k] = dout[:, k].sum(): the bias is added once at every position of every image, "
        "so its gradient sums over the batch and all positions",
    ]
    dw, db = grads[1], grads[2]
    if type(db) is torch.Tensor and (
        _matches(db, want[2] / (case.n * h_out * w_out)) or _matches(db, want[2] / case.n)
    ):
        hints[2] = (
            "db looks averaged: db[k] = dout[:, k].sum(), a sum over the batch and all "
            "positions, not a mean, since the bias is added once at each of them"
        )
    if type(dw) is torch.Tensor and case.n > 1 and _matches(dw, want[1] / case.n):
        hints[1] = "dw looks averaged over the batch; " + hints[1]
    return hints


@pytest.mark.points(4)
def test_conv2d_backward(submission, device, rng):
    """conv2d_backward's dx, dw and db match autograd through torch's conv2d"""
    cases = _conv_cases(rng, 20, 10, 4)
    for number, case in enumerate(cases, 1):
        x, weight, bias = _conv_tensors(rng, case)
        dout = torch.randn(case.out_shape, generator=rng, dtype=F64)
        leaves = [t.clone().requires_grad_() for t in (x, weight, bias)]
        out = F.conv2d(*leaves, case.stride, case.padding)
        want = torch.autograd.grad(out, leaves, dout)
        args = [dout.to(device), x.to(device), weight.to(device), case.stride, case.padding]
        result = _call(submission, "conv2d_backward", args, ["dout", "x", "weight"])
        where = f"for {case} (case {number} of {len(cases)}, smallest first)"
        if type(result) is not tuple or len(result) != 3:
            what = type_name(result)
            if isinstance(result, tuple | list):
                what = f"a {what} of {len(result)}"
            raise CheckFailure(
                f"conv2d_backward should return a tuple (dx, dw, db), got {what} {where}"
            )
        hints = _backward_hints(result, want, case)
        shapes = (
            f"dx must have x's shape {fmt_shape(case.x_shape)}: cut the padding off with "
            "[:, :, P:P + H, P:P + W] (x[P:-P] would be empty when P is 0)",
            f"dw must have weight's shape {fmt_shape(case.w_shape)}",
            f"db must have one entry per output channel, ({case.c_out},)",
        )
        for label, got, expected, hint, shape in zip(
            ("dx", "dw", "db"), result, want, hints, shapes, strict=True
        ):
            name = f"conv2d_backward's {label} {where}"
            _expect_shape(got, name=name, shape=tuple(expected.shape), how=shape)
            expect_tensor(got, name=name, device=device)
            assert_gradient(got, expected, name=name, threshold=GRAD_THRESHOLD, hint=hint)


# -------------------------------------------------------------------------------- max pooling


def _pool_inputs(rng: torch.Generator, case: PoolCase, ties: bool) -> torch.Tensor:
    if ties:
        return torch.randint(0, 3, case.x_shape, generator=rng).to(F64)
    return torch.randn(case.x_shape, generator=rng, dtype=F64)


def _pool_how(case: PoolCase) -> str:
    return (
        "pooling has no padding, so "
        f"{_formula('H', case.h, case.kernel, case.stride, 0).replace('KH', 'K')} and "
        f"{_formula('W', case.w, case.kernel, case.stride, 0).replace('KW', 'K')}"
    )


@pytest.mark.points(1)
def test_maxpool2d_forward(submission, device, rng):
    """maxpool2d matches torch's max_pool2d on a sweep of shapes, kernels and strides"""
    cases = _pool_cases(rng, 20)
    for number, case in enumerate(cases, 1):
        x = _pool_inputs(rng, case, ties=False)
        got = _call(submission, "maxpool2d", [x.to(device), case.kernel, case.stride], ["x"])
        name = f"maxpool2d for {case} (case {number} of {len(cases)}, smallest first)"
        _expect_shape(got, name=name, shape=case.out_shape, how=_pool_how(case))
        assert_equal(
            got,
            F.max_pool2d(x, case.kernel, case.stride),
            name=name,
            dtype=F64,
            device=device,
            hint="out[n, c, i, j] is the max of x[n, c, i*S : i*S + K, j*S : j*S + K], "
            "one channel at a time",
        )


def _pool_grads(x: torch.Tensor, dout: torch.Tensor, case: PoolCase) -> dict[str, torch.Tensor]:
    """torch's gradient, and two wrong ones: to every element, and to every tied maximum."""
    leaf = x.clone().requires_grad_()
    (torch_grad,) = torch.autograd.grad(F.max_pool2d(leaf, case.kernel, case.stride), leaf, dout)
    windows = x.unfold(2, case.kernel, case.stride).unfold(3, case.kernel, case.stride)
    spread = torch.ones_like(windows) * dout[..., None, None]
    tied = (windows == windows.amax((-2, -1), keepdim=True)) * dout[..., None, None]
    wrong = {}
    for label, per_window in (("everywhere", spread), ("all maxima", tied)):
        total = torch.zeros_like(x)
        _, _, h_out, w_out = case.out_shape
        for i in range(h_out):
            for j in range(w_out):
                top, left = i * case.stride, j * case.stride
                total[:, :, top : top + case.kernel, left : left + case.kernel] += per_window[
                    :, :, i, j
                ]
        wrong[label] = total
    return {"torch": torch_grad, **wrong}


def _check_pool_backward(submission, device, rng, cases: list[PoolCase], ties: bool) -> None:
    for number, case in enumerate(cases, 1):
        x = _pool_inputs(rng, case, ties)
        dout = torch.randn(case.out_shape, generator=rng, dtype=F64)
        grads = _pool_grads(x, dout, case)
        args = [dout.to(device), x.to(device), case.kernel, case.stride]
        got = _call(submission, "maxpool2d_backward", args, ["dout", "x"])
        kind = "with tied values" if ties else "(no ties)"
        name = (
            f"maxpool2d_backward for {case} {kind} (case {number} of {len(cases)}, smallest first)"
        )
        _expect_shape(got, name=name, shape=case.x_shape, how="dx has the shape of x")
        hint = (
            "each dout[n, c, i, j] goes to the one element that was its window's maximum, and "
            "nowhere else; where windows overlap (stride < kernel), add up what an element gets "
            "(+= or scatter_add_, not =)"
        )
        if _matches(got, grads["everywhere"]):
            hint = "the gradient went to every element of each window; " + hint
        elif ties and case.kernel > 1 and _matches(got, grads["all maxima"]):
            hint = (
                "every element tied for a window's maximum got the gradient. torch gives it to "
                "the first maximum only, in row-major order (top row first, left to right): "
                "the one argmax over the flattened window returns"
            )
        expect_tensor(got, name=name, device=device)
        assert_gradient(got, grads["torch"], name=name, threshold=GRAD_THRESHOLD, hint=hint)


@pytest.mark.points(2)
def test_maxpool2d_backward(submission, device, rng):
    """maxpool2d_backward routes the gradient to each window's maximum, as autograd does"""
    _check_pool_backward(submission, device, rng, _pool_cases(rng, 20), ties=False)


@pytest.mark.points(1)
def test_maxpool2d_backward_ties(submission, device, rng):
    """with tied maxima, maxpool2d_backward picks the first in each window, as torch does"""
    cases = sorted((*FIXED_POOL, *_pool_cases(rng, 8)), key=PoolCase.cost)
    _check_pool_backward(submission, device, rng, cases, ties=True)


# ------------------------------------------------------------------------------------- the CNN

SPLIT_SEED = 0  # the train / held-out split is the same in every run
HELD_OUT = 360
TRAIN_SETTINGS = {"epochs": 8, "lr": 0.01}
TRAIN_TIMEOUT = 120.0  # seconds for the whole training run (about one with the reference)
MIN_ACCURACY = 0.9  # the reference reaches 0.95 to 0.98 across seeds
CNN_SHAPES = {
    "conv1.weight": (8, 1, 3, 3),
    "conv1.bias": (8,),
    "conv2.weight": (16, 8, 3, 3),
    "conv2.bias": (16,),
    "fc.weight": (10, 64),
    "fc.bias": (10,),
}


@functools.lru_cache(maxsize=1)
def _digits() -> dict[str, torch.Tensor]:
    """load_digits as (N, 1, 8, 8) images scaled to [0, 1], split once into train and held-out."""
    features, labels = digits()
    X = torch.tensor(features, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
    held_out, train = order[:HELD_OUT], order[HELD_OUT:]
    return {"X_train": X[train], "y_train": y[train], "X_test": X[held_out], "y_test": y[held_out]}


def _trusted_logits(state: dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The same CNN as the provided cnn_logits, built from torch's own layers."""
    h = F.conv2d(X, state["conv1.weight"], state["conv1.bias"], padding=1).relu()
    h = F.max_pool2d(h, 2, 2)
    h = F.conv2d(h, state["conv2.weight"], state["conv2.bias"], padding=1).relu()
    h = F.max_pool2d(h, 2, 2)
    return h.flatten(1) @ state["fc.weight"].T + state["fc.bias"]


def _expect_weights(value: Any, device: torch.device) -> dict[str, torch.Tensor]:
    if isinstance(value, Opaque) and value.type_name == "OrderedDict":
        raise CheckFailure("train_cnn returned an OrderedDict; return a plain dict {name: tensor}")
    if type(value) is not dict:
        raise CheckFailure(
            f"train_cnn should return a dict {{name: tensor}}, got {type_name(value)}"
        )
    if set(value) != set(CNN_SHAPES):
        raise CheckFailure(
            f"train_cnn returned the entries {sorted(map(str, value))}, expected "
            f"{list(CNN_SHAPES)}; leave the provided train_cnn as it is"
        )
    state = {}
    for name, shape in CNN_SHAPES.items():
        tensor = expect_tensor(
            value[name], name=f"train_cnn's {name!r}", shape=shape, device=device
        )
        if not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all()):
            raise CheckFailure(
                f"train_cnn's {name!r} holds NaN or inf (or is not floating point): training "
                "blew up, which points at a gradient from conv2d_backward or maxpool2d_backward"
            )
        state[name] = tensor.detach().cpu().to(F64)
    return state


def _show_feature_maps(metrics, state: dict[str, torch.Tensor], image: torch.Tensor) -> None:
    """Draw a held-out digit, two learned first-layer kernels and their maps: a picture only."""
    maps = F.conv2d(image[None], state["conv1.weight"], state["conv1.bias"], padding=1)[0]
    panels = [{"title": "x", "values": image[0]}]
    for j in (1, 2):
        panels.append({"title": f"k{j}", "values": state["conv1.weight"][j - 1, 0]})
        panels.append({"title": f"x*k{j}", "values": maps[j - 1]})
    caption = "your kernels on a digit"
    metrics.figure("conv1", "heatmap", {"panels": panels, "caption": caption})


@pytest.mark.points(3)
def test_cnn_learns_digits(submission, device, metrics, seed):
    """a CNN built from your layers learns the 8x8 digits: 90% right on held-out images"""
    data = _digits()
    value = submission.call_logged(
        "train_cnn",
        data["X_train"].to(device),
        data["y_train"].to(device),
        **TRAIN_SETTINGS,
        seed=seed % 1000,
        log=metrics.emit,
        timeout=TRAIN_TIMEOUT,
    )
    state = _expect_weights(value, device)
    _show_feature_maps(metrics, state, data["X_test"][0].to(F64))
    predictions = _trusted_logits(state, data["X_test"].to(F64)).argmax(1)
    accuracy = (predictions == data["y_test"]).double().mean().item()
    metrics.emit("held-out accuracy", accuracy, TRAIN_SETTINGS["epochs"])
    if accuracy < MIN_ACCURACY:
        raise CheckFailure(
            f"the weights train_cnn returned classify {accuracy:.1%} of {HELD_OUT} held-out "
            f"digits correctly, below the {MIN_ACCURACY:.0%} needed (a correct solution gets "
            "about 95%). The network trains with your conv2d and maxpool2d going forward and "
            "your conv2d_backward and maxpool2d_backward going back, so check that those pass"
        )


# ------------------------------------------------------------------------------- the source


LEARNER_FUNCTIONS = (
    "output_size", "conv2d_loop", "conv2d", "conv2d_backward", "maxpool2d", "maxpool2d_backward",
)  # fmt: skip
BACKWARD_FUNCTIONS = frozenset(("conv2d_backward", "maxpool2d_backward"))
READY_MADE = frozenset((
    "conv1d", "conv2d", "conv3d", "Conv1d", "Conv2d", "Conv3d", "LazyConv2d", "convolution",
    "_convolution", "conv_transpose2d", "ConvTranspose2d", "conv2d_input", "conv2d_weight",
    "convolution_backward", "max_pool1d", "max_pool2d", "max_pool3d", "MaxPool2d",
    "max_pool2d_with_indices", "adaptive_max_pool2d", "AdaptiveMaxPool2d",
    "fractional_max_pool2d", "max_unpool2d", "MaxUnpool2d", "mkldnn_convolution",
    "cudnn_convolution",
))  # fmt: skip
AUTOGRAD = frozenset(("backward", "autograd", "grad", "vjp", "jacobian", "requires_grad",
                      "requires_grad_", "enable_grad", "func"))  # fmt: skip


def _imported_aliases(tree: ast.Module) -> dict[str, str]:
    """Local names the file binds to torch's ready-made layers: {alias: 'torch....conv2d'}."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            for alias in node.names:
                if alias.name in READY_MADE:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    # A def of the learner's own with the same name replaces the import.
    return {name: full for name, full in aliases.items() if name not in LEARNER_FUNCTIONS}


def _shortcuts(tree: ast.Module) -> list[str]:
    """'line N, in f: what' for every ready-made layer (or autograd in a backward) in f."""
    aliases = _imported_aliases(tree)
    found: dict[tuple[int, str], str] = {}
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or function.name not in LEARNER_FUNCTIONS:
            continue
        for node in ast.walk(function):
            what = ""
            if isinstance(node, ast.Attribute) and node.attr in READY_MADE:
                what = f"{ast.unparse(node)} (a ready-made layer)"
            elif isinstance(node, ast.Name) and node.id in aliases:
                what = f"{node.id}, that is {aliases[node.id]} (a ready-made layer)"
            elif isinstance(node, ast.Constant) and node.value in READY_MADE:
                what = f"{node.value!r} (the name of a ready-made layer)"
            elif (
                function.name in BACKWARD_FUNCTIONS
                and isinstance(node, ast.Attribute)
                and node.attr in AUTOGRAD
            ):
                what = f"{ast.unparse(node)} (autograd)"
            if what:
                found.setdefault((getattr(node, "lineno", function.lineno), function.name), what)
    return [f"line {line}, in {name}: {what}" for (line, name), what in sorted(found.items())]


def test_writes_own_layers(submission, exercise, source_tree):
    """your functions run, and compute convolution and pooling without torch's ready-made layers"""
    x, weight = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3)
    bias = torch.zeros(1)
    submission.output_size(4, 3, 1, 0)
    submission.conv2d_loop(x, weight, bias, 1, 0)
    submission.conv2d(x, weight, bias, 1, 0)
    submission.conv2d_backward(torch.ones(1, 1, 2, 2), x, weight, 1, 0)
    submission.maxpool2d(x, 2, 2)
    submission.maxpool2d_backward(torch.ones(1, 1, 2, 2), x, 2, 2)
    found = _shortcuts(source_tree)
    if found:
        listed = "\n  ".join(found[:8])
        raise CheckFailure(
            f"{exercise.path} calls torch's own convolution, pooling or autograd where this "
            f"exercise asks you to write them:\n  {listed}\n"
            "Those functions are the exercise: sliding the window yourself is how you see what "
            "a convolution layer computes, and working out its backward pass by hand shows why "
            "its gradient is itself a convolution. F.pad, Tensor.unfold, einsum and the usual "
            "tensor operations are fine, and the provided code at the bottom may use anything; "
            "nn.Conv2d and F.max_pool2d are the right tools once this exercise is done"
        )
