"""Expect failing: lstm_cell, lstm_forward
Mistake: the cell state is updated in place, c.mul_(f).add_(i * g), to save a tensor.
The returned c_new is right, but it is the caller's c: after one step the state the caller
kept (and autograd saved for the backward pass) has changed under it.

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
    c_new = c.mul_(torch.sigmoid(f)).add_(torch.sigmoid(i) * torch.tanh(g))
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    return h_new, c_new
