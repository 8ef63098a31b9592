"""Expect failing: lstm_cell, gradient_flow
Mistake: h_new = o * tanh(c), the cell state the step started from, instead of c_new.
A typo of one name: both c and c_new are in scope, and the formula reads right.

Everything else comes from solutions/recurrent/cells.py.
"""

import torch


def lstm_cell(
    x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, params: Params
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of an LSTM, as torch.nn.LSTMCell."""
    p = params
    gates = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    i, f, g, o = gates.chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c)
    return h_new, c_new
