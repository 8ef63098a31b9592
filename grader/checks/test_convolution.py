"""Checks for the convolution exercise: output sizes, conv2d (loops, vectorised, backward),
max pooling forward and backward, a small CNN on the digits, and no ready-made layers.

The sweeps draw many shapes, strides and paddings from the check's seed and try them from the
smallest to the largest, so the first failure reported is the smallest case that fails.
"""

import functools
import math
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F

from grader import kit
from grader.kit import Mistake

pytestmark = pytest.mark.exercise("convolution")

F64 = torch.float64
FORWARD_TOL = {"rtol": 1e-8, "atol": 1e-10}
GRAD_THRESHOLD = 1e-7  # CS231n's relative error; float64 sums stay near 1e-15
FORWARD_RULE = (
    "out[n, k, i, j] = bias[k] + sum over c, u, v of x_pad[n, c, i*S + u, j*S + v] * "
    "weight[k, c, u, v], where x_pad has P zeros on all four sides"
)
POOL_BACKWARD_RULE = (
    "each dout[n, c, i, j] goes to the one element that was its window's maximum, and nowhere "
    "else; where windows overlap (stride < kernel), an element adds up what it gets from each"
)

# The functions learners write, and what they must not call there.
LEARNER_FUNCTIONS = {"output_size", "conv2d_loop", "conv2d", "conv2d_backward", "maxpool2d",
                     "maxpool2d_backward"}  # fmt: skip
KERNELS = (
    "conv1d", "conv2d", "conv3d", "convolution", "_convolution", "conv_transpose2d",
    "convolution_backward", "max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices",
    "adaptive_max_pool2d", "fractional_max_pool2d", "max_unpool2d", "mkldnn_convolution",
    "cudnn_convolution",
)  # fmt: skip
LAYERS = ("Conv1d", "Conv2d", "Conv3d", "LazyConv2d", "ConvTranspose2d", "MaxPool2d",
          "AdaptiveMaxPool2d", "MaxUnpool2d")  # fmt: skip
READY_MADE = kit.Shortcuts(
    "a ready-made layer",
    names={f"{where}.{name}" for name in KERNELS for where in (
        "torch", "torch.nn.functional", "torch.ops.aten", "torch._C._nn",
        "torch._C._VariableFunctions")}
    | {f"torch.nn.{name}" for name in LAYERS}
    | {"torch.nn.grad", "torch.nn.modules.conv", "torch.nn.modules.pooling"},
    functions=LEARNER_FUNCTIONS,
)  # fmt: skip
AUTOGRAD = kit.Shortcuts(
    "autograd",
    names={"torch.autograd", "torch.func", "torch.enable_grad"},
    methods={"backward", "grad", "requires_grad", "requires_grad_"},
    functions={"conv2d_backward", "maxpool2d_backward"},
)


# -------------------------------------------------------------------------------- the cases
def _draw(rng: torch.Generator, low: int, high: int) -> int:
    """A random int in [low, high], both ends included."""
    return int(torch.randint(low, high + 1, (1,), generator=rng))


def _size(size: int, kernel: int, stride: int, padding: int) -> int:
    # Counts the window's starting positions (not output_size's formula: a release ships this).
    return len(range(0, size + 2 * padding - kernel + 1, stride))


@dataclass(frozen=True)
class Case:
    """One layer's shapes: x (n, c_in, h, w) and a kernel (c_out, c_in, kh, kw) moved by `stride`
    over x padded by `padding`; a max pooling case has square windows and c_out = c_in."""

    n: int
    c_in: int
    c_out: int
    h: int
    w: int
    kh: int
    kw: int
    stride: int
    padding: int = 0
    pool: bool = False

    @property
    def x_shape(self) -> tuple[int, ...]:
        return (self.n, self.c_in, self.h, self.w)

    @property
    def w_shape(self) -> tuple[int, ...]:
        return (self.c_out, self.c_in, self.kh, self.kw)

    @property
    def out_shape(self) -> tuple[int, ...]:
        h_out = _size(self.h, self.kh, self.stride, self.padding)
        return (self.n, self.c_out, h_out, _size(self.w, self.kw, self.stride, self.padding))

    def cost(self) -> tuple[int, int]:
        work = 0 if self.pool else self.c_in * self.kh * self.kw * math.prod(self.out_shape)
        tie = self.kh if self.pool else self.stride + self.padding
        return (work + math.prod(self.x_shape), tie)

    def formulas(self) -> str:
        """output_size's formula worked out along each axis, for messages about shapes."""
        s, p, found = self.stride, self.padding, []
        for axis, size, kernel in (("H", self.h, self.kh), ("W", self.w, self.kw)):
            k = "K" if self.pool else f"K{axis}"
            found.append(f"{axis}_out = ({axis} + 2P - {k}) // S + 1 = ({size} + 2*{p} - "
                         f"{kernel}) // {s} + 1 = {_size(size, kernel, s, p)}")  # fmt: skip
        return " and ".join(found)

    def __str__(self) -> str:
        if self.pool:
            return f"x {kit.fmt_shape(self.x_shape)}, kernel {self.kh}, stride {self.stride}"
        return (f"x {kit.fmt_shape(self.x_shape)}, weight {kit.fmt_shape(self.w_shape)}, "
                f"stride {self.stride}, padding {self.padding}")  # fmt: skip


def _pool(n: int, c: int, h: int, w: int, kernel: int, stride: int) -> Case:
    return Case(n, c, c, h, w, kernel, kernel, stride, pool=True)


# Edge cases every sweep includes: the lesson's 5x5 image with a 3x3 filter, a 1x1 convolution,
# padding wider than the kernel, a kernel as large as the image, and a stride that skips pixels.
FIXED_CONV = (Case(1, 1, 1, 5, 5, 3, 3, 1, 0), Case(1, 3, 2, 4, 4, 1, 1, 1, 0),
              Case(1, 1, 2, 4, 5, 1, 1, 2, 2), Case(2, 2, 1, 3, 4, 3, 4, 2, 0),
              Case(1, 2, 2, 7, 7, 2, 2, 3, 1))  # fmt: skip
FIXED_POOL = (
    _pool(1, 1, 4, 4, 2, 2),  # the usual 2x2 pooling
    _pool(1, 2, 5, 5, 3, 1),  # overlapping windows
    _pool(2, 1, 5, 6, 2, 3),  # a stride that skips pixels, and a leftover column
    _pool(1, 1, 3, 3, 3, 3),  # one window over the whole image
)


def _conv_cases(rng: torch.Generator, count: int, side: int, channels: int) -> list[Case]:
    """The fixed cases and `count` random ones, smallest first."""
    cases = list(FIXED_CONV)
    for _ in range(count):
        kh, kw = _draw(rng, 1, 4), _draw(rng, 1, 4)
        stride, padding = _draw(rng, 1, 3), _draw(rng, 0, 2)
        h = _draw(rng, max(1, kh - 2 * padding), side)
        w = _draw(rng, max(1, kw - 2 * padding), side)
        n, c_in, c_out = _draw(rng, 1, 3), _draw(rng, 1, channels), _draw(rng, 1, channels)
        cases.append(Case(n, c_in, c_out, h, w, kh, kw, stride, padding))
    return sorted(cases, key=Case.cost)


def _pool_cases(rng: torch.Generator, count: int) -> list[Case]:
    cases = list(FIXED_POOL)
    for _ in range(count):
        kernel, stride = _draw(rng, 1, 3), _draw(rng, 1, 3)
        h, w = _draw(rng, kernel, 9), _draw(rng, kernel, 9)
        cases.append(_pool(_draw(rng, 1, 3), _draw(rng, 1, 3), h, w, kernel, stride))
    return sorted(cases, key=Case.cost)


def _conv_tensors(rng: torch.Generator, case: Case, dout: bool = False) -> tuple:
    """x, weight, bias (and with `dout`, an upstream gradient) for one case, in float64."""
    shapes = (case.x_shape, case.w_shape, (case.c_out,)) + ((case.out_shape,) if dout else ())
    return tuple(torch.randn(shape, generator=rng, dtype=F64) for shape in shapes)


def _numbered(cases: list[Case]) -> list[tuple[Case, str]]:
    """Each case with its place in the sweep, as failures name it."""
    return [(c, f"(case {i} of {len(cases)}, smallest first)") for i, c in enumerate(cases, 1)]


def _expect_shape(value, *, name: str, shape: tuple[int, ...], how: str, device=None) -> None:
    """A tensor of `shape` (and `device`); else a failure that names the case and the rule `how`."""
    tensor = kit.expect_tensor(value, name=name)
    if tuple(tensor.shape) != shape:
        shapes = f"{kit.fmt_shape(tensor.shape)}, expected {kit.fmt_shape(shape)}"
        raise kit.CheckFailure(f"{name} returned shape {shapes}: {how}")
    kit.expect_tensor(value, name=name, device=device)


# -------------------------------------------------------------------------------- output_size
OUTPUT_SIZE_CASES = (  # (size, kernel, stride, padding): stride 1, then strides that divide or not
    (5, 3, 1, 0), (5, 3, 1, 1), (5, 1, 1, 0), (8, 3, 2, 1), (7, 3, 2, 1), (7, 2, 3, 0),
    (6, 3, 3, 0), (9, 4, 2, 2), (4, 4, 1, 0), (28, 5, 2, 2),
)  # fmt: skip


def test_output_size(submission, rng):
    """output_size follows (size + 2 * padding - kernel) // stride + 1"""
    cases = list(OUTPUT_SIZE_CASES)
    for _ in range(30):
        kernel, stride, padding = _draw(rng, 1, 7), _draw(rng, 1, 4), _draw(rng, 0, 3)
        cases.append((_draw(rng, max(1, kernel - 2 * padding), 40), kernel, stride, padding))
    for size, kernel, stride, padding in cases:
        call = f"output_size({size}, {kernel}, {stride}, {padding})"
        got = submission.output_size(size, kernel, stride, padding)
        if type(got) is float:
            raise kit.CheckFailure(f"{call} should return a Python int, got float; the division "
                                   "that counts the strides is a floor division (//)")  # fmt: skip
        got, want = kit.integer(got, call), _size(size, kernel, stride, padding)
        span = size + 2 * padding
        if got != want:
            hint = kit.likely_mistake(got, [Mistake(
                "the last window is lost: it ends exactly on the padded edge, and the starts go "
                "up to size + 2P - kernel included", len(range(0, span - kernel, stride)))],
                default="the window starts at 0 and moves by the stride while it still fits "
                "inside the padded axis; the last start is size + 2P - kernel, and the +1 "
                "counts the window at 0")  # fmt: skip
            raise kit.CheckFailure(
                f"{call} returned {got}, expected {want} = ({size} + 2*{padding} - {kernel}) // "
                f"{stride} + 1.\nHint: {hint}"
            )


# ---------------------------------------------------------------------------- conv2d forward
def _check_forward(submission, function: str, cases: list[Case], rng, device) -> None:
    for case, where in _numbered(cases):
        x, weight, bias = _conv_tensors(rng, case)
        s, p = case.stride, case.padding
        got = kit.call_unchanged(submission, function, x.to(device), weight.to(device),
                                 bias.to(device), s, p, names=("x", "weight", "bias"))  # fmt: skip
        name = f"{function} for {case} {where}"
        how = (f"{case.formulas()}\nHint: pad all four sides with P zeros and keep only the "
               "windows that fit inside the padded image")  # fmt: skip
        _expect_shape(got, name=name, shape=case.out_shape, how=how)
        flipped = F.conv2d(x, weight.flip(2, 3), bias, s, p) if max(case.kh, case.kw) > 1 else None
        mistakes = [
            Mistake("your output is a convolution with the kernel flipped; torch's conv2d (and "
                    "this exercise) slides the kernel as it is, a cross-correlation", flipped),
            Mistake("the bias is missing: bias[k] is added to every output of channel k",
                    F.conv2d(x, weight, None, s, p)),
        ]  # fmt: skip
        kit.expect_close(got, F.conv2d(x, weight, bias, s, p), name=name, hint=FORWARD_RULE,
                         mistakes=mistakes, dtype=F64, device=device, **FORWARD_TOL)  # fmt: skip


@pytest.mark.points(2)
def test_conv2d_loop_forward(submission, device, rng):
    """conv2d_loop matches torch's conv2d on small shapes, strides and paddings"""
    _check_forward(submission, "conv2d_loop", _conv_cases(rng, 7, 6, 3), rng, device)


@pytest.mark.points(2)
def test_conv2d_forward(submission, device, rng):
    """conv2d matches torch's conv2d on a sweep of shapes, strides and paddings"""
    _check_forward(submission, "conv2d", _conv_cases(rng, 30, 12, 4), rng, device)


# --------------------------------------------------------------------------- conv2d backward
@pytest.mark.points(4)
def test_conv2d_backward(submission, device, rng):
    """conv2d_backward's dx, dw and db match autograd through torch's conv2d"""
    for case, where in _numbered(_conv_cases(rng, 20, 10, 4)):
        x, weight, bias, dout = _conv_tensors(rng, case, dout=True)
        conv = functools.partial(F.conv2d, stride=case.stride, padding=case.padding)
        want_dx, want_dw, want_db = kit.autograd_gradients(conv, (x, weight, bias), upstream=dout)
        result = kit.call_unchanged(
            submission, "conv2d_backward", dout.to(device), x.to(device), weight.to(device),
            case.stride, case.padding, names=("dout", "x", "weight"),
        )  # fmt: skip
        got = kit.unpack(result, "conv2d_backward", context=where, dx=kit.anything,
                         dw=kit.anything, db=kit.anything)  # fmt: skip
        n, positions = case.n, case.out_shape[2] * case.out_shape[3]
        empty = case.padding == 0 and 0 in tuple(getattr(got[0], "shape", (1,)))[2:]
        parts = (
            ("dx", want_dx, "dx_pad[n, c, i*S + u, j*S + v] collects dout[n, k, i, j] * "
             "weight[k, c, u, v] from every window covering it (add: windows overlap), then "
             "the P-wide padding border is dropped",
             "with padding 0, a slice such as P:-P is 0:0, which is empty: cut the border so "
             "that it also works when P is 0" if empty else
             "dx has x's shape: drop exactly the P-wide padding border on each side", []),
            ("dw", want_dw, "dw[k, c, u, v] = sum over n, i, j of dout[n, k, i, j] * "
             "x_pad[n, c, i*S + u, j*S + v]: no flip, and summed over the whole batch",
             "dw has weight's shape", [
                 Mistake(f"dw looks averaged over the batch of {n}: it is a sum",
                         want_dw / n if n > 1 else None),
                 Mistake("dw is flipped: the window is read as it is, no flip",
                         want_dw.flip(2, 3) if max(case.kh, case.kw) > 1 else None)]),
            ("db", want_db, "db[k] sums dout[n, k, i, j] over the batch and every position: the "
             "bias is added once at each of them", "db has one entry per output channel", [
                 Mistake("db looks averaged: it is a sum over the batch and all positions, not "
                         "a mean, since the bias is added once at each of them",
                         want_db / (n * positions)),
                 Mistake("db looks averaged over the batch: it is a sum over the batch and all "
                         "positions, since the bias is added once at each of them",
                         want_db / n if n > 1 else None)]),
        )  # fmt: skip
        for value, (label, want, rule, shape_rule, mistakes) in zip(got, parts, strict=True):
            name = f"conv2d_backward's {label} for {case} {where}"
            _expect_shape(value, name=name, shape=tuple(want.shape), how=shape_rule, device=device)
            hint = kit.likely_mistake(value, mistakes, default=rule, expected=want)
            kit.assert_gradient(value, want, name=name, threshold=GRAD_THRESHOLD, hint=hint)


# -------------------------------------------------------------------------------- max pooling
@pytest.mark.points(1)
def test_maxpool2d_forward(submission, device, rng):
    """maxpool2d matches torch's max_pool2d on a sweep of shapes, kernels and strides"""
    for case, where in _numbered(_pool_cases(rng, 20)):
        x = torch.randn(case.x_shape, generator=rng, dtype=F64)
        got = kit.call_unchanged(submission, "maxpool2d", x.to(device), case.kh, case.stride,
                                 names=("x",))  # fmt: skip
        name = f"maxpool2d for {case} {where}"
        how = f"pooling has no padding, so {case.formulas()}"
        _expect_shape(got, name=name, shape=case.out_shape, how=how)
        kit.assert_equal(got, F.max_pool2d(x, case.kh, case.stride), name=name, dtype=F64,
                         device=device, hint="out[n, c, i, j] is the max of x[n, c, i*S : i*S "
                         "+ K, j*S : j*S + K], one channel at a time")  # fmt: skip


def _spread(x: torch.Tensor, per_window: torch.Tensor, case: Case) -> torch.Tensor:
    """Each window's (K, K) share added back onto x's positions: a gradient built by hand."""
    n, c, h_out, w_out, k, _ = per_window.shape
    columns = per_window.permute(0, 1, 4, 5, 2, 3).reshape(n, c * k * k, h_out * w_out)
    return F.fold(columns, x.shape[2:], k, stride=case.stride)


def _check_pool_backward(submission, device, rng, cases: list[Case], ties: bool) -> None:
    for case, where in _numbered(cases):
        x = (torch.randint(0, 3, case.x_shape, generator=rng).to(F64) if ties
             else torch.randn(case.x_shape, generator=rng, dtype=F64))  # fmt: skip
        dout = torch.randn(case.out_shape, generator=rng, dtype=F64)
        pool = functools.partial(F.max_pool2d, kernel_size=case.kh, stride=case.stride)
        (want,) = kit.autograd_gradients(pool, (x,), upstream=dout)
        got = kit.call_unchanged(submission, "maxpool2d_backward", dout.to(device), x.to(device),
                                 case.kh, case.stride, names=("dout", "x"))  # fmt: skip
        kind = "with tied values" if ties else "(no ties)"
        name = f"maxpool2d_backward for {case} {kind} {where}"
        _expect_shape(
            got, name=name, shape=case.x_shape, how="dx has the shape of x", device=device
        )
        windows = x.unfold(2, case.kh, case.stride).unfold(3, case.kh, case.stride)
        upstream = dout[..., None, None]
        tied = windows == windows.amax((-2, -1), keepdim=True)
        hint = kit.likely_mistake(got, [
            Mistake("the gradient went to every element of each window; " + POOL_BACKWARD_RULE,
                    functools.partial(_spread, x, torch.ones_like(windows) * upstream, case)),
            Mistake("every element tied for a window's maximum got the gradient. torch gives it "
                    "to the first maximum only, in row-major order (top row first, left to "
                    "right): the one argmax over the flattened window returns",
                    _spread(x, tied * upstream, case) if ties and case.kh > 1 else None),
        ], default=POOL_BACKWARD_RULE, expected=want)  # fmt: skip
        kit.assert_gradient(got, want, name=name, threshold=GRAD_THRESHOLD, hint=hint)


@pytest.mark.points(2)
def test_maxpool2d_backward(submission, device, rng):
    """maxpool2d_backward routes the gradient to each window's maximum, as autograd does"""
    _check_pool_backward(submission, device, rng, _pool_cases(rng, 20), ties=False)


@pytest.mark.points(1)
def test_maxpool2d_backward_ties(submission, device, rng):
    """with tied maxima, maxpool2d_backward picks the first in each window, as torch does"""
    cases = sorted((*FIXED_POOL, *_pool_cases(rng, 8)), key=Case.cost)
    _check_pool_backward(submission, device, rng, cases, ties=True)


# ------------------------------------------------------------------------------------- the CNN
SPLIT_SEED = 0  # the train / held-out split is the same in every run
HELD_OUT = 360
TRAIN_SETTINGS = {"epochs": 8, "lr": 0.01}
TRAIN_TIMEOUT = 120.0  # seconds for the whole training run (about one with the reference)
MIN_ACCURACY = 0.9  # the reference reaches 0.95 to 0.98 across seeds
CNN_SHAPES = {"conv1.weight": (8, 1, 3, 3), "conv1.bias": (8,), "conv2.weight": (16, 8, 3, 3),
              "conv2.bias": (16,), "fc.weight": (10, 64), "fc.bias": (10,)}  # fmt: skip


@functools.lru_cache(maxsize=1)
def _digits() -> dict[str, torch.Tensor]:
    """load_digits as (N, 1, 8, 8) images scaled to [0, 1], split once into train and held-out."""
    X_train, y_train, X_test, y_test = kit.digits_split(HELD_OUT, seed=SPLIT_SEED)
    images = (-1, 1, 8, 8)
    return {"X_train": X_train.reshape(images), "y_train": y_train,
            "X_test": X_test.reshape(images), "y_test": y_test}  # fmt: skip


def _trusted_logits(state: dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The same CNN as the provided cnn_logits, built from torch's own layers."""
    h = F.conv2d(X, state["conv1.weight"], state["conv1.bias"], padding=1).relu()
    h = F.max_pool2d(h, 2, 2)
    h = F.conv2d(h, state["conv2.weight"], state["conv2.bias"], padding=1).relu()
    h = F.max_pool2d(h, 2, 2)
    return h.flatten(1) @ state["fc.weight"].T + state["fc.bias"]


def _show_feature_maps(metrics, state: dict[str, torch.Tensor], image: torch.Tensor) -> None:
    """Draw a held-out digit, two learned first-layer kernels and their maps: a picture only."""
    maps = F.conv2d(image[None], state["conv1.weight"], state["conv1.bias"], padding=1)[0]
    panels = [{"title": "x", "values": image[0]}]
    for j in (1, 2):
        panels.append({"title": f"k{j}", "values": state["conv1.weight"][j - 1, 0]})
        panels.append({"title": f"x*k{j}", "values": maps[j - 1]})
    metrics.figure("conv1", "heatmap", {"panels": panels, "caption": "your kernels on a digit"})


@pytest.mark.points(3)
def test_cnn_learns_digits(submission, device, metrics, seed):
    """a CNN built from your layers learns the 8x8 digits: 90% right on held-out images"""
    data = _digits()
    value = submission.call_logged(
        "train_cnn", data["X_train"].to(device), data["y_train"].to(device), **TRAIN_SETTINGS,
        seed=seed % 1000, log=metrics.emit, timeout=TRAIN_TIMEOUT,
    )  # fmt: skip
    like = {name: torch.empty(shape) for name, shape in CNN_SHAPES.items()}
    value = kit.expect_weights(value, like, what="train_cnn's result", device=device,
                               restore="leave the provided train_cnn as it is")  # fmt: skip
    state = {name: value[name].detach().cpu().to(F64) for name in CNN_SHAPES}
    for name, tensor in state.items():
        if not bool(torch.isfinite(tensor).all()):
            raise kit.CheckFailure(
                f"train_cnn's {name!r} holds NaN or inf: training blew up, which points at a "
                "gradient from conv2d_backward or maxpool2d_backward"
            )
    _show_feature_maps(metrics, state, data["X_test"][0].to(F64))
    predictions = _trusted_logits(state, data["X_test"].to(F64)).argmax(1)
    accuracy = (predictions == data["y_test"]).double().mean().item()
    metrics.emit("held-out accuracy", accuracy, TRAIN_SETTINGS["epochs"])
    if accuracy < MIN_ACCURACY:
        raise kit.CheckFailure(
            f"the weights train_cnn returned classify {accuracy:.1%} of {HELD_OUT} held-out "
            f"digits correctly, below the {MIN_ACCURACY:.0%} needed (a correct solution gets "
            "about 95%). The network trains with your conv2d and maxpool2d going forward and "
            "your conv2d_backward and maxpool2d_backward going back, so check that those pass"
        )


# ------------------------------------------------------------------------------- the source
VALUE_CHECKS = ("output_size", "conv2d_loop_forward", "conv2d_forward", "conv2d_backward",
                "maxpool2d_forward", "maxpool2d_backward")  # fmt: skip
ADVICE = (
    "Those functions are the exercise: sliding the window yourself is how you see what a "
    "convolution layer computes, and working out its backward pass by hand shows why its "
    "gradient is itself a convolution. F.pad, Tensor.unfold, einsum and the usual tensor "
    "operations are fine, and the provided code at the bottom may use anything; nn.Conv2d and "
    "F.max_pool2d are the right tools once this exercise is done"
)


@pytest.mark.needs_passing(*VALUE_CHECKS)
def test_writes_own_layers(submission, exercise, source_tree):
    """your functions run, and compute convolution and pooling without torch's ready-made layers"""
    x, weight = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3)
    submission.output_size(4, 3, 1, 0)
    submission.conv2d_loop(x, weight, torch.zeros(1), 1, 0)
    submission.conv2d(x, weight, torch.zeros(1), 1, 0)
    submission.conv2d_backward(torch.ones(1, 1, 2, 2), x, weight, 1, 0)
    submission.maxpool2d(x, 2, 2)
    submission.maxpool2d_backward(torch.ones(1, 1, 2, 2), x, 2, 2)
    kit.expect_no_shortcuts(source_tree, exercise.path, READY_MADE, AUTOGRAD, advice=ADVICE)
