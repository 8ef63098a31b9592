"""Checks for the recurrent exercise: RNN, LSTM and GRU cells, the unrolled LSTM, training."""

from __future__ import annotations

import ast
import functools
import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import torch
from torch import nn

from grader.codec import type_name
from grader.compare import assert_close, expect_tensor
from grader.errors import CheckFailure

pytestmark = pytest.mark.exercise("recurrent")

F64 = torch.float64
CELL_TOL: dict[str, Any] = {"rtol": 1e-7, "atol": 1e-10}  # float64, same formulas
TORCH_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
# (N, D, H): D != H so that a transposed weight cannot go unnoticed.
CELL_CASES = ((3, 4, 5), (1, 2, 3))
LSTM_NAMES = ("i", "f", "g", "o")
GRU_NAMES = ("r", "z", "n")
GATE_WORDS = {
    "i": "input gate",
    "f": "forget gate",
    "g": "cell candidate",
    "o": "output gate",
    "r": "reset gate",
    "z": "update gate",
    "n": "candidate",
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

Variants = Iterator[tuple[str, tuple[torch.Tensor, ...]]]


# ------------------------------------------------------------------------------------ helpers


def _torch_cell(kind: str, D: int, H: int, rng: torch.Generator) -> nn.Module:
    """A float64 torch cell with weights drawn from rng, uniform in [-k, k], k = 1/sqrt(H)."""
    cell = TORCH_CELLS[kind](D, H).to(F64)
    k = 1.0 / math.sqrt(H)
    with torch.no_grad():
        for param in cell.parameters():
            param.copy_((torch.rand(param.shape, generator=rng, dtype=F64) * 2 - 1) * k)
    return cell


def _params(module: nn.Module, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """A module's parameters by name (without nn.LSTM's "_l0"), detached, on device."""
    return {
        name.removesuffix("_l0"): value.detach().to(device)
        for name, value in module.named_parameters()
    }


def _close(got: torch.Tensor, want: torch.Tensor) -> bool:
    return bool(torch.allclose(got.cpu().to(F64), want.to(F64), **CELL_TOL))


def _blocks(p: dict[str, torch.Tensor], order: list[int]) -> dict[str, torch.Tensor]:
    """p with the gate blocks of every tensor rearranged: new block j is old block order[j]."""
    out = {}
    for name, value in p.items():
        parts = value.chunk(len(order), dim=0)
        out[name] = torch.cat([parts[j] for j in order], dim=0)
    return out


def _order_words(model: str, names: tuple[str, ...], read_as: tuple[str, ...]) -> str:
    """A learner's reading of the gate blocks as `read_as`, and why it is wrong, in words."""
    differ = [k for k in range(len(names)) if names[k] != read_as[k]]
    swapped = ""
    if len(differ) == 2:
        a, b = (GATE_WORDS[names[k]] for k in differ)
        swapped = f": your {a} and {b} look swapped"
    listed = ", ".join(f"{n} ({GATE_WORDS[n]})" for n in names)
    return (
        f"{model} that splits the blocks in the order {', '.join(read_as)}{swapped}. "
        f"torch stacks them as {listed}"
    )


def _permutations(model: str, names: tuple[str, ...]) -> Iterator[tuple[str, list[int]]]:
    """For each wrong reading of the blocks: its description and the block order that mimics it."""
    for read_as in itertools.permutations(names):
        if read_as != names:
            # torch's block j (gate names[j]) must receive the block the learner reads as it.
            yield _order_words(model, names, read_as), [read_as.index(n) for n in names]


def _all_close(got: Sequence[torch.Tensor], want: Sequence[torch.Tensor]) -> bool:
    return all(_close(a, b) for a, b in zip(got, want, strict=True))


def _hint(got: Sequence[torch.Tensor], want: Sequence[torch.Tensor], variants: Variants,
          default: str) -> str:  # fmt: skip
    """Nothing when got matches; else which known mistake reproduces got, or the default."""
    if _all_close(got, want):
        return ""
    for description, value in variants:
        if _all_close(got, value):
            return f"your result matches {description}"
    return default


def _tuple(result: Any, name: str, size: int, what: str, verb: str = "return") -> tuple[Any, ...]:
    if type(result) is not tuple:
        raise CheckFailure(f"{name} should {verb} a tuple {what}, got {type_name(result)}")
    if len(result) != size:
        raise CheckFailure(f"{name} should {verb} a tuple {what}, got a tuple of {len(result)}")
    return result


# ----------------------------------------------------------------------- trusted cell variants


def _rnn_variants(x: torch.Tensor, h: torch.Tensor, p: dict[str, torch.Tensor]) -> Variants:
    inner = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    no_h = x @ p["weight_ih"].T + p["bias_ih"] + p["bias_hh"]
    yield (
        "an RNN with sigmoid instead of tanh: the plain RNN squashes with tanh",
        (torch.sigmoid(inner),),
    )
    yield "an RNN without its nonlinearity: apply tanh to the sum", (inner,)
    yield "an RNN with relu instead of tanh: torch.nn.RNNCell uses tanh", (torch.relu(inner),)
    yield "an RNN without bias_hh: add both biases", (torch.tanh(inner - p["bias_hh"]),)
    yield "an RNN that ignores h: add h @ weight_hh.T", (torch.tanh(no_h),)


def _lstm_formula(x, h, c, p, *, output_tanh=True, cell_rule="standard", biases=True):
    gates = x @ p["weight_ih"].T + h @ p["weight_hh"].T
    if biases:
        gates = gates + p["bias_ih"] + p["bias_hh"]
    else:
        gates = gates + p["bias_ih"]
    i, f, g, o = gates.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    if cell_rule == "tanh_old":
        c_new = f * torch.tanh(c) + i * g
    elif cell_rule == "tanh_new":
        c_new = torch.tanh(f * c + i * g)
    else:
        c_new = f * c + i * g
    h_new = o * torch.tanh(c_new) if output_tanh else o * c_new
    return h_new, c_new


def _lstm_variants(x, h, c, p) -> Variants:
    for description, order in _permutations("an LSTM", LSTM_NAMES):
        yield description, _lstm_formula(x, h, c, _blocks(p, order))
    yield (
        "an LSTM with h_new = o * c_new: the output is o * tanh(c_new)",
        _lstm_formula(x, h, c, p, output_tanh=False),
    )
    yield (
        "an LSTM with c_new = f * tanh(c) + i * g: the old c goes in as it is, no tanh",
        _lstm_formula(x, h, c, p, cell_rule="tanh_old"),
    )
    yield (
        "an LSTM with c_new = tanh(f * c + i * g): c_new is the plain sum, tanh is for h_new",
        _lstm_formula(x, h, c, p, cell_rule="tanh_new"),
    )
    yield "an LSTM without bias_hh: add both biases", _lstm_formula(x, h, c, p, biases=False)


def _gru_formula(x, h, p, *, rule="torch", flip_z=False, biases=True):
    i_r, i_z, i_n = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=1)
    bias_hh = p["bias_hh"] if biases else torch.zeros_like(p["bias_hh"])
    w_r, w_z, w_n = p["weight_hh"].chunk(3, dim=0)
    b_r, b_z, b_n = bias_hh.chunk(3, dim=0)
    r = torch.sigmoid(i_r + h @ w_r.T + b_r)
    z = torch.sigmoid(i_z + h @ w_z.T + b_z)
    if rule == "outside_bias":
        n = torch.tanh(i_n + r * (h @ w_n.T) + b_n)
    elif rule == "before_matmul":
        n = torch.tanh(i_n + (r * h) @ w_n.T + b_n)
    else:
        n = torch.tanh(i_n + r * (h @ w_n.T + b_n))
    if flip_z:
        return z * n + (1 - z) * h
    return (1 - z) * n + z * h


def _gru_variants(x, h, p) -> Variants:
    for description, order in _permutations("a GRU", GRU_NAMES):
        yield description, (_gru_formula(x, h, _blocks(p, order)),)
    yield (
        "a GRU with z and (1 - z) swapped: in torch's GRU, z is the share of the old h kept, "
        "h_new = (1 - z) * n + z * h",
        (_gru_formula(x, h, p, flip_z=True),),
    )
    yield (
        "a GRU with n = tanh(i_n + r * (W_hn h) + b_hn): r must scale (W_hn h + b_hn), "
        "bias included",
        (_gru_formula(x, h, p, rule="outside_bias"),),
    )
    yield (
        "the original paper's GRU, n = tanh(i_n + W_hn (r * h) + b_hn); torch applies r "
        "after the product: r * (W_hn h + b_hn)",
        (_gru_formula(x, h, p, rule="before_matmul"),),
    )
    yield "a GRU without bias_hh: add both biases", (_gru_formula(x, h, p, biases=False),)


# ------------------------------------------------------------------------------- cell checks

# torch's own recurrent modules and kernels: using them would skip the exercise.
TORCH_RECURRENT = frozenset(
    ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "_VF",
     "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "rnn_tanh", "lstm", "gru")
)  # fmt: skip


def _expect_own_cells(tree: ast.AST, path: str) -> None:
    """Fail when the learner's file reaches for torch's recurrent modules or kernels."""
    found: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in TORCH_RECURRENT:
            found.setdefault(node.lineno, f".{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            for alias in node.names:
                if alias.name in TORCH_RECURRENT:
                    found.setdefault(node.lineno, f"import of {node.module}.{alias.name}")
    if found:
        listed = "; ".join(f"line {line}: {what}" for line, what in sorted(found.items()))
        raise CheckFailure(
            f"{path} uses torch's own recurrent modules ({listed}). Your results match, but "
            "this exercise is about writing the cells from their equations with matrix "
            "products, sigmoid and tanh; the checks already compare with torch's modules"
        )


def _cell_inputs(kind: str, N: int, D: int, H: int, rng: torch.Generator):
    cell = _torch_cell(kind, D, H, rng)
    x = torch.randn(N, D, generator=rng, dtype=F64)
    h = torch.randn(N, H, generator=rng, dtype=F64) * 0.5
    c = torch.randn(N, H, generator=rng, dtype=F64)
    return cell, x, h, c


def _expect_state(value: Any, name: str, N: int, H: int, device: torch.device) -> torch.Tensor:
    return expect_tensor(value, name=name, shape=(N, H), dtype=F64, device=device)


@pytest.mark.points(2)
def test_rnn_cell(submission, device, rng, source_tree, exercise):
    """rnn_cell computes the same step as torch.nn.RNNCell with the same weights"""
    for N, D, H in CELL_CASES:
        cell, x, h, _ = _cell_inputs("rnn", N, D, H, rng)
        p = _params(cell)
        name = f"rnn_cell(x, h, params) with N={N}, D={D}, H={H}"
        result = submission.rnn_cell(x.to(device), h.to(device), _params(cell, device))
        got = _expect_state(result, name, N, H, device)
        with torch.no_grad():
            want = cell(x, h)
        hint = _hint(
            (got,), (want,), _rnn_variants(x, h, p),
            "h_new = tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)",
        )  # fmt: skip
        assert_close(got, want, name=name, device=device, hint=hint, **CELL_TOL)
    _expect_own_cells(source_tree, exercise.path)


@pytest.mark.points(3)
def test_lstm_cell(submission, device, rng, source_tree, exercise):
    """lstm_cell computes the same (h, c) as torch.nn.LSTMCell with the same weights"""
    for N, D, H in CELL_CASES:
        cell, x, h, c = _cell_inputs("lstm", N, D, H, rng)
        p = _params(cell)
        call = f"lstm_cell(x, h, c, params) with N={N}, D={D}, H={H}"
        result = submission.lstm_cell(
            x.to(device), h.to(device), c.to(device), _params(cell, device)
        )
        got_h, got_c = _tuple(result, call, 2, "(h_new, c_new)")
        got_h = _expect_state(got_h, f"h_new from {call}", N, H, device)
        got_c = _expect_state(got_c, f"c_new from {call}", N, H, device)
        with torch.no_grad():
            want_h, want_c = cell(x, (h, c))
        hint = _hint(
            (got_h, got_c), (want_h, want_c), _lstm_variants(x, h, c, p),
            "gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, split in the order i, f, g, o; "
            "c_new = f * c + i * g; h_new = o * tanh(c_new)",
        )  # fmt: skip
        assert_close(got_c, want_c, name=f"c_new from {call}", device=device, hint=hint, **CELL_TOL)
        assert_close(got_h, want_h, name=f"h_new from {call}", device=device, hint=hint, **CELL_TOL)
    _expect_own_cells(source_tree, exercise.path)


@pytest.mark.points(3)
def test_gru_cell(submission, device, rng, source_tree, exercise):
    """gru_cell computes the same step as torch.nn.GRUCell with the same weights"""
    for N, D, H in CELL_CASES:
        cell, x, h, _ = _cell_inputs("gru", N, D, H, rng)
        p = _params(cell)
        name = f"gru_cell(x, h, params) with N={N}, D={D}, H={H}"
        result = submission.gru_cell(x.to(device), h.to(device), _params(cell, device))
        got = _expect_state(result, name, N, H, device)
        with torch.no_grad():
            want = cell(x, h)
        hint = _hint(
            (got,), (want,), _gru_variants(x, h, p),
            "blocks in the order r, z, n; n = tanh(i_n + r * (W_hn h + b_hn)); "
            "h_new = (1 - z) * n + z * h",
        )  # fmt: skip
        assert_close(got, want, name=name, device=device, hint=hint, **CELL_TOL)
    _expect_own_cells(source_tree, exercise.path)


# ------------------------------------------------------------------------------ lstm_forward


def _unrolled(cell: nn.LSTMCell, x, h0, c0, carry_h=True, carry_c=True, outputs_c=False):
    """A loop of torch.nn.LSTMCell that may forget to carry h or c (to name a learner's slip)."""
    h, c, outputs = h0, c0, []
    for x_t in x:
        h_new, c_new = cell(x_t, (h if carry_h else h0, c if carry_c else c0))
        h, c = h_new, c_new
        outputs.append(c if outputs_c else h)
    return torch.stack(outputs), h, c


def _forward_variants(cell: nn.LSTMCell, x, h0, c0) -> Variants:
    with torch.no_grad():
        yield (
            "a loop that restarts every step from (h0, c0): pass each step's (h, c) on",
            (_unrolled(cell, x, h0, c0, carry_h=False, carry_c=False)),
        )
        yield (
            "a loop that restarts h from h0 every step: carry h as well as c",
            (_unrolled(cell, x, h0, c0, carry_h=False)),
        )
        yield (
            "a loop that restarts c from c0 every step: carry c as well as h",
            (_unrolled(cell, x, h0, c0, carry_c=False)),
        )
        yield (
            "outputs holding c_t: the output at each step is h_t",
            (_unrolled(cell, x, h0, c0, outputs_c=True)),
        )


@pytest.mark.points(3)
def test_lstm_forward(submission, device, rng, source_tree, exercise):
    """lstm_forward matches a one-layer torch.nn.LSTM: every output and the final (h, c)"""
    T, N, D, H = 7, 3, 4, 5
    lstm = nn.LSTM(D, H).to(F64)
    k = 1.0 / math.sqrt(H)
    with torch.no_grad():
        for param in lstm.parameters():
            param.copy_((torch.rand(param.shape, generator=rng, dtype=F64) * 2 - 1) * k)
    cell = nn.LSTMCell(D, H).to(F64)
    cell.load_state_dict(_params(lstm))
    x = torch.randn(T, N, D, generator=rng, dtype=F64)
    h0 = torch.randn(N, H, generator=rng, dtype=F64) * 0.5
    c0 = torch.randn(N, H, generator=rng, dtype=F64)
    inputs = [x.to(device), h0.to(device), c0.to(device)]
    call = f"lstm_forward(x, h0, c0, params) with x of shape (T, N, D) = ({T}, {N}, {D}), H={H}"
    result, after = submission.call_with_inputs("lstm_forward", *inputs, _params(lstm, device))
    outputs, final = _tuple(result, call, 2, "(outputs, (h_T, c_T))")
    h_T, c_T = _tuple(final, f"the second item returned by {call}", 2, "(h_T, c_T)", "be")
    outputs = expect_tensor(
        outputs, name=f"outputs from {call}", shape=(T, N, H), dtype=F64, device=device
    )
    h_T = _expect_state(h_T, f"h_T from {call}", N, H, device)
    c_T = _expect_state(c_T, f"c_T from {call}", N, H, device)
    with torch.no_grad():
        want_out, (want_h, want_c) = lstm(x, (h0[None], c0[None]))
    want_h, want_c = want_h[0], want_c[0]
    hint = _hint(
        (outputs, h_T, c_T), (want_out, want_h, want_c), _forward_variants(cell, x, h0, c0),
        "if lstm_cell's own check fails, fix it first. Then: start from (h0, c0); at each "
        "step (h, c) = lstm_cell(x[t], h, c, params), keep h, and stack the kept h into "
        "(T, N, H)",
    )  # fmt: skip
    assert_close(outputs, want_out, name=f"outputs from {call}", hint=hint, **CELL_TOL)
    assert_close(h_T, want_h, name=f"h_T from {call}", hint=hint, **CELL_TOL)
    assert_close(c_T, want_c, name=f"c_T from {call}", hint=hint, **CELL_TOL)
    for label, before, now in zip(("x", "h0", "c0"), inputs, after[:3], strict=True):
        if not torch.equal(before.cpu(), now.cpu()):
            raise CheckFailure(
                f"lstm_forward modified its argument {label} in place; build new tensors "
                "(h = ..., not h[:] = ... or h += ...)"
            )
    _expect_own_cells(source_tree, exercise.path)


# --------------------------------------------------------------------------- gradient flow


def _trusted_norms(cell: nn.Module, kind: str, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """input_gradient_norms computed with a torch cell: ||d sum(h_T) / d x[t]|| per step t."""
    x = x.clone().requires_grad_(True)
    h, c = h0, torch.zeros_like(h0)
    with torch.enable_grad():
        for x_t in x:
            if kind == "lstm":
                h, c = cell(x_t, (h, c))
            else:
                h = cell(x_t, h)
        (grad,) = torch.autograd.grad(h.sum(), x)
    return grad.flatten(start_dim=1).norm(dim=1)


def _gradient_cells(rng: torch.Generator) -> dict[str, nn.Module]:
    cells = {kind: _torch_cell(kind, GRAD_D, GRAD_H, rng) for kind in TORCH_CELLS}
    H = GRAD_H
    with torch.no_grad():
        # The LSTM's forget gate and the GRU's update gate start near 1: keep the old state.
        for kind in ("lstm", "gru"):
            bias = cells[kind].get_parameter("bias_ih")
            bias[H : 2 * H] = KEEP_BIAS
    return cells


@pytest.mark.points(2)
def test_gradient_flow(submission, device, metrics, rng):
    """the RNN's gradient from 40 steps back vanishes; the LSTM's, with a forget bias, does not"""
    cells = _gradient_cells(rng)
    x = torch.randn(GRAD_T, GRAD_N, GRAD_D, generator=rng, dtype=F64)
    h0 = torch.zeros(GRAD_N, GRAD_H, dtype=F64)
    trusted = {}
    for kind, cell in cells.items():
        want = _trusted_norms(cell, kind, x, h0)
        call = f'input_gradient_norms("{kind}", x, h0, params) with T={GRAD_T}'
        result = submission.input_gradient_norms(
            kind, x.to(device), h0.to(device), _params(cell, device)
        )
        got = expect_tensor(result, name=call, shape=(GRAD_T,), dtype=F64, device=device)
        for t, value in enumerate(got.cpu().tolist()):
            if math.isfinite(value) and value > 0:
                metrics.emit(f"log10 gradient norm ({kind})", math.log10(value), step=t)
        assert_close(
            got, want, name=call,
            hint=f"compared with the same measure computed with torch.nn.{type(cell).__name__}; "
            f"if {kind}_cell's own check fails, fix it first. Otherwise: run the cell over every "
            "step from h0 (c0 = zeros for the LSTM) on an x with requires_grad, take "
            "torch.autograd.grad(h_T.sum(), x) and the norm of each step's (N, D) slice",
            rtol=1e-6, atol=1e-12 * float(want.abs().max()),
        )  # fmt: skip
        trusted[kind] = want
    rnn_far = float(trusted["rnn"][:FAR_BACK].max())
    lstm_far = float(trusted["lstm"][:FAR_BACK].min())
    if not rnn_far < 1e-3 * lstm_far:
        raise CheckFailure(
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


def _expect_weights(result: Any, H: int, device: torch.device) -> dict[str, torch.Tensor]:
    shapes = {
        "weight_ih": (4 * H, 1),
        "weight_hh": (4 * H, H),
        "bias_ih": (4 * H,),
        "bias_hh": (4 * H,),
        "head_weight": (1, H),
        "head_bias": (1,),
    }
    if type(result) is not dict:
        raise CheckFailure(
            f"train_next_value should return a dict of tensors, got {type_name(result)}"
        )
    missing = [name for name in shapes if name not in result]
    if missing:
        raise CheckFailure(
            f"train_next_value's dict lacks {', '.join(missing)}; return all six tensors of "
            "init_model, trained"
        )
    weights = {}
    for name, shape in shapes.items():
        tensor = expect_tensor(
            result[name], name=f"train_next_value's {name}", shape=shape, device=device
        )
        if not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all()):
            raise CheckFailure(
                f"train_next_value's {name} holds NaN or inf (or is not a float tensor); "
                "did the loss blow up?"
            )
        weights[name] = tensor.detach().cpu().to(F64)
    return weights


@pytest.mark.points(3)
def test_learns_sine(submission, device, metrics, seed):
    """an LSTM trained with your cell predicts the next value of held-out noisy sine waves"""
    data = _sine_data(seed % 1000)
    H = TRAIN_SETTINGS["hidden_size"]
    result = submission.call_logged(
        "train_next_value",
        data["x"].to(device, torch.float32),
        data["y"].to(device, torch.float32),
        **TRAIN_SETTINGS,
        seed=seed % 1000,
        log=metrics.emit,
        timeout=TRAIN_TIMEOUT,
    )
    weights = _expect_weights(result, H, device)
    lstm = nn.LSTM(1, H).to(F64)
    lstm.load_state_dict({f"{name}_l0": weights[name] for name in _params(lstm)})
    with torch.no_grad():
        outputs, _ = lstm(data["x_test"])
        prediction = outputs @ weights["head_weight"].T + weights["head_bias"]
    clean, x_test = data["clean_test"][WARM_UP:], data["x_test"][WARM_UP:]
    mse = float(((prediction[WARM_UP:] - clean) ** 2).mean())
    repeat = float(((x_test - clean) ** 2).mean())
    zero = float((clean**2).mean())
    metrics.emit("held-out MSE", mse, TRAIN_SETTINGS["steps"])
    if not mse < BEAT_REPEAT * repeat:
        raise CheckFailure(
            f"on {SINE_TEST} held-out waves, your trained weights, run here in torch.nn.LSTM "
            f"with a linear head, predict the next clean value with MSE {mse:.4f}; repeating "
            f"the last value gives {repeat:.4f} and predicting 0 gives {zero:.4f}, and the check "
            f"asks for less than {BEAT_REPEAT * repeat:.4f} (settings {TRAIN_SETTINGS}). "
            "Make the cell and lstm_forward checks pass first: weights trained with a cell that "
            "differs from torch's do not work in torch's LSTM. Then check that the loss you log "
            "goes down: Adam over all six tensors, zero_grad before backward"
        )
