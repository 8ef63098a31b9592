"""Expect failing: learns_sine
Mistake: the loss compares the predictions with x, the values just seen, not with y.
x and y have the same shape, so the loss runs and falls fast: the model learns to copy
its input, which is exactly the naive forecast the check asks it to beat.

Everything else comes from solutions/recurrent/cells.py.
"""

import torch


def train_next_value(
    x: torch.Tensor,
    y: torch.Tensor,
    hidden_size: int,
    steps: int,
    lr: float,
    seed: int,
    log: Log,
) -> Params:
    """Train an LSTM plus a linear head (here on the wrong targets)."""
    params = init_model(x.shape[2], hidden_size, seed, x.device)
    optimizer = torch.optim.Adam(params.values(), lr=lr)
    zeros = torch.zeros(x.shape[1], hidden_size, dtype=x.dtype, device=x.device)
    for step in range(steps):
        outputs, _ = lstm_forward(x, zeros, zeros, params)
        prediction = outputs @ params["head_weight"].T + params["head_bias"]
        loss = ((prediction - x) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log("loss", loss.item(), step)
    return {name: value.detach() for name, value in params.items()}
