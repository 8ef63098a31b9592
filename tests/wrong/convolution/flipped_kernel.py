"""Expect failing: conv2d_loop_forward
Mistake: conv2d_loop flips the kernel before sliding it, the convolution of signal processing
textbooks. Deep learning libraries (torch's conv2d included) compute a cross-correlation and
never flip; the outputs differ whenever the kernel is not symmetric.

Everything else comes from solutions/convolution/conv.py.
"""

import torch
import torch.nn.functional as F


def conv2d_loop(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """A 2-D convolution layer computed with Python loops."""
    n_images, _, height, width = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = output_size(height, kh, stride, padding)
    w_out = output_size(width, kw, stride, padding)
    x_pad = F.pad(x, (padding, padding, padding, padding))
    flipped = weight.flip(2, 3)
    out = x.new_zeros((n_images, c_out, h_out, w_out))
    for n in range(n_images):
        for k in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    top, left = i * stride, j * stride
                    window = x_pad[n, :, top : top + kh, left : left + kw]
                    out[n, k, i, j] = (window * flipped[k]).sum() + bias[k]
    return out
