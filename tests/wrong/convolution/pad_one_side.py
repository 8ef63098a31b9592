"""Expect failing: conv2d_forward, cnn_learns_digits
Mistake: conv2d pads only the top and the left of each image, F.pad(x, (P, 0, P, 0)), as if
padding meant "shift the image by P". The output loses a row and a column of windows, so its
shape is wrong, and the CNN's layers no longer fit together.

Everything else comes from solutions/convolution/conv.py.
"""

import torch
import torch.nn.functional as F


def conv2d(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """The same convolution layer as conv2d_loop, without Python loops over positions."""
    kh, kw = weight.shape[2:]
    x_pad = F.pad(x, (padding, 0, padding, 0))
    windows = x_pad.unfold(2, kh, stride).unfold(3, kw, stride)
    out = torch.einsum("nchwuv,kcuv->nkhw", windows, weight)
    return out + bias[None, :, None, None]
