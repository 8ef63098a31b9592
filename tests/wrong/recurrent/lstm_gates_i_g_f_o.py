"""Expect failing: lstm_cell, gradient_flow, learns_sine
Mistake: the (N, 4H) gate tensor is split as i, g, f, o instead of torch's i, f, g, o.
Diagrams often draw the candidate g right after the input gate, so the order feels natural;
the cell still trains, but its weights mean something else to torch.nn.LSTM.

Everything else comes from solutions/recurrent/cells.py.
"""

import torch


def lstm_cell(
    x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, params: Params
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of an LSTM, as torch.nn.LSTMCell."""
    p = params
    gates = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    i, g, f, o = gates.chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    return h_new, c_new
