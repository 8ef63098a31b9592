"""Expect failing: output_size, conv2d_loop_forward
Mistake: output_size counts the window starts with range(0, size + 2P - kernel, stride), whose
end is exclusive, so the last window is lost whenever it ends exactly on the padded edge (and a
kernel as large as the image gives no output at all). With stride 2 it is right about half the
time, which makes it easy to miss with a single test.

Everything else comes from solutions/convolution/conv.py.
"""


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many positions a window of length `kernel` takes along an axis of length `size`."""
    return len(range(0, size + 2 * padding - kernel, stride))
