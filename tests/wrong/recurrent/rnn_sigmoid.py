"""Expect failing: rnn_cell, gradient_flow
Mistake: the plain RNN squashes with sigmoid instead of tanh.
Sigmoid is the first activation most courses teach, but torch.nn.RNNCell uses tanh,
whose outputs are centred on 0 and whose slope at 0 is 1 rather than 0.25.

Everything else comes from solutions/recurrent/cells.py.
"""

import torch


def rnn_cell(x: torch.Tensor, h: torch.Tensor, params: Params) -> torch.Tensor:
    """One step of a plain (Elman) RNN, as torch.nn.RNNCell with tanh."""
    p = params
    return torch.sigmoid(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])
