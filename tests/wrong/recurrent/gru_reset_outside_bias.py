"""Expect failing: gru_cell, gradient_flow
Mistake: n = tanh(i_n + r * (W_hn h) + b_hn): the reset gate scales W_hn h but not its bias.
Writing the two biases as one "b_n" is the usual textbook shorthand, but torch keeps b_hn
inside the product with r.

Everything else comes from solutions/recurrent/cells.py.
"""

import torch


def gru_cell(x: torch.Tensor, h: torch.Tensor, params: Params) -> torch.Tensor:
    """One step of a GRU, as torch.nn.GRUCell."""
    p = params
    H = h.shape[1]
    i_r, i_z, i_n = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ p["weight_hh"].T).chunk(3, dim=1)
    b_r, b_z, b_n = p["bias_hh"][:H], p["bias_hh"][H : 2 * H], p["bias_hh"][2 * H :]
    r = torch.sigmoid(i_r + h_r + b_r)
    z = torch.sigmoid(i_z + h_z + b_z)
    n = torch.tanh(i_n + r * h_n + b_n)
    return (1 - z) * n + z * h
