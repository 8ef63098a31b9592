"""Recurrent cells from their equations: a plain RNN, an LSTM and a GRU, in torch's weight layout.

What you write, in this order (each later function uses the earlier ones):

1. `rnn_cell`, `lstm_cell`, `gru_cell`: one time step of each cell for a batch of N sequences;
2. `lstm_forward`: the LSTM cell unrolled over a whole sequence, time first (x is (T, N, D));
3. `input_gradient_norms`: how strongly the last hidden state depends on each step's input;
4. `train_next_value`: train an LSTM built on `lstm_forward` to predict a noisy sine wave.

`init_model` (provided, complete) draws the starting weights for the training run.

Rules:
- Every cell takes its weights in a dict with torch's names and shapes (G = 1, 4 or 3 blocks):
  weight_ih (G*H, D), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,), so that
  `dict(torch.nn.LSTMCell(D, H).named_parameters())` fits `lstm_cell` as it is. The checks give
  your cells the weights of torch's own cells and compare the results.
- Build the cells from matrix products, sigmoid and tanh. torch's recurrent modules and kernels
  (nn.RNN, nn.LSTM, nn.GRU and their Cell versions) are not allowed: the checks look for them.
  The training run needs autograd through your operations.
- Never modify an input in place. Results keep the inputs' dtype and device.

Read lesson.md for the ideas, then run `mllab check recurrent`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Params = dict[str, torch.Tensor]
Log = Callable[[str, float, int], None]


def rnn_cell(x: torch.Tensor, h: torch.Tensor, params: Params) -> torch.Tensor:
    """One step of a plain (Elman) RNN, as torch.nn.RNNCell with its default tanh.

    Maths, for one sequence of the batch (x a column of D numbers, h a column of H):
            h_new = tanh(W_ih x + b_ih + W_hh h + b_hh)
    with W_ih = params["weight_ih"], W_hh = params["weight_hh"], b_ih = params["bias_ih"],
    b_hh = params["bias_hh"]. The same step applies to every row of the batch.

    Shapes: x (N, D), h (N, H); weight_ih (H, D), weight_hh (H, H), bias_ih (H,), bias_hh (H,).
    Returns h_new (N, H), with x's dtype and device.
    """
    # TODO: compute one step of the plain RNN in the docstring for the whole batch at once.
    #       Both biases take part, and the squashing function is tanh.
    # BEGIN SOLUTION
    p = params
    return torch.tanh(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])
    # END SOLUTION


def lstm_cell(
    x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, params: Params
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of an LSTM, as torch.nn.LSTMCell.

    Maths, for one sequence of the batch (x a column of D numbers, h and c columns of H):
            a = W_ih x + b_ih + W_hh h + b_hh        4H numbers: four blocks of H, in the
            a = (a_i, a_f, a_g, a_o)                 order i, f, g, o (torch's layout)
            i = sigmoid(a_i)   input gate            f = sigmoid(a_f)   forget gate
            g = tanh(a_g)      cell candidate        o = sigmoid(a_o)   output gate
            c_new = f * c + i * g                    (* multiplies element by element)
            h_new = o * tanh(c_new)
    So rows 0:H of weight_ih (and of the other three tensors) belong to the input gate, rows
    H:2H to the forget gate, 2H:3H to the cell candidate and 3H:4H to the output gate.

    Shapes: x (N, D), h (N, H), c (N, H); weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,),
    bias_hh (4H,). Returns the pair (h_new, c_new), both (N, H), with x's dtype and device.
    """
    # TODO: compute one LSTM step as in the docstring. The four gates come out of a single
    #       pre-activation of width 4H; cut it in torch's block order i, f, g, o, because any
    #       other reading gives a different cell from the same weights. Return h first.
    # BEGIN SOLUTION
    p = params
    gates = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    i, f, g, o = gates.chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    return h_new, c_new
    # END SOLUTION


def gru_cell(x: torch.Tensor, h: torch.Tensor, params: Params) -> torch.Tensor:
    """One step of a GRU, as torch.nn.GRUCell.

    Maths, for one sequence of the batch (x a column of D numbers, h a column of H):
            W_ih x + b_ih = (i_r, i_z, i_n)      input side: three blocks of H, order r, z, n
            W_hh h + b_hh = (h_r, h_z, h_n)      hidden side: the same three blocks
            r = sigmoid(i_r + h_r)               reset gate
            z = sigmoid(i_z + h_z)               update gate
            n = tanh(i_n + r * h_n)              candidate; h_n is W_hn h + b_hn, bias included
            h_new = (1 - z) * n + z * h          z is the share of the old state that is kept

    Shapes: x (N, D), h (N, H); weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,),
    bias_hh (3H,). Returns h_new (N, H), with x's dtype and device.
    """
    # TODO: compute one GRU step as in the docstring, blocks in the order r, z, n. The reset
    #       gate scales the hidden side's whole n block (its bias too), so the input side and
    #       the hidden side cannot be summed into one pre-activation as in the LSTM.
    # BEGIN SOLUTION
    p = params
    i_r, i_z, i_n = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ p["weight_hh"].T + p["bias_hh"]).chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h
    # END SOLUTION


def lstm_forward(
    x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, params: Params
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The LSTM unrolled over a sequence, as a one-layer torch.nn.LSTM (batch_first=False).

    Maths:  (h_t, c_t) = lstm_cell(x_t, h_{t-1}, c_{t-1}) for t = 0, ..., T-1,
            where x_t is the (N, D) slice of step t, starting from (h_{-1}, c_{-1}) = (h0, c0);
            the output at step t is h_t.

    Shapes: x (T, N, D) (time first), h0 (N, H), c0 (N, H); params as for lstm_cell.
    Returns (outputs, (h_T, c_T)): outputs (T, N, H) holds h_t of every step in order, and
    h_T, c_T (N, H) are the states after the last step. x, h0 and c0 are not modified.
    """
    # TODO: run your lstm_cell over the steps in order, each step starting from the state the
    #       previous one produced, and gather every step's hidden state into one (T, N, H)
    #       tensor. Return it with the final pair of states. Leave x, h0 and c0 untouched.
    # BEGIN SOLUTION
    h, c = h0, c0
    outputs = []
    for x_t in x:
        h, c = lstm_cell(x_t, h, c, params)
        outputs.append(h)
    return torch.stack(outputs), (h, c)
    # END SOLUTION


def input_gradient_norms(
    cell: str, x: torch.Tensor, h0: torch.Tensor, params: Params
) -> torch.Tensor:
    """How much the last hidden state depends on each input: one gradient norm per time step.

    Run the cell named by `cell` ("rnn", "lstm" or "gru": your rnn_cell, lstm_cell or
    gru_cell) over every step of x, starting from h0 (and, for the LSTM, from a cell state of
    zeros shaped like h0). With h_T the hidden state after the last step and
            L = sum of every entry of h_T (over the batch and the units),
            norms[t] = || dL / dx_t ||     the 2-norm over all N * D entries of step t.

    x arrives as plain data (it does not require gradients). Shapes: x (T, N, D), h0 (N, H);
    params for that cell. Returns norms (T,), with x's dtype and device, detached from the
    autograd graph. x is not modified.
    """
    # TODO: obtain dL/dx from autograd rather than by hand. You need a version of the input
    #       that autograd tracks, without touching the caller's x; run the chosen cell over it
    #       as the docstring says, differentiate L with respect to it, and reduce each time
    #       step's gradient to a single 2-norm.
    # BEGIN SOLUTION
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
    # END SOLUTION


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

    Model:  outputs = the hidden states from lstm_forward(x, zeros, zeros, params)   (T, N, H)
            prediction_t = head_weight h_t + head_bias, for every step and sequence  (T, N, 1)
            loss = mean of (prediction - y) ** 2 over every step and sequence
    The zeros are the starting states h0 and c0: (N, hidden_size), in x's dtype and device.

    Training: start from params = init_model(D, hidden_size, seed, x.device); one
    torch.optim.Adam over all six tensors with learning rate lr; then `steps` full-batch steps,
    each: clear the old gradients, compute the loss, backpropagate, update. At every step call
    log("loss", value of the loss as a Python float, step), with step counting from 0.

    Shapes: x (T, N, D) float32, y (T, N, 1) float32 with y[t] the value that follows x[t].
    Returns the trained weights, detached: a dict with the six names of init_model.
    """
    # TODO: train the model of the docstring with Adam for the given number of full-batch
    #       steps, logging the loss at every step. Clear the gradients before each backward
    #       pass, or they pile up across steps. Return the six tensors detached from autograd.
    # BEGIN SOLUTION
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
    # END SOLUTION
