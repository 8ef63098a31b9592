"""Expect failing: minibatches_reproducible
Mistake: minibatches shuffles with torch.randperm(n) and no generator=..., so the order comes
from torch's global random state instead of the generator it was given. The batches look fine
and each epoch is shuffled, but a run can no longer be repeated from its seed.

Everything else comes from solutions/sgd/sgd.py.
"""

import torch


def minibatches(
    n: int, batch_size: int, generator: torch.Generator, drop_last: bool = False
) -> list[torch.Tensor]:
    """The batches of one epoch over n examples (shuffled with the global random state)."""
    order = torch.randperm(n)
    batches = list(order.split(batch_size))
    if drop_last and n % batch_size:
        batches.pop()
    return batches
