"""Expect failing: minibatches_cover_each_example
Mistake: minibatches cuts only whole batches, with range(0, n - batch_size + 1, batch_size),
so the shorter last batch disappears even when drop_last is False. The examples that land at
the end of the shuffle are never used in that epoch, silently.

Everything else comes from solutions/sgd/sgd.py.
"""

import torch


def minibatches(
    n: int, batch_size: int, generator: torch.Generator, drop_last: bool = False
) -> list[torch.Tensor]:
    """The batches of one epoch over n examples (whole batches only)."""
    order = torch.randperm(n, generator=generator)
    return [order[start : start + batch_size] for start in range(0, n - batch_size + 1, batch_size)]
