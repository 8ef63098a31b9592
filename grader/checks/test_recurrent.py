"""Checks for the recurrent exercise: RNN, LSTM and GRU cells, the unrolled LSTM, training."""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import pytest
import torch
from torch import nn

from grader import kit
from grader.kit import Mistake, tensor

pytestmark = pytest.mark.exercise("recurrent")

F32, F64 = torch.float32, torch.float64
CELL_TOL: dict[str, Any] = {"rtol": 1e-7, "atol": 1e-10}  # float64, same formulas
F32_TOL: dict[str, Any] = {"rtol": 1e-5, "atol": 1e-6}  # float32 against a float64 reference
TORCH_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
# (N, D, H): D != H so that a transposed weight cannot go unnoticed.
CELL_CASES = ((3, 4, 5), (1, 2, 3))
GATE_WORDS = {"i": "input gate", "f": "forget gate", "g": "cell candidate", "o": "output gate",
              "r": "reset gate", "z": "update gate", "n": "candidate"}  # fmt: skip
CELL_RULES = {
    "rnn": "h_new = tanh(W_ih x + b_ih + W_hh h + b_hh), for every row of the batch",
    "lstm": "the blocks of W_ih x + b_ih + W_hh h + b_hh are i, f, g, o, in that order; "
    "c_new = f * c + i * g; h_new = o * tanh(c_new)",
    "gru": "blocks in the order r, z, n; n = tanh(i_n + r * (W_hn h + b_hn)); "
    "h_new = (1 - z) * n + z * h",
}
# torch's own recurrent modules and kernels: using them would skip the exercise.
KERNELS = ("lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
           "rnn_relu_cell")  # fmt: skip
OWN_CELLS = kit.Shortcuts(
    "torch's own recurrent modules and kernels",
    names={"torch.nn.modules.rnn", "torch._VF", "torch._C._VariableFunctions"}
    | {f"torch.nn.{name}" for name in ("RNN", "LSTM", "GRU", "RNNBase", "RNNCellBase")}
    | {f"torch.nn.{name}Cell" for name in ("RNN", "LSTM", "GRU")}
    | {f"{where}.{name}" for where in ("torch", "torch.ops.aten") for name in KERNELS},
)
OWN_CELLS_ADVICE = (
    "Your results match, but this exercise is about writing the cells from their equations "
    "with matrix products, sigmoid and tanh; the checks already compare with torch's modules"
)

# Each cell check's title as a learner sees it, to name the part to fix first.
CELL_TITLES = {
    "rnn": "rnn_cell computes the same step as torch.nn.RNNCell with the same weights",
    "lstm": "lstm_cell computes the same (h, c) as torch.nn.LSTMCell with the same weights",
    "gru": "gru_cell computes the same step as torch.nn.GRUCell with the same weights",
}

# The gradient demonstration: T steps, and the "keep" bias of the gated cells set high.
GRAD_T, GRAD_N, GRAD_D, GRAD_H = 40, 8, 4, 16
KEEP_BIAS = 3.0
FAR_BACK = 5  # the first steps of the sequence, the furthest from h_T

# The training task: next value of a noisy sine wave.
SINE_T, SINE_TRAIN, SINE_TEST = 30, 64, 256
SINE_NOISE = 0.1
WARM_UP = 5  # steps the model needs to see before it can know the phase
TRAIN_SETTINGS: dict[str, Any] = {"hidden_size": 16, "steps": 100, "lr": 0.05}
TRAIN_TIMEOUT = 60.0  # seconds for the whole training run (about one on a CPU)
BEAT_REPEAT = 0.5  # the held-out MSE must be below this fraction of "repeat the last value"


# ------------------------------------------------------------------------------------ helpers


def _uniform(module: nn.Module, H: int, rng: torch.Generator) -> nn.Module:
    """A float64 module with weights drawn from rng, uniform in [-k, k], k = 1/sqrt(H)."""
    module = module.to(F64)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_((torch.rand(param.shape, generator=rng, dtype=F64) * 2 - 1) / math.sqrt(H))
    return module


def _params(module: nn.Module, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """A module's parameters by name (without nn.LSTM's "_l0"), detached, on device."""
    return {n.removesuffix("_l0"): v.detach().to(device) for n, v in module.named_parameters()}


def _seen(what: str, variant: Any) -> Mistake:
    return Mistake(f"your result matches {what}", variant)


def _order_mistakes(model: str, names: tuple[str, ...], p: dict, formula) -> list[Mistake]:
    """Every wrong reading of the gate blocks, with what `formula` computes under it."""
    listed = ", ".join(f"{n} ({GATE_WORDS[n]})" for n in names)
    mistakes = []
    for read_as in itertools.permutations(names):
        differ = [GATE_WORDS[n] for n, r in zip(names, read_as, strict=True) if n != r]
        if not differ:
            continue
        swapped = f": your {differ[0]} and {differ[1]} look swapped" if len(differ) == 2 else ""
        # torch's block j (gate names[j]) must receive the block the learner reads as it.
        order = [read_as.index(n) for n in names]
        blocks = {k: torch.cat([v.chunk(len(names))[j] for j in order]) for k, v in p.items()}
        what = f"{model} that splits the blocks in the order {', '.join(read_as)}{swapped}. "
        mistakes.append(_seen(f"{what}torch stacks them as {listed}", lambda q=blocks: formula(q)))
    return mistakes


# ----------------------------------------------------------------------- trusted cell variants


def _rnn_mistakes(x, h, c, p) -> list[Mistake]:
    inner = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    return [
        _seen("an RNN with sigmoid instead of tanh: the plain RNN squashes with tanh",
              torch.sigmoid(inner)),
        _seen("an RNN without its nonlinearity: apply tanh to the sum", inner),
        _seen("an RNN with relu instead of tanh: torch.nn.RNNCell uses tanh", torch.relu(inner)),
        _seen("an RNN without bias_hh: both biases take part", torch.tanh(inner - p["bias_hh"])),
        _seen("an RNN that leaves out h: the step adds W_hh h + b_hh",
              torch.tanh(inner - h @ p["weight_hh"].T)),
        _seen("an RNN with h @ weight_hh, not transposed: torch stores every weight as "
              "(outputs, inputs), so a row of h meets weight_hh.T, as x meets weight_ih.T",
              torch.tanh(inner - h @ p["weight_hh"].T + h @ p["weight_hh"])),
    ]  # fmt: skip


def _lstm(x, h, c, p, *, out_tanh=True, cell_rule="standard", bias_hh=True, out_old_c=False):
    gates = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"] * bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = {"standard": f * c + i * g, "tanh_old": f * torch.tanh(c) + i * g,
             "tanh_new": torch.tanh(f * c + i * g)}[cell_rule]  # fmt: skip
    shown = c if out_old_c else c_new
    return (o * torch.tanh(shown) if out_tanh else o * shown), c_new


def _lstm_mistakes(x, h, c, p) -> list[Mistake]:
    return [
        *_order_mistakes("an LSTM", ("i", "f", "g", "o"), p, lambda q: _lstm(x, h, c, q)),
        _seen("an LSTM with h_new = o * c_new: the output is o * tanh(c_new)",
              _lstm(x, h, c, p, out_tanh=False)),
        _seen("an LSTM with h_new = o * tanh(c), the old cell state: h_new shows the new one, "
              "o * tanh(c_new)", _lstm(x, h, c, p, out_old_c=True)),
        _seen("an LSTM with c_new = f * tanh(c) + i * g: the old c goes in as it is, no tanh",
              _lstm(x, h, c, p, cell_rule="tanh_old")),
        _seen("an LSTM with c_new = tanh(f * c + i * g): c_new is the plain sum, tanh is for h_new",
              _lstm(x, h, c, p, cell_rule="tanh_new")),
        _seen("an LSTM without bias_hh: both biases take part", _lstm(x, h, c, p, bias_hh=False)),
    ]  # fmt: skip


def _gru(x, h, p, *, rule="torch", flip_z=False, bias_hh=True):
    i_r, i_z, i_n = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=1)
    w_r, w_z, w_n = p["weight_hh"].chunk(3, dim=0)
    b_r, b_z, b_n = (p["bias_hh"] * bias_hh).chunk(3, dim=0)
    r = torch.sigmoid(i_r + h @ w_r.T + b_r)
    z = torch.sigmoid(i_z + h @ w_z.T + b_z)
    n = torch.tanh(i_n + {"torch": r * (h @ w_n.T + b_n), "outside_bias": r * (h @ w_n.T) + b_n,
                          "before_matmul": (r * h) @ w_n.T + b_n}[rule])  # fmt: skip
    return z * n + (1 - z) * h if flip_z else (1 - z) * n + z * h


def _gru_mistakes(x, h, c, p) -> list[Mistake]:
    return [
        *_order_mistakes("a GRU", ("r", "z", "n"), p, lambda q: _gru(x, h, q)),
        _seen("a GRU with z and (1 - z) swapped: in torch's GRU, z is the share of the old h "
              "kept, h_new = (1 - z) * n + z * h", _gru(x, h, p, flip_z=True)),
        _seen("a GRU with n = tanh(i_n + r * (W_hn h) + b_hn): r must scale (W_hn h + b_hn), "
              "bias included", _gru(x, h, p, rule="outside_bias")),
        _seen("the original paper's GRU, n = tanh(i_n + W_hn (r * h) + b_hn); torch applies r "
              "after the product: r * (W_hn h + b_hn)", _gru(x, h, p, rule="before_matmul")),
        _seen("a GRU without bias_hh: both biases take part", _gru(x, h, p, bias_hh=False)),
    ]  # fmt: skip


# ------------------------------------------------------------------------------- cell checks


def _check_cell(kind: str, mistakes_for, submission, device, rng, source_tree, exercise) -> None:
    """The learner's cell against torch's, with the same weights, on every case; then its source.

    The last case runs in float32, as in training: the result must keep x's dtype.
    """
    for (N, D, H), dtype in zip(CELL_CASES + CELL_CASES[:1], (F64, F64, F32), strict=True):
        cell = _uniform(TORCH_CELLS[kind](D, H), H, rng)
        x = torch.randn(N, D, generator=rng, dtype=F64)
        h = torch.randn(N, H, generator=rng, dtype=F64) * 0.5
        c = torch.randn(N, H, generator=rng, dtype=F64)
        inputs = {"x": x, "h": h, "c": c} if kind == "lstm" else {"x": x, "h": h}
        params = {name: value.to(dtype) for name, value in _params(cell, device).items()}
        result = kit.call_unchanged(
            submission, f"{kind}_cell", *(v.to(device, dtype) for v in inputs.values()),
            params, names=(*inputs, "params"),
        )  # fmt: skip
        context = f"N={N}, D={D}, H={H}" + (", float32" if dtype == F32 else "")
        state, tol = tensor((N, H), dtype, device), CELL_TOL if dtype == F64 else F32_TOL
        with torch.no_grad():
            want = cell(x, (h, c)) if kind == "lstm" else cell(x, h)
        if kind == "lstm":
            got = kit.unpack(result, "lstm_cell", context=context, h_new=state, c_new=state)
            parts = [("c_new", got[1], want[1]), ("h_new", got[0], want[0])]
        else:
            got = state(result, f"{kind}_cell's h_new ({context})")
            parts = [("h_new", got, want)]
        mistakes = mistakes_for(x, h, c, _params(cell))
        hint = kit.likely_mistake(got, mistakes, default=CELL_RULES[kind], expected=want, **tol)
        for name, value, expected in parts:
            kit.assert_close(value, expected, name=f"{kind}_cell's {name} ({context})",
                             device=device, hint=hint, **tol)  # fmt: skip
    kit.expect_no_shortcuts(source_tree, exercise.path, OWN_CELLS, advice=OWN_CELLS_ADVICE)


def _cell_is_right(submission: Any, kind: str, device: Any, rng: torch.Generator) -> bool:
    """Whether the learner's cell gives torch's step on a small float64 probe."""
    N, D, H = CELL_CASES[0]
    cell = _uniform(TORCH_CELLS[kind](D, H), H, rng)
    x, h, c = (torch.randn(N, n, generator=rng, dtype=F64) for n in (D, H, H))
    args = (x, h, c) if kind == "lstm" else (x, h)
    try:
        got = submission.call(f"{kind}_cell", *(v.to(device) for v in args), _params(cell, device))
    except kit.CheckFailure:
        return False
    with torch.no_grad():
        want = cell(x, (h, c)) if kind == "lstm" else cell(x, h)
    return kit.matches(got, want, **CELL_TOL)


def _own_unrolled(submission: Any, x, h0, c0, params) -> tuple | None:
    """lstm_forward built from the learner's own lstm_cell; None if that cell fails to run."""
    h, c, outputs = h0, c0, []
    try:
        for x_t in x:
            h, c = kit.unpack(submission.lstm_cell(x_t, h, c, params), "lstm_cell",
                              h_new=tensor(h0.shape), c_new=tensor(h0.shape))  # fmt: skip
            outputs.append(h)
    except kit.CheckFailure:
        return None
    return torch.stack(outputs), h, c


@pytest.mark.points(2)
def test_rnn_cell(submission, device, rng, source_tree, exercise):
    """rnn_cell computes the same step as torch.nn.RNNCell with the same weights"""
    _check_cell("rnn", _rnn_mistakes, submission, device, rng, source_tree, exercise)


@pytest.mark.points(3)
def test_lstm_cell(submission, device, rng, source_tree, exercise):
    """lstm_cell computes the same (h, c) as torch.nn.LSTMCell with the same weights"""
    _check_cell("lstm", _lstm_mistakes, submission, device, rng, source_tree, exercise)


@pytest.mark.points(3)
def test_gru_cell(submission, device, rng, source_tree, exercise):
    """gru_cell computes the same step as torch.nn.GRUCell with the same weights"""
    _check_cell("gru", _gru_mistakes, submission, device, rng, source_tree, exercise)


# ------------------------------------------------------------------------------ lstm_forward


def _unrolled(cell: nn.LSTMCell, x, h0, c0, carry_h=True, carry_c=True, outputs_c=False):
    """A loop of torch.nn.LSTMCell that may forget to carry h or c (to name a learner's slip)."""
    h, c, outputs = h0, c0, []
    with torch.no_grad():
        for x_t in x:
            h, c = cell(x_t, (h if carry_h else h0, c if carry_c else c0))
            outputs.append(c if outputs_c else h)
    return torch.stack(outputs), h, c


@pytest.mark.points(3)
def test_lstm_forward(submission, device, rng, source_tree, exercise):
    """lstm_forward matches a one-layer torch.nn.LSTM: every output and the final (h, c)"""
    T, N, D, H = 7, 3, 4, 5
    lstm = _uniform(nn.LSTM(D, H), H, rng)
    cell = nn.LSTMCell(D, H).to(F64)
    cell.load_state_dict(_params(lstm))
    x = torch.randn(T, N, D, generator=rng, dtype=F64)
    h0 = torch.randn(N, H, generator=rng, dtype=F64) * 0.5
    c0 = torch.randn(N, H, generator=rng, dtype=F64)
    result = kit.call_unchanged(
        submission, "lstm_forward", x.to(device), h0.to(device), c0.to(device),
        _params(lstm, device), names=("x", "h0", "c0", "params"),
    )  # fmt: skip
    context, state = f"x of shape (T, N, D) = ({T}, {N}, {D}), H={H}", tensor((N, H), F64, device)
    kinds = {"outputs": tensor((T, N, H), F64, device), "(h_T, c_T)": kit.anything}
    outputs, final = kit.unpack(result, "lstm_forward", context=context, **kinds)
    h_T, c_T = kit.unpack(final, "the second item lstm_forward returns", verb="be",
                          h_T=kit.anything, c_T=kit.anything)  # fmt: skip
    got = (outputs, state(h_T, f"lstm_forward's h_T ({context})"),
           state(c_T, f"lstm_forward's c_T ({context})"))  # fmt: skip
    with torch.no_grad():
        want_out, (want_h, want_c) = lstm(x, (h0[None], c0[None]))
    want = (want_out, want_h[0], want_c[0])
    right = kit.matches(got, want, **CELL_TOL)
    if not right and not _cell_is_right(submission, "lstm", device, rng):
        # Judge the loop with the learner's own cell: its mistakes are lstm_cell's to pay for.
        own = _own_unrolled(submission, x.to(device), h0.to(device), c0.to(device),
                            _params(lstm, device))  # fmt: skip
        if own is None or not kit.matches(got, own, **CELL_TOL):
            raise kit.CheckFailure(
                f"lstm_forward ({context}) differs from torch.nn.LSTM, and so does your "
                f"lstm_cell: fix {CELL_TITLES['lstm']!r} first, then run lstm_cell over the "
                "steps, each from the (h, c) the step before produced"
            )
    else:
        hint = kit.likely_mistake(got, [
            _seen("a loop that restarts every step from (h0, c0): pass each step's (h, c) on",
                  lambda: _unrolled(cell, x, h0, c0, carry_h=False, carry_c=False)),
            _seen("a loop that restarts h from h0 every step: carry h as well as c",
                  lambda: _unrolled(cell, x, h0, c0, carry_h=False)),
            _seen("a loop that restarts c from c0 every step: carry c as well as h",
                  lambda: _unrolled(cell, x, h0, c0, carry_c=False)),
            _seen("outputs holding c_t: the output at each step is h_t",
                  lambda: _unrolled(cell, x, h0, c0, outputs_c=True)),
        ], default="each step starts from the (h, c) the step before produced ((h0, c0) at the "
           "first step), and outputs[t] is that step's h", expected=want, **CELL_TOL)  # fmt: skip
        for name, value, expected in zip(("outputs", "h_T", "c_T"), got, want, strict=True):
            kit.assert_close(value, expected, name=f"lstm_forward's {name} ({context})",
                             hint=hint, **CELL_TOL)  # fmt: skip
    kit.expect_no_shortcuts(source_tree, exercise.path, OWN_CELLS, advice=OWN_CELLS_ADVICE)


# --------------------------------------------------------------------------- gradient flow


def _trusted_norms(cell: nn.Module, kind: str, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """input_gradient_norms computed with a torch cell: ||d sum(h_T) / d x[t]|| per step t."""
    x = x.clone().requires_grad_(True)
    h, c = h0, torch.zeros_like(h0)
    with torch.enable_grad():
        for x_t in x:
            h, c = cell(x_t, (h, c)) if kind == "lstm" else (cell(x_t, h), c)
        (grad,) = torch.autograd.grad(h.sum(), x)
    return grad.flatten(start_dim=1).norm(dim=1)


@pytest.mark.points(2)
def test_gradient_flow(submission, device, metrics, rng):
    """the RNN's gradient from 40 steps back vanishes; the LSTM's, with a forget bias, does not"""
    cells = {kind: _uniform(TORCH_CELLS[kind](GRAD_D, GRAD_H), GRAD_H, rng) for kind in TORCH_CELLS}
    with torch.no_grad():
        # The LSTM's forget gate and the GRU's update gate start near 1: keep the old state.
        for kind in ("lstm", "gru"):
            cells[kind].get_parameter("bias_ih")[GRAD_H : 2 * GRAD_H] = KEEP_BIAS
    x = torch.randn(GRAD_T, GRAD_N, GRAD_D, generator=rng, dtype=F64)
    h0 = torch.zeros(GRAD_N, GRAD_H, dtype=F64)
    got_norms = {}
    for kind, cell in cells.items():
        want = _trusted_norms(cell, kind, x, h0)
        call = f'input_gradient_norms("{kind}", x, h0, params) with T={GRAD_T}'
        result = kit.call_unchanged(
            submission, "input_gradient_norms", kind, x.to(device), h0.to(device),
            _params(cell, device), names=(None, "x", "h0", "params"),
        )  # fmt: skip
        got = tensor((GRAD_T,), F64, device)(result, call)
        for t, value in enumerate(got.cpu().tolist()):
            if math.isfinite(value) and value > 0:
                metrics.emit(f"log10 gradient norm ({kind})", math.log10(value), step=t)
        close = {"rtol": 1e-6, "atol": 1e-12 * float(want.abs().max())}
        right = kit.matches(got, want, **close)
        if not right and not _cell_is_right(submission, kind, device, rng):
            raise kit.CheckFailure(
                f"{call} differs from the norms measured through torch.nn."
                f"{type(cell).__name__}, and your {kind}_cell differs from that cell: fix "
                f"{CELL_TITLES[kind]!r} first (these norms are measured through it)"
            )
        got_norms[kind] = got.detach().cpu().to(F64)
        kit.expect_close(
            got, want, name=call, **close,
            hint=f"compared with the same measure computed with torch.nn.{type(cell).__name__}, "
            f"which your {kind}_cell matches: norms[t] is the 2-norm of the gradient of sum(h_T) "
            "with respect to x[t], through every step from h0 (and c0 = zeros for the LSTM)",
            mistakes=[
                Mistake("these are the norms for the mean of h_T: L is the sum of its entries",
                        want / (GRAD_N * GRAD_H)),
                Mistake("these are squared norms: take the square root of the sum of squares",
                        want**2),
            ],
        )  # fmt: skip
    # The demonstration, on your norms: they matched torch's, so this holds for the weights here.
    rnn_far = float(got_norms["rnn"][:FAR_BACK].max())
    lstm_far = float(got_norms["lstm"][:FAR_BACK].min())
    if not rnn_far < 1e-3 * lstm_far:
        raise kit.CheckFailure(
            f"the RNN's gradient from far back ({rnn_far:.2g}) is not orders of magnitude "
            f"below the LSTM's ({lstm_far:.2g}) on these weights"
        )


# -------------------------------------------------------------------------------- training


def _sine(n: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """n noisy sine waves, time first: inputs x (T, n, 1), noisy next values, clean next values."""
    phase = torch.rand(n, generator=generator, dtype=F64) * 2 * math.pi
    freq = 0.2 + 0.3 * torch.rand(n, generator=generator, dtype=F64)
    steps = torch.arange(SINE_T + 1, dtype=F64)
    clean = torch.sin(phase + freq * steps[:, None])[..., None]
    noisy = clean + SINE_NOISE * torch.randn(clean.shape, generator=generator, dtype=F64)
    return noisy[:-1], noisy[1:], clean[1:]


@functools.lru_cache(maxsize=4)
def _sine_data(seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x, y, _ = _sine(SINE_TRAIN, generator)
    x_test, _, clean_test = _sine(SINE_TEST, generator)
    return {"x": x, "y": y, "x_test": x_test, "clean_test": clean_test}


@pytest.mark.points(3)
def test_learns_sine(submission, device, metrics, seed):
    """an LSTM trained with your cell predicts the next value of held-out noisy sine waves"""
    data, H, losses = _sine_data(seed % 1000), TRAIN_SETTINGS["hidden_size"], []

    def log(name: str, value: float, step: int | None) -> None:
        losses.extend([value] if name == "loss" else [])
        metrics.emit(name, value, step)

    result = submission.call_logged(
        "train_next_value", data["x"].to(device, torch.float32),
        data["y"].to(device, torch.float32), **TRAIN_SETTINGS, seed=seed % 1000, log=log,
        timeout=TRAIN_TIMEOUT,
    )  # fmt: skip
    shapes = {"weight_ih": (4 * H, 1), "weight_hh": (4 * H, H), "bias_ih": (4 * H,),
              "bias_hh": (4 * H,), "head_weight": (1, H), "head_bias": (1,)}  # fmt: skip
    kinds = {name: tensor(shape, device=device) for name, shape in shapes.items()}
    weights = dict(zip(shapes, kit.unpack_dict(result, "train_next_value", **kinds), strict=True))
    for name, value in weights.items():
        if not value.is_floating_point() or not bool(torch.isfinite(value).all()):
            raise kit.CheckFailure(
                f"train_next_value's {name} holds NaN or inf (or is not a float tensor); "
                "did the loss blow up?"
            )
    lstm = nn.LSTM(1, H).to(F64)
    lstm.load_state_dict({f"{name}_l0": weights[name].cpu().to(F64) for name in _params(lstm)})
    head_weight, head_bias = (weights[n].cpu().to(F64) for n in ("head_weight", "head_bias"))
    with torch.no_grad():
        prediction = lstm(data["x_test"])[0] @ head_weight.T + head_bias
    clean, x_test = data["clean_test"][WARM_UP:], data["x_test"][WARM_UP:]
    mse = float(((prediction[WARM_UP:] - clean) ** 2).mean())
    repeat = float(((x_test - clean) ** 2).mean())
    zero = float((clean**2).mean())
    metrics.emit("held-out MSE", mse, TRAIN_SETTINGS["steps"])
    if not mse < BEAT_REPEAT * repeat:
        went = f" (your logged loss: {losses[0]:.4f} to {losses[-1]:.4f})" if losses else ""
        why = (
            f"Your logged loss fell to {losses[-1]:.4f}, below the variance of the noise in the "
            f"targets ({SINE_NOISE**2:g}), which no forecast of a noisy next value can reach: "
            "compute the loss against y, the values that follow x, not against x itself"
            if losses and losses[-1] < 0.5 * SINE_NOISE**2 else
            "The training runs, but weights trained in a model that differs from torch's LSTM "
            "with a linear head do not work here: make the cell and lstm_forward checks pass "
            "first, and predict as train_next_value's docstring says"
            if losses and losses[-1] < 0.5 * losses[0] else
            "Make the cell and lstm_forward checks pass first, then make the loss go down: every "
            "step clears the old gradients, backpropagates the loss and lets Adam update all six "
            "tensors"
        )  # fmt: skip
        raise kit.CheckFailure(
            f"on {SINE_TEST} held-out waves, your trained weights, run here in torch.nn.LSTM "
            f"with a linear head, predict the next clean value with MSE {mse:.4f}; repeating "
            f"the last value gives {repeat:.4f} and predicting 0 gives {zero:.4f}, and the "
            f"check asks for less than {BEAT_REPEAT * repeat:.4f} (settings {TRAIN_SETTINGS}). "
            f"{why}{went}"
        )
