"""Expect failing: gru_cell, gradient_flow
Mistake: h_new = z * n + (1 - z) * h, the mix with z and (1 - z) the other way round.
Some texts (and the original GRU paper) write it this way; torch's z is the share of the
old state kept, so the same weights give a different cell.

Everything else comes from solutions/recurrent/cells.py.
"""

import torch


def gru_cell(x: torch.Tensor, h: torch.Tensor, params: Params) -> torch.Tensor:
    """One step of a GRU, as torch.nn.GRUCell."""
    p = params
    i_r, i_z, i_n = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ p["weight_hh"].T + p["bias_hh"]).chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return z * n + (1 - z) * h
