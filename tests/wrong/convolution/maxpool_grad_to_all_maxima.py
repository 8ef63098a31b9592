"""Expect failing: maxpool2d_backward_ties
Mistake: maxpool2d_backward builds a mask window == window.max() and sends dout through it.
That is right while the values are all different, but where several elements tie for the
maximum each of them gets the whole gradient, instead of only the first, as torch does.

Everything else comes from solutions/convolution/conv.py.
"""

import torch


def maxpool2d_backward(
    dout: torch.Tensor, x: torch.Tensor, kernel: int, stride: int
) -> torch.Tensor:
    """Gradient of max pooling with respect to x, given dout = dLoss/dout."""
    h_out, w_out = dout.shape[2:]
    windows = x.unfold(2, kernel, stride).unfold(3, kernel, stride)
    is_max = windows == windows.amax(dim=(-2, -1), keepdim=True)
    dx = torch.zeros_like(x)
    for u in range(kernel):
        for v in range(kernel):
            rows = slice(u, u + stride * h_out, stride)
            cols = slice(v, v + stride * w_out, stride)
            dx[:, :, rows, cols] += is_max[..., u, v] * dout
    return dx
