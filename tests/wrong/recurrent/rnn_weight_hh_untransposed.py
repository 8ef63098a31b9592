"""Expect failing: rnn_cell, gradient_flow
Mistake: h @ weight_hh without the transpose, while x @ weight_ih.T has it.
weight_hh is square (H, H), so the product has the right shape and nothing crashes; the
learner transposes weight_ih because its shape demands it and forgets that torch stores
every weight as (outputs, inputs). The LSTM and GRU cannot make this slip silently: their
weight_hh is (G*H, H).

Everything else comes from solutions/recurrent/cells.py.
"""

import torch


def rnn_cell(x: torch.Tensor, h: torch.Tensor, params: Params) -> torch.Tensor:
    """One step of a plain (Elman) RNN, as torch.nn.RNNCell with tanh."""
    p = params
    return torch.tanh(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"] + p["bias_hh"])
