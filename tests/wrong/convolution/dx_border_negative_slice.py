"""Expect failing: conv2d_backward
Mistake: the padding border is cut off dx_pad with [P:-P], the usual idiom for "drop P on each
side". With P = 0 the slice 0:-0 is 0:0, which is empty, so dx has no rows at all; it works
for every padded layer (the CNN's included) and breaks only on unpadded ones.

Everything else comes from solutions/convolution/conv.py.
"""

import torch
import torch.nn.functional as F


def conv2d_backward(
    dout: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of a convolution layer, given dout = dLoss/dout."""
    kh, kw = weight.shape[2:]
    h_out, w_out = dout.shape[2:]
    x_pad = F.pad(x, (padding, padding, padding, padding))
    windows = x_pad.unfold(2, kh, stride).unfold(3, kw, stride)
    db = dout.sum(dim=(0, 2, 3))
    dw = torch.einsum("nkhw,nchwuv->kcuv", dout, windows)
    dwindows = torch.einsum("nkhw,kcuv->nchwuv", dout, weight)
    dx_pad = torch.zeros_like(x_pad)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u, u + stride * h_out, stride)
            cols = slice(v, v + stride * w_out, stride)
            dx_pad[:, :, rows, cols] += dwindows[..., u, v]
    dx = dx_pad[:, :, padding:-padding, padding:-padding]
    return dx, dw, db
