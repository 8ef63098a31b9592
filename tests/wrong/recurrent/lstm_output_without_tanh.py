"""Expect failing: lstm_cell, gradient_flow
Mistake: h_new = o * c_new, without the tanh on the cell state.
The output gate "lets the cell state out", so multiplying by it alone looks complete;
but c can grow past 1, and torch squashes it with tanh before gating. On the sine task c
stays small (tanh(c) is close to c), so the trained weights still work in torch's LSTM.

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
    h_new = torch.sigmoid(o) * c_new
    return h_new, c_new
