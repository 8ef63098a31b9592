"""Expect failing: sgd_follows_its_batches
Mistake: the loss recorded after each step is the batch's, not the loss over all the data.
It is the number closest to hand (the step just used that batch), and with batch size N it
is the same thing; with small batches the curve jumps with every batch's luck and says
little about how the model does on the data.

Everything else comes from solutions/sgd/sgd.py.
"""


def sgd(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    lr: float,
    epochs: int,
    seed: int,
    schedule: dict | None = None,
    log: Log | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    b = torch.zeros((), dtype=X.dtype, device=X.device)
    generator = torch.Generator().manual_seed(seed)
    total = epochs * math.ceil(n / batch_size)
    losses: list[torch.Tensor] = []
    seen, step = 0, 0
    for epoch in range(epochs):
        for batch in minibatches(n, batch_size, generator):
            if schedule is None:
                rate = lr
            elif schedule["name"] == "step_decay":
                rate = step_decay(lr, epoch, schedule["drop"], schedule["every"])
            else:
                rate = cosine(lr, step, total, schedule["lr_min"])
            w, b = logistic_step(w, b, X[batch], y[batch], rate)
            step += 1
            seen += len(batch)
            loss = bce_loss(w, b, X[batch], y[batch])
            losses.append(loss)
            if log is not None:
                log("loss", loss.item(), seen)
    return w, b, torch.stack(losses)
