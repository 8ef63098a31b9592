"""Expect failing: step_decay
Mistake: step_decay counts epochs from 1, lr0 * drop ** ((epoch + 1) // every), so the rate
drops one epoch early: with every = 3 the drop comes at epoch 2 instead of 3, and with
every = 1 even the very first epoch runs at lr0 * drop.

Everything else comes from solutions/sgd/sgd.py.
"""


def step_decay(lr0: float, epoch: int, drop: float, every: int) -> float:
    """The learning rate of an epoch under step decay (epochs counted from 1)."""
    return lr0 * drop ** ((epoch + 1) // every)
