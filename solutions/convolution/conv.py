"""Convolution layers from scratch: conv2d as loops and vectorised, its backward pass, max pooling.

Your task: write the six functions before the provided section, in this order.

1. `output_size` is the formula for how many positions a window takes along one axis;
2. `conv2d_loop` computes a convolution layer with plain Python loops, one output number at a time;
3. `conv2d` computes the same thing without Python loops over positions;
4. `conv2d_backward` gives the gradients of a convolution layer's inputs, weights and bias;
5. `maxpool2d` is max pooling;
6. `maxpool2d_backward` is its gradient.

Rules. Like torch.nn.functional.conv2d, every "convolution" here is a cross-correlation: the
kernel is slid over the image as it is, never flipped. Do not call torch's ready-made
convolution or pooling (nor autograd in the backward functions): a check reads this file.
Padding, views of windows, einsum and ordinary tensor operations are all fine. Never modify an
input in place, and keep results on the input's device and dtype. The provided code at the
bottom builds a small CNN from your layers and trains it on 8x8 images of digits.
Read lesson.md for the ideas, ask `mllab hint convolution` when stuck, and run
`mllab check convolution`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

Log = Callable[[str, float, int], None]


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many positions a window of length `kernel` takes along an axis of length `size`.

    Maths:  out = (size + 2 * padding - kernel) // stride + 1

    The axis is first padded by `padding` zeros at each end; the window starts at 0, moves
    `stride` steps at a time, and must fit entirely inside the padded axis.
    All arguments are Python ints (size + 2 * padding >= kernel >= 1, stride >= 1).
    Returns a Python int.
    """
    # TODO: count the window positions with the formula above and return a Python int. A
    #       window that would stick out past the padded end does not count.
    # BEGIN SOLUTION
    return (size + 2 * padding - kernel) // stride + 1
    # END SOLUTION


def conv2d_loop(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """A 2-D convolution layer (cross-correlation, as in torch) computed with Python loops.

    Maths:  x_pad = x with `padding` zeros added on all four sides of each image
            out[n, k, i, j] = bias[k] + sum over c, u, v of
                              x_pad[n, c, i * stride + u, j * stride + v] * weight[k, c, u, v]

    Shapes: x (N, C_in, H, W), weight (C_out, C_in, KH, KW), bias (C_out,), all one float dtype.
    Returns out (N, C_out, H_out, W_out) with H_out = output_size(H, KH, stride, padding) and
    W_out = output_size(W, KW, stride, padding), with x's dtype and device.
    """
    # TODO: pad the input on all four sides, then compute each output number on its own
    #       with Python loops over images, filters and output positions: one window of the
    #       padded input against one filter, plus that filter's bias. Slide the kernel as it
    #       is (no flip), and leave x unchanged.
    # BEGIN SOLUTION
    n_images, _, height, width = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = output_size(height, kh, stride, padding)
    w_out = output_size(width, kw, stride, padding)
    x_pad = F.pad(x, (padding, padding, padding, padding))
    out = x.new_zeros((n_images, c_out, h_out, w_out))
    for n in range(n_images):
        for k in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    top, left = i * stride, j * stride
                    window = x_pad[n, :, top : top + kh, left : left + kw]
                    out[n, k, i, j] = (window * weight[k]).sum() + bias[k]
    return out
    # END SOLUTION


def conv2d(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """The same convolution layer as conv2d_loop, without Python loops over positions.

    Maths:  as conv2d_loop, for every (n, k, i, j) at once. Written with the windows of the
            padded input, windows[n, c, i, j, u, v] = x_pad[n, c, i * stride + u, j * stride + v]
            of shape (N, C_in, H_out, W_out, KH, KW):
            out[n, k, i, j] = bias[k] + sum over c, u, v of
                              windows[n, c, i, j, u, v] * weight[k, c, u, v]

    Shapes: x (N, C_in, H, W), weight (C_out, C_in, KH, KW), bias (C_out,).
    Returns out (N, C_out, H_out, W_out) with x's dtype and device. Built from differentiable
    torch operations, so autograd can flow through it.
    """
    # TODO: compute the same numbers as conv2d_loop with no Python loop over positions:
    #       view every window of the padded input at once (no copy), contract the windows with
    #       the filters over channels and kernel offsets in one operation, and add each
    #       filter's bias to its whole output channel.
    # BEGIN SOLUTION
    kh, kw = weight.shape[2:]
    x_pad = F.pad(x, (padding, padding, padding, padding))
    windows = x_pad.unfold(2, kh, stride).unfold(3, kw, stride)
    out = torch.einsum("nchwuv,kcuv->nkhw", windows, weight)
    return out + bias[None, :, None, None]
    # END SOLUTION


def conv2d_backward(
    dout: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of a convolution layer, given dout = dLoss/dout.

    Maths (windows[n, c, i, j, u, v] = x_pad[n, c, i * stride + u, j * stride + v]):
            db[k]          = sum over n, i, j of dout[n, k, i, j]
            dw[k, c, u, v] = sum over n, i, j of dout[n, k, i, j] * windows[n, c, i, j, u, v]
            dx_pad[n, c, i * stride + u, j * stride + v] += dout[n, k, i, j] * weight[k, c, u, v]
                             (summed over k, and over every window that covers the element)
            dx = dx_pad without its padding border

    Shapes: dout (N, C_out, H_out, W_out), x (N, C_in, H, W), weight (C_out, C_in, KH, KW).
    Returns (dx, dw, db) with the shapes of x, weight and (C_out,), on x's device.
    """
    # TODO: compute the three gradients of the maths above. db and dw are sums over the
    #       whole batch and every position, never means. For dx, each window hands its share
    #       back onto the padded pixels it covered; windows overlap, so add, never overwrite,
    #       then cut the padding border off (it must also work when padding is 0).
    # BEGIN SOLUTION
    height, width = x.shape[2:]
    kh, kw = weight.shape[2:]
    h_out, w_out = dout.shape[2:]
    x_pad = F.pad(x, (padding, padding, padding, padding))
    windows = x_pad.unfold(2, kh, stride).unfold(3, kw, stride)
    db = dout.sum(dim=(0, 2, 3))
    dw = torch.einsum("nkhw,nchwuv->kcuv", dout, windows)
    # Each window hands dout * weight back to the pixels it covered; windows overlap, so add.
    dwindows = torch.einsum("nkhw,kcuv->nchwuv", dout, weight)
    dx_pad = torch.zeros_like(x_pad)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u, u + stride * h_out, stride)
            cols = slice(v, v + stride * w_out, stride)
            dx_pad[:, :, rows, cols] += dwindows[..., u, v]
    dx = dx_pad[:, :, padding : padding + height, padding : padding + width]
    return dx, dw, db
    # END SOLUTION


def maxpool2d(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """Max pooling: the largest value of each kernel x kernel window, channel by channel.

    Maths:  out[n, c, i, j] = max over u, v < kernel of x[n, c, i * stride + u, j * stride + v]
            (no padding: H_out = output_size(H, kernel, stride, 0), and likewise W_out)

    Shapes: x (N, C, H, W) -> out (N, C, H_out, W_out), with x's dtype and device.
    """
    # TODO: return the largest value of every window, channel by channel. Pooling has no
    #       padding, and x must keep its values.
    # BEGIN SOLUTION
    windows = x.unfold(2, kernel, stride).unfold(3, kernel, stride)
    return windows.amax(dim=(-2, -1))
    # END SOLUTION


def maxpool2d_backward(
    dout: torch.Tensor, x: torch.Tensor, kernel: int, stride: int
) -> torch.Tensor:
    """Gradient of max pooling with respect to x, given dout = dLoss/dout.

    Maths:  each window passes dout[n, c, i, j] to the one element of x that was its maximum;
            every other element of the window gets nothing from it. When windows overlap
            (stride < kernel), an element can be the maximum of several windows: add them up.
            Ties, as torch does: the first maximum of the window in row-major order (top row
            first, left to right) gets the gradient, which is what argmax over the flattened
            window picks.

    Shapes: dout (N, C, H_out, W_out), x (N, C, H, W). Returns dx with x's shape and device.
    """
    # TODO: send each dout entry to the one element of x that was its window's maximum; on
    #       a tie, to the first in row-major order, as torch does. Every other element gets
    #       nothing from that window. An element that won several overlapping windows
    #       collects from each of them: add, never overwrite. Start from zeros shaped like x.
    # BEGIN SOLUTION
    n_images, channels, height, width = x.shape
    h_out, w_out = dout.shape[2:]
    windows = x.unfold(2, kernel, stride).unfold(3, kernel, stride)
    first_max = windows.reshape(n_images, channels, h_out, w_out, kernel * kernel).argmax(-1)
    tops = torch.arange(h_out, device=x.device)[:, None] * stride
    lefts = torch.arange(w_out, device=x.device)[None, :] * stride
    rows = tops + first_max // kernel
    cols = lefts + first_max % kernel
    flat_index = (rows * width + cols).reshape(n_images, channels, -1)
    dx = torch.zeros(n_images, channels, height * width, dtype=dout.dtype, device=x.device)
    dx.scatter_add_(2, flat_index, dout.reshape(n_images, channels, -1))
    return dx.reshape(x.shape)
    # END SOLUTION


# ------------------------------------------------------------------------------ provided code
# A small CNN built from your layers, and its training loop. Leave it as it is: the checks load
# the weights train_cnn returns into a network of the same shape built from torch's own layers.

CNN_SHAPES = {
    "conv1.weight": (8, 1, 3, 3),
    "conv1.bias": (8,),
    "conv2.weight": (16, 8, 3, 3),
    "conv2.bias": (16,),
    "fc.weight": (10, 64),
    "fc.bias": (10,),
}


class Conv2dFunction(torch.autograd.Function):
    """Lets autograd run your conv2d forward and your conv2d_backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> Any:
        ctx.save_for_backward(x, weight)
        return conv2d(x, weight, bias, 1, 1)

    @staticmethod
    def backward(ctx: Any, dout: torch.Tensor) -> Any:
        x, weight = ctx.saved_tensors
        return conv2d_backward(dout.contiguous(), x, weight, 1, 1)


class MaxPool2dFunction(torch.autograd.Function):
    """Lets autograd run your maxpool2d and maxpool2d_backward (2 x 2 windows, stride 2)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> Any:
        ctx.save_for_backward(x)
        return maxpool2d(x, 2, 2)

    @staticmethod
    def backward(ctx: Any, dout: torch.Tensor) -> Any:
        (x,) = ctx.saved_tensors
        return maxpool2d_backward(dout.contiguous(), x, 2, 2)


def cnn_logits(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Class scores (N, 10) for images x (N, 1, 8, 8): two conv-ReLU-pool blocks, then linear."""
    h = Conv2dFunction.apply(x, params["conv1.weight"], params["conv1.bias"]).relu()
    h = MaxPool2dFunction.apply(h)  # (N, 8, 4, 4)
    h = Conv2dFunction.apply(h, params["conv2.weight"], params["conv2.bias"]).relu()
    h = MaxPool2dFunction.apply(h)  # (N, 16, 2, 2)
    return h.flatten(1) @ params["fc.weight"].T + params["fc.bias"]


def init_cnn(seed: int, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Starting weights: uniform in +-1/sqrt(fan_in), as torch's layers start; biases at 0."""
    generator = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in CNN_SHAPES.items():
        if name.endswith("bias"):
            params[name] = torch.zeros(shape)
        else:
            bound = 1 / math.prod(shape[1:]) ** 0.5
            params[name] = (torch.rand(shape, generator=generator) * 2 - 1) * bound
    return {name: p.to(device).requires_grad_() for name, p in params.items()}


def adam_step(
    params: dict[str, torch.Tensor],
    grads: dict[str, torch.Tensor],
    moments: dict[str, tuple[torch.Tensor, torch.Tensor]],
    lr: float,
    step: int,
) -> None:
    """One Adam update of every parameter, in place (step counts from 1).

    Written out because torch.optim's first step imports seconds' worth of torch's compiler.
    """
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    with torch.no_grad():
        for name, param in params.items():
            m, v = moments[name]
            m.mul_(beta1).add_(grads[name], alpha=1 - beta1)
            v.mul_(beta2).addcmul_(grads[name], grads[name], value=1 - beta2)
            m_hat = m / (1 - beta1**step)
            v_hat = v / (1 - beta2**step)
            param -= lr * m_hat / (v_hat.sqrt() + eps)


def train_cnn(
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 8,
    lr: float = 0.01,
    seed: int = 0,
    log: Log | None = None,
) -> dict[str, torch.Tensor]:
    """Train the CNN with Adam on images X (N, 1, 8, 8) float32 and labels y (N,) int64.

    Logs the training loss and accuracy of each epoch through log(name, value, step).
    Returns the trained weights as a plain dict {name: tensor} (shapes in CNN_SHAPES).
    """
    params = init_cnn(seed, X.device)
    moments = {name: (torch.zeros_like(p), torch.zeros_like(p)) for name, p in params.items()}
    generator = torch.Generator().manual_seed(seed)
    step = 0
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(y), generator=generator).to(X.device)
        total_loss, correct = 0.0, 0
        for batch in order.split(64):
            logits = cnn_logits(params, X[batch])
            loss = F.cross_entropy(logits, y[batch])
            grads = torch.autograd.grad(loss, list(params.values()))
            step += 1
            adam_step(params, dict(zip(params, grads, strict=True)), moments, lr, step)
            total_loss += loss.item() * len(batch)
            correct += int((logits.argmax(1) == y[batch]).sum())
        if log is not None:
            log("train loss", total_loss / len(y), epoch)
            log("train accuracy", correct / len(y), epoch)
    return {name: p.detach().clone() for name, p in params.items()}
