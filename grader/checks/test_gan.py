"""Checks for gan: the losses from logits, the two optimizers, the two steps, and training."""

from __future__ import annotations

import functools
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.codec import type_name
from grader.compare import assert_close, expect_tensor, expect_weights, fmt_number
from grader.errors import CheckFailure
from grader.kit import (
    Mistake,
    call_unchanged,
    expect_close,
    fmt_dtype,
    likely_mistake,
    matches,
    py_float,
)

pytestmark = pytest.mark.exercise("gan")

F32, F64 = torch.float32, torch.float64
DTYPES = (F32, F64)
# Inputs are rounded to the dtype first, and the oracle runs in float64 on the rounded values.
TOLERANCE = {F32: {"rtol": 1e-5, "atol": 1e-6}, F64: {"rtol": 1e-10, "atol": 1e-12}}
# Weights after one SGD step of float64 networks: both sides run the same float64 maths.
STEP_TOL: dict[str, Any] = {"rtol": 1e-7, "atol": 1e-10}
N_REAL, N_FAKE = 7, 5  # different sizes, so one mean over both batches is not half the sum
LATENT = 4
EXTREME = (100.0, -100.0, 1000.0, -1000.0, 0.0, 3.0)
MODERATE = (-2.5, -0.5, 0.0, 1.5, 3.0, 0.75)  # where every correct form agrees
POOR_LOGIT = -6.0  # the discriminator's logit for a poor generator's points: D = 0.0025
GRADIENT_RATIO = 100.0  # the non-saturating gradient is about 400 times the minimax one there
STEP_LR, STALE = 0.1, 0.5

# The ring: 8 Gaussians of standard deviation STD on a circle of radius RADIUS.
MODES, RADIUS, STD = 8, 2.0, 0.1
DATA_SEED, DATA_ROWS = 0, 4096  # the training points are the same in every run
TRAIN_SETTINGS: dict[str, Any] = {"steps": 1500, "lr": 2e-3, "batch_size": 128}
TRAIN_TIMEOUT = 120.0  # seconds in the worker; the reference takes two or three
SAMPLES = 2000  # generated points the trusted side draws and judges
NEAR = 3 * STD  # a point this close to a mode's centre counts as that mode's
SHARE = 0.25 / MODES  # a mode is reached by at least a quarter of its fair share of points
MIN_MODES = 6
MIN_NEAR = 0.5  # the share of generated points near some mode
SHOWN = 400  # points of each kind drawn in the figure

D_RULE = "mean over real logits of softplus(-r) plus mean over fake logits of softplus(f)"
MINIMAX_RULE = "mean of log(1 - sigmoid(f)) = -mean of softplus(f)"
NS_RULE = "mean of -log sigmoid(f) = mean of softplus(-f)"
OVERFLOW_HINT = (
    "at a logit of -1000, sigmoid gives exactly 0 and log(0) = -inf (at +1000, 1 - sigmoid "
    "gives 0). Work from the logits: softplus(l) = max(l, 0) + log1p(exp(-|l|)), or "
    "F.binary_cross_entropy_with_logits, never takes a log of 0"
)


# ------------------------------------------------------------------------------------ helpers


def _bce(logits: torch.Tensor, label: float) -> torch.Tensor:
    """torch's binary cross-entropy from logits against one label for all, averaged."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def _trusted_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return _bce(real, 1.0) + _bce(fake, 0.0)


def _trusted_minimax(fake: torch.Tensor) -> torch.Tensor:
    return -_bce(fake, 0.0)


def _trusted_non_saturating(fake: torch.Tensor) -> torch.Tensor:
    return _bce(fake, 1.0)


def _logits(rng: torch.Generator, rows: int) -> torch.Tensor:
    """Random logits of a few units, the first positive and the second negative, so that an
    in-place change to the logits of one sign only shows on every seed."""
    logits = torch.randn(rows, generator=rng, dtype=F64) * 3
    logits[:2] = logits[:2].abs() * torch.tensor([1.0, -1.0], dtype=F64)
    return logits


def _d_mistakes(real: torch.Tensor, fake: torch.Tensor) -> list[Mistake]:
    want = _trusted_d_loss(real, fake)
    both = torch.cat([F.softplus(-real), F.softplus(fake)])
    return [
        Mistake(
            "the labels are swapped: real points get the label 0 and generated ones 1. D "
            "should say 'real' (1) to real points",
            _bce(real, 0.0) + _bce(fake, 1.0),
        ),
        Mistake("it is half the loss: add the two means, do not average them", 0.5 * want),
        Mistake(
            f"it is one mean over all {N_REAL + N_FAKE} logits together; average each batch "
            "on its own, then add the two means",
            both.mean(),
        ),
        Mistake(
            "it is a sum over the points; average each batch",
            F.softplus(-real).sum() + F.softplus(fake).sum(),
        ),
        Mistake("only the real points are scored: add the generated points' term", _bce(real, 1.0)),
    ]


def _ns_mistakes(fake: torch.Tensor) -> list[Mistake]:
    return [
        Mistake(
            "this is the loss with the label 'generated' (0): it rewards G for being caught. "
            "G wants D to say 'real', so its label is 1",
            _bce(fake, 0.0),
        ),
        Mistake(
            "this is the minimax loss, mean log(1 - D(G(z))); the non-saturating one is "
            "mean -log D(G(z))",
            _trusted_minimax(fake),
        ),
        Mistake("the sign is flipped: the loss is mean -log D(G(z)) >= 0", -_bce(fake, 1.0)),
        Mistake("it is a sum over the points; average them", F.softplus(-fake).sum()),
    ]


def _minimax_mistakes(fake: torch.Tensor) -> list[Mistake]:
    return [
        Mistake(
            "the sign is flipped: log(1 - D) is never positive, and the minimax loss is its "
            "mean, -mean of softplus(f)",
            _bce(fake, 0.0),
        ),
        Mistake(
            "this is the non-saturating loss, mean -log D(G(z)); the minimax one is "
            "mean log(1 - D(G(z)))",
            _trusted_non_saturating(fake),
        ),
        Mistake("it is a sum over the points; average them", -F.softplus(fake).sum()),
    ]


def _naive(dtype: torch.dtype, formula, *logits: torch.Tensor) -> Mistake:
    """The loss through sigmoid and log in `dtype`: it loses digits (float32) before it breaks."""
    value = formula(*(torch.sigmoid(t.to(dtype)) for t in logits)).to(F64)
    return Mistake(
        f"this is the loss computed through sigmoid and then log in {fmt_dtype(dtype)}: "
        "1 - sigmoid(l) loses digits as l grows and is exactly 0 from about l = 17 in "
        "float32. Work from the logits (softplus, or binary_cross_entropy_with_logits)",
        value,
    )


def _check_loss(got: Any, want: torch.Tensor, *, name: str, dtype, device, hint, mistakes) -> None:
    expect_tensor(got, name=name, shape=(), dtype=dtype, device=device)
    finite = bool(torch.isfinite(got.detach().cpu()).all())
    expect_close(
        got,
        want,
        name=name,
        hint=hint if finite else OVERFLOW_HINT,
        mistakes=mistakes,
        dtype=dtype,
        device=device,
        **TOLERANCE[dtype],
    )


# The titles of the three value checks, as a learner sees them (for "fix ... first").
TITLES = {
    "discriminator_loss": "discriminator_loss is the mean BCE of real logits against 1 plus that "
    "of fakes against 0",
    "minimax_generator_loss": "minimax_generator_loss is mean log(1 - D(G(z))), never positive",
    "non_saturating_generator_loss": "non_saturating_generator_loss is mean -log D(G(z)): BCE of "
    "the fakes against 1",
}
CLAMPED_HINT = (
    "this is the loss through sigmoid and then a log clamped at -100 (as "
    "F.binary_cross_entropy clamps it): at a logit of -1000 the true term is 1000, the clamp "
    "makes it 100. Work from the logits (softplus, or binary_cross_entropy_with_logits)"
)


def _bce_on_sigmoid(logits: torch.Tensor, label: float, dtype: torch.dtype) -> torch.Tensor:
    """The forbidden form: sigmoid in `dtype`, then torch's BCE, whose log is clamped at -100."""
    p = torch.sigmoid(logits.to(dtype))
    return F.binary_cross_entropy(p, torch.full_like(p, label)).to(F64)


def _clamped(function: str, dtype: torch.dtype, *logits: torch.Tensor) -> torch.Tensor:
    if function == "discriminator_loss":
        return _bce_on_sigmoid(logits[0], 1.0, dtype) + _bce_on_sigmoid(logits[1], 0.0, dtype)
    if function == "minimax_generator_loss":
        return -_bce_on_sigmoid(logits[0], 0.0, dtype)
    return _bce_on_sigmoid(logits[0], 1.0, dtype)


def _extreme_hint(submission, function: str, trusted, device, dtype) -> str:
    """Why a loss goes wrong at extreme logits: wrong already at moderate ones, or unstable."""
    moderate = torch.tensor(MODERATE, dtype=F64)
    args = (moderate, moderate.flip(0)) if function == "discriminator_loss" else (moderate,)
    try:
        got = getattr(submission, function)(*(a.to(device, dtype) for a in args))
        wrong_already = not matches(got, trusted(*args), **TOLERANCE[dtype])
    except CheckFailure:  # the learner's code raised on moderate logits: wrong there too
        wrong_already = True
    if wrong_already:
        return f"{function} is wrong at moderate logits too: fix {TITLES[function]!r} first"
    return "compute from the logits with softplus or binary_cross_entropy_with_logits"


# ------------------------------------------------------------------------------------- losses


@pytest.mark.points(2)
def test_discriminator_loss(submission, device, rng):
    """discriminator_loss is the mean BCE of real logits against 1 plus that of fakes against 0"""
    real, fake = _logits(rng, N_REAL), _logits(rng, N_FAKE)
    for dtype in DTYPES:
        r, f = real.to(dtype).to(F64), fake.to(dtype).to(F64)
        sent = (r.to(device, dtype), f.to(device, dtype))
        got = call_unchanged(
            submission, "discriminator_loss", *sent, names=("real_logits", "fake_logits")
        )
        _check_loss(
            got,
            _trusted_d_loss(r, f),
            name=f"discriminator_loss({N_REAL} real, {N_FAKE} fake logits) in {fmt_dtype(dtype)}",
            dtype=dtype,
            device=device,
            hint=D_RULE,
            mistakes=[
                *_d_mistakes(r, f),
                _naive(dtype, lambda a, b: -a.log().mean() - (1 - b).log().mean(), r, f),
            ],
        )


@pytest.mark.points(1)
def test_minimax_generator_loss(submission, device, rng):
    """minimax_generator_loss is mean log(1 - D(G(z))), never positive"""
    fake = _logits(rng, N_FAKE)
    for dtype in DTYPES:
        f = fake.to(dtype).to(F64)
        got = call_unchanged(
            submission, "minimax_generator_loss", f.to(device, dtype), names=("fake_logits",)
        )
        _check_loss(
            got,
            _trusted_minimax(f),
            name=f"minimax_generator_loss({N_FAKE} logits) in {fmt_dtype(dtype)}",
            dtype=dtype,
            device=device,
            hint=MINIMAX_RULE,
            mistakes=[*_minimax_mistakes(f), _naive(dtype, lambda b: (1 - b).log().mean(), f)],
        )


@pytest.mark.points(1)
def test_non_saturating_generator_loss(submission, device, rng):
    """non_saturating_generator_loss is mean -log D(G(z)): BCE of the fakes against 1"""
    fake = _logits(rng, N_FAKE)
    for dtype in DTYPES:
        f = fake.to(dtype).to(F64)
        got = call_unchanged(
            submission, "non_saturating_generator_loss", f.to(device, dtype), names=("fake_logits",)
        )
        _check_loss(
            got,
            _trusted_non_saturating(f),
            name=f"non_saturating_generator_loss({N_FAKE} logits) in {fmt_dtype(dtype)}",
            dtype=dtype,
            device=device,
            hint=NS_RULE,
            mistakes=[*_ns_mistakes(f), _naive(dtype, lambda b: -b.log().mean(), f)],
        )


@pytest.mark.points(2)
def test_extreme_logits(submission, device):
    """all three losses stay finite and right at logits of +-100 and +-1000"""
    logits = torch.tensor(EXTREME, dtype=F64)
    shown = ", ".join(f"{v:g}" for v in EXTREME)
    for dtype in DTYPES:
        on = logits.to(device, dtype)
        cases = (
            ("discriminator_loss", (on, on.flip(0)), _trusted_d_loss, (logits, logits.flip(0))),
            ("minimax_generator_loss", (on,), _trusted_minimax, (logits,)),
            ("non_saturating_generator_loss", (on,), _trusted_non_saturating, (logits,)),
        )
        for function, args, trusted, exact in cases:
            got = getattr(submission, function)(*args)
            call = "(r, f)" if len(args) == 2 else "(f)"
            want = trusted(*exact)
            right = matches(got, want, **TOLERANCE[dtype])
            _check_loss(
                got,
                want,
                name=f"{function}{call} with logits {shown} in {fmt_dtype(dtype)}",
                dtype=dtype,
                device=device,
                hint="" if right else _extreme_hint(submission, function, trusted, device, dtype),
                mistakes=[Mistake(CLAMPED_HINT, _clamped(function, dtype, *exact))],
            )


@pytest.mark.points(2)
def test_non_saturating_gradient(submission, device, rng):
    """at a poor generator the non-saturating loss has a far larger gradient than the minimax one"""
    logits = POOR_LOGIT + 0.5 * torch.randn(N_FAKE * 3, generator=rng, dtype=F64)
    result = submission.generator_loss_gradients(logits.to(device))
    if type(result) is not dict or set(result) != {"minimax", "non_saturating"}:
        raise CheckFailure(
            f"generator_loss_gradients (provided) returned {type_name(result)}; restore it"
        )
    count = len(logits)
    expected = {
        "minimax": -torch.sigmoid(logits) / count,
        "non_saturating": -torch.sigmoid(-logits) / count,
    }
    functions = {
        "minimax": "minimax_generator_loss",
        "non_saturating": "non_saturating_generator_loss",
    }
    got = {}
    for key, function in functions.items():
        if result[key] is None:
            raise CheckFailure(
                f"no gradient reached the logits through {function}: its result is not "
                "connected to them in autograd's graph (a .item(), .detach(), .data, "
                "torch.tensor(...) or torch.no_grad() on the way). Build the loss with tensor "
                "operations on the logits"
            )
        name = f"the gradient of {function} for {count} logits near {POOR_LOGIT:g}"
        got[key] = expect_tensor(result[key], name=name, shape=logits.shape, device=device)
    sizes = {key: float(got[key].detach().cpu().double().norm()) for key in functions}
    if not sizes["non_saturating"] > GRADIENT_RATIO * sizes["minimax"]:
        raise CheckFailure(
            f"at logits near {POOR_LOGIT:g}, where D(G(z)) is about "
            f"{1 / (1 + math.exp(-POOR_LOGIT)):.4f} (D rejects the fakes), the gradient of your "
            f"non_saturating_generator_loss has size {fmt_number(sizes['non_saturating'])} and "
            f"that of your minimax_generator_loss {fmt_number(sizes['minimax'])}: the first "
            f"should be over {GRADIENT_RATIO:g} times the second. Per logit, the minimax "
            "gradient is -sigmoid(f) / M, almost 0 here, and the non-saturating one "
            "-(1 - sigmoid(f)) / M, almost -1 / M"
        )
    for key, function in functions.items():
        assert_close(
            got[key],
            expected[key],
            name=f"the gradient of {function} for {count} logits near {POOR_LOGIT:g}",
            dtype=F64,
            device=device,
            hint=(MINIMAX_RULE if key == "minimax" else NS_RULE)
            + " (if the check of its values fails, fix that first)",
            **TOLERANCE[F64],
        )


# -------------------------------------------------------------------------------- the networks


class TrustedGenerator(nn.Module):
    """The provided Generator's architecture, rebuilt here to load the learner's weights."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class TrustedDiscriminator(nn.Module):
    """The provided Discriminator's architecture."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2),
            nn.Linear(64, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


NETWORKS = {"generator": TrustedGenerator, "discriminator": TrustedDiscriminator}


def _start_states(seed: int, dtype: torch.dtype = F64) -> dict[str, dict[str, torch.Tensor]]:
    """Both networks' initial weights for `seed`, leaving the grader's random state alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return {name: dict(cls().to(dtype).state_dict()) for name, cls in NETWORKS.items()}


def _loaded(name: str, state: dict[str, torch.Tensor]) -> nn.Module:
    model = NETWORKS[name]().double()
    model.load_state_dict({key: value.detach().cpu().double() for key, value in state.items()})
    return model


def _expect_state(value: Any, name: str, what: str, device, dtype=F64) -> dict[str, torch.Tensor]:
    like = NETWORKS[name]().to(dtype).state_dict()
    checked = expect_weights(
        value, like, what=what, device=device, restore="restore the provided helpers"
    )
    return {key: checked[key].detach().cpu() for key in like}


def _sgd_step(state: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], lr: float) -> dict:
    return {key: state[key] - lr * grads[key] for key in state}


def _gradients(model: nn.Module, loss: torch.Tensor) -> dict[str, torch.Tensor]:
    names = [name for name, _ in model.named_parameters()]
    grads = torch.autograd.grad(loss, [p for _, p in model.named_parameters()])
    return dict(zip(names, grads, strict=True))


def _state_close(got, want, *, network: str, where: str, hint: str, mistakes=()) -> None:
    """Compare two weight dicts entry by entry; a mistake's hint only if all entries match it
    (each mistake's variant is a weight dict in `_as_tuple` order)."""
    hint = likely_mistake(_as_tuple(got), mistakes, default=hint, expected=_as_tuple(want),
                          rtol=1e-6, atol=1e-9)  # fmt: skip
    for key in want:
        assert_close(got[key], want[key], name=f"the {network}'s {key!r} {where}", **STEP_TOL,
                     hint=hint)  # fmt: skip


def _as_tuple(state: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    return tuple(state[key] for key in sorted(state))


def _step_problem(rng: torch.Generator):
    seed = int(torch.randint(2**31, (1,), generator=rng))
    states = _start_states(seed)
    real = RADIUS * torch.randn(N_REAL * 2, 2, generator=rng, dtype=F64)
    z = torch.randn(N_FAKE * 2, LATENT, generator=rng, dtype=F64)
    return states, real, z


def _step(submission, which, states, real, z, device) -> dict[str, Any]:
    args = (states["generator"], states["discriminator"], real.to(device), z.to(device))
    result = submission.step_from(which, *args, STEP_LR, STALE)
    keys = {"loss", "generator", "discriminator", "generator_grads", "discriminator_grads"}
    if type(result) is not dict or set(result) != keys:
        raise CheckFailure(f"step_from (provided) returned {type_name(result)}; restore it")
    function = f"{which}_step"
    result["loss"] = py_float(result["loss"], f"the loss {function} returned (loss.item())")
    for name in NETWORKS:
        result[name] = _expect_state(result[name], name, f"the {name}'s weights", device)
    return result


def _unchanged(got: dict, want: dict, *, network: str, function: str, advice: str) -> None:
    for key, tensor in want.items():
        if not torch.equal(got[key], tensor):
            raise CheckFailure(
                f"{function} changed the {network}'s {key!r}; a {function.split('_')[0]} step "
                f"leaves the {network}'s weights as they were. {advice}"
            )


# --------------------------------------------------------------------------------- optimizers


def test_make_optimizers(submission, rng):
    """make_optimizers gives each network its own Adam (betas 0.5, 0.999) over its own weights"""
    states = _start_states(int(torch.randint(2**31, (1,), generator=rng)))
    lr = 2e-3
    result = submission.optimizers_from(states["generator"], states["discriminator"], lr)
    if type(result) is not list or len(result) != 2:
        raise CheckFailure(
            "make_optimizers should return a tuple (g_optimizer, d_optimizer) of 2 optimizers; "
            f"optimizers_from (provided) saw {type_name(result)}"
        )
    for index, name in enumerate(NETWORKS):
        owned = {f"{name}.{key}" for key, _ in NETWORKS[name]().named_parameters()}
        described = result[index]
        label = f"make_optimizers' {('g', 'd')[index]}_optimizer"
        if type(described) is not dict or described.get("type") != "Adam":
            kind = described.get("type") if type(described) is dict else type_name(described)
            raise CheckFailure(f"{label} should be a torch.optim.Adam, got {kind}")
        held = described["params"]
        other = [p for p in held if not p.startswith(f"{name}.")]
        if other:
            raise CheckFailure(
                f"{label} also holds {len(other)} parameters that are not the {name}'s (such as "
                f"{other[0]}). With one optimizer over both networks, each step moves both: "
                f"the {('discriminator', 'generator')[index]} would also follow the {name}'s "
                f"loss. Build it over {name}.parameters() only"
            )
        if set(held) != owned or len(held) != len(owned):
            raise CheckFailure(
                f"{label} holds {len(held)} parameters, expected the {len(owned)} of the {name} "
                f"(each once): {name}.parameters()"
            )
        if not math.isclose(described["lr"], lr, rel_tol=1e-12):
            raise CheckFailure(
                f"{label} has lr={described['lr']:g}, expected the lr passed in, {lr:g}"
            )
        betas = described["betas"]
        if len(betas) != 2 or not all(
            math.isclose(a, b) for a, b in zip(betas, (0.5, 0.999), strict=True)
        ):
            raise CheckFailure(f"{label} has betas={betas}, expected (0.5, 0.999)")


# ------------------------------------------------------------------------------------- steps


@pytest.mark.points(2)
def test_discriminator_step(submission, device, rng):
    """discriminator_step updates only D, from cleared gradients, and sends none into G"""
    states, real, z = _step_problem(rng)
    result = _step(submission, "discriminator", states, real, z, device)
    generator, discriminator = (
        _loaded("generator", states["generator"]),
        _loaded("discriminator", states["discriminator"]),
    )
    fake = generator(z).detach()
    loss = _trusted_d_loss(discriminator(real), discriminator(fake))
    grads = _gradients(discriminator, loss)
    start = states["discriminator"]
    want = _sgd_step(start, grads, STEP_LR)
    story = (
        f"one step of SGD(lr={STEP_LR}) on discriminator_loss, from parameters that hold a stale "
        f"gradient of {STALE} everywhere"
    )
    leaked = {
        key: grad
        for key, grad in result["generator_grads"].items()
        if grad is not None and (type(grad) is not torch.Tensor or bool(grad.ne(0).any()))
    }
    if leaked:
        raise CheckFailure(
            f"during discriminator_step gradients reached the generator (its {sorted(leaked)[0]!r} "
            "has a .grad): the fake batch was not detached from the generator's graph. "
            "Generate it, then .detach() it before D scores it: the discriminator's loss "
            "must not train, or even touch, the generator"
        )
    _unchanged(result["generator"], states["generator"], network="generator",
               function="discriminator_step", advice="Only d_optimizer steps here")  # fmt: skip
    if all(torch.equal(result["discriminator"][k], start[k]) for k in start):
        raise CheckFailure(
            "discriminator_step left the discriminator's weights as they were: after "
            "loss.backward(), call d_optimizer.step()"
        )
    mistakes = [
        Mistake(
            "the stale gradients were not cleared: call d_optimizer.zero_grad() before "
            "backward, or the step adds the gradients left from an earlier step",
            _as_tuple(_sgd_step(start, {k: g + STALE for k, g in grads.items()}, STEP_LR)),
        ),
        Mistake(
            "the step went uphill: backward the loss itself and let d_optimizer.step() "
            "subtract the gradient",
            _as_tuple(_sgd_step(start, {k: -g for k, g in grads.items()}, STEP_LR)),
        ),
    ]
    hint = f"expected {story} (if the discriminator_loss check fails, fix that first)"
    _state_close(result["discriminator"], want, network="discriminator",
                 where="after discriminator_step", hint=hint, mistakes=mistakes)  # fmt: skip
    expect_close(
        result["loss"],
        float(loss),
        name="the loss discriminator_step returned",
        hint="return loss.item() of the loss you backpropagated (before the step)",
        rtol=1e-7,
    )


@pytest.mark.points(2)
def test_generator_step(submission, device, rng):
    """generator_step updates only G, through D, with the non-saturating loss"""
    states, _, z = _step_problem(rng)
    result = _step(submission, "generator", states, torch.zeros(1, 2, dtype=F64), z, device)
    generator, discriminator = (
        _loaded("generator", states["generator"]),
        _loaded("discriminator", states["discriminator"]),
    )
    logits = discriminator(generator(z))
    loss = _trusted_non_saturating(logits)
    grads = _gradients(generator, loss)
    start = states["generator"]
    want = _sgd_step(start, grads, STEP_LR)
    _unchanged(result["discriminator"], states["discriminator"], network="discriminator",
               function="generator_step", advice="Only g_optimizer steps here")  # fmt: skip
    if all(torch.equal(result["generator"][k], start[k]) for k in start):
        raise CheckFailure(
            "generator_step left the generator's weights as they were. The gradient must flow "
            "from the loss back through the discriminator into the generator: do not detach "
            "G(z) here, and call g_optimizer.step() after loss.backward()"
        )
    minimax_grads = _gradients(generator, _trusted_minimax(discriminator(generator(z))))
    wrong_label = _gradients(generator, _bce(discriminator(generator(z)), 0.0))
    mistakes = [
        Mistake(
            "the stale gradients were not cleared: call g_optimizer.zero_grad() before "
            "backward, or the step adds the gradients left from an earlier step",
            _as_tuple(_sgd_step(start, {k: g + STALE for k, g in grads.items()}, STEP_LR)),
        ),
        Mistake(
            "this step minimizes the minimax loss; generator_step uses the non-saturating one",
            _as_tuple(_sgd_step(start, minimax_grads, STEP_LR)),
        ),
        Mistake(
            "this step trains G to be caught: its loss scores the fakes against the label 0. "
            "G wants D to call them real (label 1)",
            _as_tuple(_sgd_step(start, wrong_label, STEP_LR)),
        ),
    ]
    hint = (
        f"expected one step of SGD(lr={STEP_LR}) on non_saturating_generator_loss of "
        f"D(G(z)), from parameters that hold a stale gradient of {STALE} everywhere (if the "
        "non_saturating_generator_loss check fails, fix that first)"
    )
    _state_close(result["generator"], want, network="generator", where="after generator_step",
                 hint=hint, mistakes=mistakes)  # fmt: skip
    expect_close(
        result["loss"],
        float(loss),
        name="the loss generator_step returned",
        hint="return loss.item() of the loss you backpropagated (before the step)",
        rtol=1e-7,
    )


# ----------------------------------------------------------------------------------- training


def _centres() -> torch.Tensor:
    angles = torch.arange(MODES, dtype=F64) * 2 * math.pi / MODES
    return RADIUS * torch.stack([angles.cos(), angles.sin()], dim=1)


@functools.lru_cache(maxsize=1)
def _ring() -> torch.Tensor:
    """DATA_ROWS points of the ring of Gaussians, float32, the same in every run."""
    noise = torch.Generator().manual_seed(DATA_SEED)
    modes = torch.randint(MODES, (DATA_ROWS,), generator=noise)
    points = _centres()[modes] + STD * torch.randn(DATA_ROWS, 2, generator=noise, dtype=F64)
    return points.float()


def _generate(state: dict[str, torch.Tensor], seed: int) -> torch.Tensor:
    """SAMPLES points from a generator with these weights, drawn here with trusted noise."""
    model = _loaded("generator", state)
    z = torch.randn(SAMPLES, LATENT, generator=torch.Generator().manual_seed(seed), dtype=F64)
    with torch.no_grad():
        return model(z)


def _coverage(points: torch.Tensor) -> tuple[list[int], float]:
    """Points near each mode (within NEAR of its centre), and the share near any mode."""
    distance, nearest = torch.cdist(points, _centres()).min(dim=1)
    near = distance < NEAR
    counts = torch.bincount(nearest[near], minlength=MODES).tolist()
    return counts, float(near.double().mean())


def _show(metrics, points: torch.Tensor, caption: str) -> None:
    """Real and generated points side by side (a picture only, never a verdict)."""
    real = _ring()[:SHOWN].double()
    fake = points[:SHOWN].clamp(-2 * RADIUS, 2 * RADIUS)
    both = torch.cat([real, fake])
    centres = _centres()
    data = {
        "x": both[:, 0],
        "y": both[:, 1],
        "group": [0] * len(real) + [1] * len(fake),
        "groups": ["real", "generated"],
        "marks": [{"label": "mode centres", "x": centres[:, 0], "y": centres[:, 1]}],
        "caption": caption,
    }
    metrics.figure("GAN samples", "scatter", data)


@pytest.mark.points(3)
def test_training_covers_modes(submission, device, metrics, seed):
    """a small GAN trained on a ring of 8 Gaussians with your code generates points on most modes"""
    start = _start_states(seed, F32)
    _show(
        metrics,
        _generate(start["generator"], seed),
        "the untrained generator, while yours trains...",
    )
    result = submission.call_logged(
        "train_gan",
        _ring(),
        **TRAIN_SETTINGS,
        seed=seed,
        device=str(device),
        log=metrics.emit,
        timeout=TRAIN_TIMEOUT,
    )
    if type(result) is not dict or set(result) != set(NETWORKS):
        raise CheckFailure(f"train_gan (provided) returned {type_name(result)}; restore it")
    state = _expect_state(result["generator"], "generator", "the generator's weights", device, F32)
    points = _generate(state, seed)
    steps = TRAIN_SETTINGS["steps"]
    counts, near = _coverage(points)
    reached = sum(count >= SHARE * SAMPLES for count in counts)
    metrics.emit("modes reached", float(reached), steps)
    metrics.emit("share near a mode", near, steps)
    _show(metrics, points, f"after {steps} steps: {reached} of {MODES} modes reached")
    story = (
        f"measured here on {SAMPLES} points drawn from the generator you trained for {steps} "
        f"steps: {near:.0%} lie within {NEAR:g} of a mode's centre, and the modes hold "
        f"{counts} of them"
    )
    if not torch.isfinite(points).all():
        raise CheckFailure(
            "the trained generator outputs NaN or inf: a loss blew up during training (check "
            "test_extreme_logits and the loss checks)"
        )
    if near < MIN_NEAR:
        raise CheckFailure(
            f"the generator did not learn the data: {story}. A working GAN puts at least "
            f"{MIN_NEAR:.0%} of its points near a mode. If the losses or the steps fail their "
            "own checks, fix those first"
        )
    if reached < MIN_MODES:
        collapse = "mode collapse: " if near >= MIN_NEAR else ""
        raise CheckFailure(
            f"{collapse}only {reached} of the {MODES} modes get at least "
            f"{fmt_number(SHARE * SAMPLES)} points; {story}. A working GAN reaches at least "
            f"{MIN_MODES}. The discriminator has to keep learning to tell the collapsed points "
            "from the data: check that each network has its own optimizer and that "
            "each step changes only its own network"
        )
