"""Recurrent cells from their equations: a plain RNN, an LSTM and a GRU, in torch's weight layout.

Six functions build them up and use them:

- `rnn_cell`, `lstm_cell` and `gru_cell` each take one time step for a batch;
- `lstm_forward` unrolls the LSTM cell over a whole sequence, time first: x is (T, N, D);
- `input_gradient_norms` measures how strongly the last hidden state depends on each input;
- `train_next_value` trains an LSTM built from `lstm_cell` to predict a noisy sine wave.

`init_model` (provided) draws the weights for the training run.

Every cell takes its weights in a dict with torch's names and shapes (G = 1, 4 or 3 blocks):
weight_ih (G*H, D), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,), so that
`dict(torch.nn.LSTMCell(D, H).named_parameters())` fits `lstm_cell` as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Params = dict[str, torch.Tensor]
Log = Callable[[str, float, int], None]


def rnn_cell(x: torch.Tensor, h: torch.Tensor, params: Params) -> torch.Tensor:
    """One step of a plain (Elman) RNN, as torch.nn.RNNCell with tanh.

    Maths:  h_new = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)

    Shapes: x (N, D), h (N, H); params weight_ih (H, D), weight_hh (H, H), bias_ih (H,),
    bias_hh (H,). Returns h_new (N, H), with x's dtype and device.
    """
    p = params
    return torch.tanh(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])


def lstm_cell(
    x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, params: Params
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of an LSTM, as torch.nn.LSTMCell.

    Maths:  gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh      (N, 4H)
            split gates into four (N, H) blocks, in this order: i, f, g, o
            i = sigmoid(i)   input gate      f = sigmoid(f)   forget gate
            g = tanh(g)      cell candidate  o = sigmoid(o)   output gate
            c_new = f * c + i * g
            h_new = o * tanh(c_new)

    Shapes: x (N, D), h (N, H), c (N, H); params weight_ih (4H, D), weight_hh (4H, H),
    bias_ih (4H,), bias_hh (4H,). Returns (h_new, c_new), both (N, H).
    """
    p = params
    gates = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    i, f, g, o = gates.chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    return h_new, c_new


def gru_cell(x: torch.Tensor, h: torch.Tensor, params: Params) -> torch.Tensor:
    """One step of a GRU, as torch.nn.GRUCell.

    Maths:  gi = x @ W_ih.T + b_ih,  split into (i_r, i_z, i_n)   each (N, H)
            gh = h @ W_hh.T + b_hh,  split into (h_r, h_z, h_n)   each (N, H)
            r = sigmoid(i_r + h_r)          reset gate
            z = sigmoid(i_z + h_z)          update gate
            n = tanh(i_n + r * h_n)         candidate; r scales (W_hn h + b_hn), bias included
            h_new = (1 - z) * n + z * h

    Shapes: x (N, D), h (N, H); params weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,),
    bias_hh (3H,). Returns h_new (N, H).
    """
    p = params
    i_r, i_z, i_n = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ p["weight_hh"].T + p["bias_hh"]).chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def lstm_forward(
    x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, params: Params
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The LSTM unrolled over a sequence, as a one-layer torch.nn.LSTM (batch_first=False).

    Maths:  (h_t, c_t) = lstm_cell(x[t], h_{t-1}, c_{t-1}) for t = 0, ..., T-1,
            starting from (h0, c0); the output at step t is h_t.

    Shapes: x (T, N, D) (time first), h0 (N, H), c0 (N, H); params as for lstm_cell.
    Returns (outputs, (h_T, c_T)): outputs (T, N, H) holds h_t for every step, and h_T, c_T
    (N, H) are the states after the last step. x, h0 and c0 are not modified.
    """
    h, c = h0, c0
    outputs = []
    for x_t in x:
        h, c = lstm_cell(x_t, h, c, params)
        outputs.append(h)
    return torch.stack(outputs), (h, c)


def input_gradient_norms(
    cell: str, x: torch.Tensor, h0: torch.Tensor, params: Params
) -> torch.Tensor:
    """How much the last hidden state depends on each input: one gradient norm per time step.

    Run the cell named by `cell` ("rnn", "lstm" or "gru") over x from h0 (and c0 = zeros for
    the LSTM), keeping the autograd graph. With L = h_T.sum() (over the batch and the units):
            norms[t] = || dL / dx[t] ||     (the 2-norm over all N * D entries of step t)

    Shapes: x (T, N, D), h0 (N, H); params for that cell. Returns norms (T,), with x's dtype
    and device, detached. x is not modified.
    """
    cells = {"rnn": rnn_cell, "gru": gru_cell}
    x = x.detach().clone().requires_grad_(True)
    h, c = h0, torch.zeros_like(h0)
    for x_t in x:
        if cell == "lstm":
            h, c = lstm_cell(x_t, h, c, params)
        else:
            h = cells[cell](x_t, h, params)
    (grad,) = torch.autograd.grad(h.sum(), x)
    return grad.flatten(start_dim=1).norm(dim=1)


def init_model(input_size: int, hidden_size: int, seed: int, device: torch.device) -> Params:
    """Starting weights for an LSTM with a linear head, ready for autograd (provided).

    Every weight is uniform in [-k, k] with k = 1 / sqrt(hidden_size), as torch draws them.
    The forget gate's block of bias_ih starts at 1.0, so the cell state is kept by default.
    Returns weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,) and the head's
    head_weight (1, H) and head_bias (1,), float32 on `device`, each with requires_grad=True.
    """
    generator = torch.Generator().manual_seed(seed)
    k = 1.0 / math.sqrt(hidden_size)
    H = hidden_size
    shapes = {
        "weight_ih": (4 * H, input_size),
        "weight_hh": (4 * H, H),
        "bias_ih": (4 * H,),
        "bias_hh": (4 * H,),
        "head_weight": (1, H),
        "head_bias": (1,),
    }
    params = {}
    for name, shape in shapes.items():
        params[name] = (torch.rand(shape, generator=generator) * 2 - 1) * k
    params["bias_ih"][H : 2 * H] = 1.0
    return {name: value.to(device).requires_grad_(True) for name, value in params.items()}


def train_next_value(
    x: torch.Tensor,
    y: torch.Tensor,
    hidden_size: int,
    steps: int,
    lr: float,
    seed: int,
    log: Log,
) -> Params:
    """Train an LSTM (your lstm_forward) plus a linear head to predict each sequence's next value.

    Model:  outputs, _ = lstm_forward(x, zeros, zeros, params)        (T, N, H)
            prediction = outputs @ head_weight.T + head_bias           (T, N, 1)
            loss = mean of (prediction - y) ** 2 over every step and sequence

    Training: params = init_model(D, hidden_size, seed, x.device); a torch.optim.Adam over all
    six tensors with learning rate lr; `steps` full-batch steps (zero_grad, loss, backward,
    step), calling log("loss", loss.item(), step) at each one.

    Shapes: x (T, N, D) float32, y (T, N, 1) float32 with y[t] the value that follows x[t].
    Returns the trained weights, detached: the six names of init_model.
    """
    params = init_model(x.shape[2], hidden_size, seed, x.device)
    optimizer = torch.optim.Adam(params.values(), lr=lr)
    zeros = torch.zeros(x.shape[1], hidden_size, dtype=x.dtype, device=x.device)
    for step in range(steps):
        outputs, _ = lstm_forward(x, zeros, zeros, params)
        prediction = outputs @ params["head_weight"].T + params["head_bias"]
        loss = ((prediction - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log("loss", loss.item(), step)
    return {name: value.detach() for name, value in params.items()}
