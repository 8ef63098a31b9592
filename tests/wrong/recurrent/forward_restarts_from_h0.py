"""Expect failing: lstm_forward, learns_sine
Mistake: every step calls lstm_cell(x_t, h0, c0, params) instead of passing the last (h, c) on.
The result is stored under new names, so nothing crashes, but the network forgets
everything between steps: each output sees only its own input.

Everything else comes from solutions/recurrent/cells.py.
"""

import torch


def lstm_forward(
    x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, params: Params
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The LSTM unrolled over a sequence, as a one-layer torch.nn.LSTM (batch_first=False)."""
    h, c = h0, c0
    outputs = []
    for x_t in x:
        h, c = lstm_cell(x_t, h0, c0, params)
        outputs.append(h)
    return torch.stack(outputs), (h, c)
