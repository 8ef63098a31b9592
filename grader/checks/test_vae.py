"""Checks for vae: reparameterization, the KL term, reconstruction, the ELBO and training."""

from __future__ import annotations

import ast
import functools
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence

from grader.codec import type_name
from grader.compare import assert_close, expect_tensor, expect_weights, fmt_pair
from grader.datasets import digits
from grader.errors import CheckFailure

pytestmark = pytest.mark.exercise("vae")

F32, F64 = torch.float32, torch.float64
DTYPES = (F32, F64)
# Inputs are rounded to the dtype first, and the oracle runs in float64 on the rounded values.
TOLERANCE = {F32: {"rtol": 1e-5, "atol": 1e-5}, F64: {"rtol": 1e-9, "atol": 1e-10}}
# Sums over 64 pixels in float32 lose a few more digits.
SUM_TOLERANCE = {F32: {"rtol": 1e-5, "atol": 1e-4}, F64: {"rtol": 1e-9, "atol": 1e-9}}
N_ROWS, N_LATENT, N_PIXELS = 6, 3, 64

MC_SAMPLES = 200_000
MC_SIGMAS = 5.0  # a correct KL fails with probability below 1e-6 per row

SPLIT_SEED = 0  # the held-out digits are the same in every run
HELD_OUT = 300
TRAIN_SETTINGS: dict[str, Any] = {"epochs": 30, "lr": 3e-3, "batch_size": 64, "beta": 1.0}
TRAIN_TIMEOUT = 120.0  # seconds in the worker; the reference takes about one
RECON_FRACTION = 0.85  # held-out reconstruction must reach this fraction of the baseline's
ELBO_DRAWS = 8  # draws of eps for the held-out negative ELBO
SHOWN = 8  # held-out digits drawn beside their reconstructions

OVERFLOW_HINT = (
    "a logit of +-100 gives sigmoid = 0 or 1 exactly, and log(0) = -inf. Work from the "
    "logits: max(l, 0) - l * x + log1p(exp(-|l|)) never takes a log of 0"
)

# What must not appear inside reparameterize: own noise, or a cut in the autograd graph.
BLOCKED = {
    "randn": "draws its own noise instead of using eps",
    "randn_like": "draws its own noise instead of using eps",
    "rand": "draws its own noise instead of using eps",
    "rand_like": "draws its own noise instead of using eps",
    "normal": "draws its own noise instead of using eps",
    "normal_": "draws its own noise instead of using eps",
    "sample": "samples a distribution, which blocks the gradient",
    "rsample": "samples with its own noise instead of using eps",
    "no_grad": "turns autograd off, so no gradient reaches mu and logvar",
    "inference_mode": "turns autograd off, so no gradient reaches mu and logvar",
    "detach": "cuts the autograd graph, so no gradient reaches mu or logvar",
    "data": "reads .data, which is outside the autograd graph",
}


# ------------------------------------------------------------------------------------ helpers


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _latents(rng: torch.Generator, rows: int = N_ROWS) -> tuple[torch.Tensor, torch.Tensor]:
    """mu and logvar with a spread of variances (std from about 0.2 to 5), in float64."""
    mu = torch.randn(rows, N_LATENT, generator=rng, dtype=F64) * 1.5
    logvar = (torch.rand(rows, N_LATENT, generator=rng, dtype=F64) - 0.5) * 6
    return mu, logvar


def _trusted_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """torch.distributions' KL to N(0, 1), per row, summed over latents."""
    std = torch.exp(0.5 * logvar)
    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return kl_divergence(Normal(mu, std), prior).sum(dim=1)


def _trusted_bernoulli(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)


def _trusted_gaussian(x_hat: torch.Tensor, x: torch.Tensor, variance: float) -> torch.Tensor:
    """Normal's negative log-density per row, with its constant 0.5 * D * log(2 pi var) removed."""
    log_density = Normal(x_hat, math.sqrt(variance)).log_prob(x).sum(dim=1)
    constant = 0.5 * x.shape[1] * math.log(2 * math.pi * variance)
    return -log_density - constant


def _matches(got: Any, candidate: torch.Tensor) -> bool:
    """Whether a returned tensor equals `candidate` (a known mistake) to float32 precision."""
    if type(got) is not torch.Tensor or tuple(got.shape) != tuple(candidate.shape):
        return False
    value = got.detach().cpu().to(F64)
    return bool(torch.allclose(value, candidate, rtol=1e-4, atol=1e-5))


def _check(
    got: Any,
    want: torch.Tensor,
    *,
    name: str,
    dtype: torch.dtype,
    device: torch.device,
    hint: str,
    mistakes: tuple[tuple[torch.Tensor, str], ...] = (),
    tolerance: dict[str, float] | None = None,
) -> None:
    """Type, shape, dtype and device, then a known mistake by name, then the values."""
    expect_tensor(got, name=name, shape=want.shape, dtype=dtype, device=device)
    for candidate, message in mistakes:
        if not _matches(got, want) and _matches(got, candidate):
            raise CheckFailure(f"{name} is wrong: {message}")
    assert_close(
        got,
        want,
        name=name,
        dtype=dtype,
        device=device,
        hint=hint,
        **(tolerance or TOLERANCE[dtype]),
    )


def _function_node(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    """The module-level `def name`; the last one, since a later definition replaces earlier ones."""
    found = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            found = node
    return found


# ---------------------------------------------------------------------------- reparameterize


@pytest.mark.points(2)
def test_reparameterize_values(submission, device, rng):
    """reparameterize returns mu + exp(0.5 * logvar) * eps for the eps it is given"""
    mu, logvar = _latents(rng)
    eps = torch.randn(N_ROWS, N_LATENT, generator=rng, dtype=F64)
    hint = "z = mu + exp(0.5 * logvar) * eps, with the eps passed in"
    zero_hint = "with eps = 0 the sample is mu itself; use the eps argument, not torch.randn"
    for dtype in DTYPES:
        m, lv, e = (t.to(dtype).to(F64) for t in (mu, logvar, eps))
        mistakes = (
            (m + torch.exp(lv) * e, "it uses std = exp(logvar), which is the variance; the "
             "standard deviation is exp(0.5 * logvar)"),
            (m + lv * e, "it multiplies eps by logvar itself; the standard deviation is "
             "exp(0.5 * logvar)"),
            (m + torch.exp(0.5 * lv), "it leaves eps out: z = mu + std * eps"),
        )  # fmt: skip
        for case, noise in (("random eps", e), ("eps = 0", torch.zeros_like(e))):
            args = (t.to(device, dtype) for t in (m, lv, noise))
            got = submission.reparameterize(*args)
            name = f"reparameterize(mu, logvar, {case}) in {_dtype_name(dtype)}"
            _check(
                got,
                m + torch.exp(0.5 * lv) * noise,
                name=name,
                dtype=dtype,
                device=device,
                hint=hint if case == "random eps" else zero_hint,
                mistakes=mistakes if case == "random eps" else (),
            )


@pytest.mark.points(2)
def test_reparameterize_gradients(submission, device, rng):
    """gradients flow from z back to mu and logvar: dz/dmu = 1, dz/dlogvar = 0.5 * std * eps"""
    mu, logvar = _latents(rng)
    eps = torch.randn(N_ROWS, N_LATENT, generator=rng, dtype=F64)
    upstream = torch.randn(N_ROWS, N_LATENT, generator=rng, dtype=F64)
    args = [t.to(device) for t in (mu, logvar, eps, upstream)]
    result = submission.reparameterize_grads(*args)
    if type(result) is not dict or set(result) != {"z", "tracks_grad", "d_mu", "d_logvar"}:
        raise CheckFailure(
            f"reparameterize_grads (provided) returned {type_name(result)}; restore it"
        )
    expect_tensor(result["z"], name="reparameterize's z", shape=mu.shape, dtype=F64, device=device)
    if result["tracks_grad"] is not True:
        raise CheckFailure(
            "the z that reparameterize returns is not connected to mu and logvar in autograd's "
            "graph, so backward() cannot reach the encoder. Compute z from mu and logvar with "
            "ordinary tensor operations: no torch.no_grad(), no .detach(), no torch.tensor(...) "
            "around the result"
        )
    std = torch.exp(0.5 * logvar)
    expected = {"d_mu": upstream, "d_logvar": upstream * 0.5 * std * eps}
    hints = {
        "d_mu": "z = mu + std * eps moves one for one with mu, so the gradient for mu is the "
        "upstream gradient itself; was mu detached?",
        "d_logvar": "d z / d logvar = 0.5 * exp(0.5 * logvar) * eps; check std = "
        "exp(0.5 * logvar) and that logvar is not detached",
    }
    for key, label in (("d_mu", "mu"), ("d_logvar", "logvar")):
        if result[key] is None:
            raise CheckFailure(
                f"no gradient reached {label} after backward() through reparameterize's z: "
                f"{label} is cut off from the graph (a .detach(), .item(), .data or "
                "torch.no_grad() on the way). " + hints[key].split(";")[0]
            )
        assert_close(
            result[key],
            expected[key],
            name=f"the gradient of sum(z * upstream) for {label}",
            dtype=F64,
            device=device,
            hint=hints[key],
            **TOLERANCE[F64],
        )


def test_reparameterize_uses_eps(submission, exercise, source_tree, rng):
    """reparameterize takes its randomness only from eps: no torch.randn, no_grad or detach"""
    mu, logvar = _latents(rng)
    eps = torch.randn(N_ROWS, N_LATENT, generator=rng, dtype=F64)
    first = submission.reparameterize(mu, logvar, eps)
    second = submission.reparameterize(mu, logvar, eps)
    expect_tensor(first, name="reparameterize(mu, logvar, eps)", shape=mu.shape)
    expect_tensor(second, name="reparameterize(mu, logvar, eps)", shape=mu.shape)
    if not torch.equal(first, second):
        raise CheckFailure(
            "two calls of reparameterize with the same mu, logvar and eps gave different z: it "
            "draws noise of its own. All the randomness must come from eps"
        )
    function = _function_node(source_tree, "reparameterize")
    found = []
    if function is not None:
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and node.attr in BLOCKED:
                found.append(f"line {node.lineno}: .{node.attr} {BLOCKED[node.attr]}")
            elif isinstance(node, ast.Name) and node.id in BLOCKED:
                found.append(f"line {node.lineno}: {node.id} {BLOCKED[node.id]}")
    if found:
        listed = "\n  ".join(found[:6])
        raise CheckFailure(
            f"reparameterize in {exercise.path}:\n  {listed}\n"
            "The trick only works if z = mu + exp(0.5 * logvar) * eps is built from the eps it "
            "is given, inside autograd's graph"
        )


# ------------------------------------------------------------------------------------------ KL


@pytest.mark.points(2)
def test_kl_matches_torch(submission, device, rng):
    """kl_divergence matches torch.distributions' KL to N(0, I), summed over latents"""
    mu, logvar = _latents(rng)
    mu[0], logvar[0] = 0.0, 0.0  # the prior itself: KL exactly 0
    hint = "KL_n = -0.5 * sum over latents of (1 + logvar - mu ** 2 - exp(logvar))"
    for dtype in DTYPES:
        m, lv = mu.to(dtype).to(F64), logvar.to(dtype).to(F64)
        want = _trusted_kl(m, lv)
        mistakes = (
            (-want, "it has the wrong sign (a KL divergence is never negative): the formula "
             "starts with -0.5"),
            (2 * want, "it is twice the KL: the formula has a factor -0.5, not -1"),
            (want / N_LATENT, f"it is the mean over the {N_LATENT} latent dimensions; sum "
             "over them (dim=1) instead"),
            (-0.5 * (1 + lv - m**2 - torch.exp(0.5 * lv)).sum(dim=1), "it uses exp(0.5 * "
             "logvar) where the formula has the variance exp(logvar)"),
        )  # fmt: skip
        got = submission.kl_divergence(m.to(device, dtype), lv.to(device, dtype))
        name = f"kl_divergence(mu, logvar) for {N_ROWS} rows in {_dtype_name(dtype)}"
        _check(got, want, name=name, dtype=dtype, device=device, hint=hint, mistakes=mistakes)


def test_kl_monte_carlo(submission, device, rng):
    """kl_divergence agrees with a Monte-Carlo estimate from samples of q (a statistical check)"""
    mu, logvar = _latents(rng, rows=4)
    got = submission.kl_divergence(mu.to(device), logvar.to(device))
    expect_tensor(got, name="kl_divergence(mu, logvar)", shape=(4,), dtype=F64, device=device)
    # KL(q || p) = E_q[log q(z) - log p(z)]: average that over many z drawn from q.
    std = torch.exp(0.5 * logvar)
    z = mu + std * torch.randn(MC_SAMPLES, *mu.shape, generator=rng, dtype=F64)
    log_ratio = Normal(mu, std).log_prob(z).sum(-1) - Normal(0.0, 1.0).log_prob(z).sum(-1)
    estimate = log_ratio.mean(dim=0)
    standard_error = log_ratio.std(dim=0) / math.sqrt(MC_SAMPLES)
    value = got.detach().cpu()
    for row in range(len(estimate)):
        allowed = MC_SIGMAS * float(standard_error[row]) + 1e-6
        if abs(float(value[row]) - float(estimate[row])) > allowed:
            got_s, want_s = fmt_pair(float(value[row]), float(estimate[row]))
            raise CheckFailure(
                f"kl_divergence gives {got_s} for row {row}, but averaging log q(z) - log p(z) "
                f"over {MC_SAMPLES} samples z ~ q gives {want_s} (+- {allowed:.3g}, "
                f"{MC_SIGMAS:g} standard errors). The closed form is -0.5 * sum(1 + logvar - "
                "mu ** 2 - exp(logvar)) over the latents"
            )


# ------------------------------------------------------------------------------ reconstruction


def _pixels(rng: torch.Generator, rows: int = N_ROWS) -> torch.Tensor:
    """Pixel intensities in [0, 1], with exact 0s and 1s as in the digits."""
    x = torch.rand(rows, N_PIXELS, generator=rng, dtype=F64)
    return torch.where(x < 0.3, 0.0, torch.where(x > 0.8, 1.0, x))


@pytest.mark.points(2)
def test_bernoulli_reconstruction(submission, device, rng):
    """bernoulli_reconstruction matches torch's BCE with logits summed over pixels, even at +-100"""
    x = _pixels(rng)
    logits = torch.randn(N_ROWS, N_PIXELS, generator=rng, dtype=F64) * 3
    logits[-1, ::2], logits[-1, 1::2] = 100.0, -100.0  # confident logits, right and wrong
    hint = (
        "sum over pixels of max(l, 0) - l * x + log(1 + exp(-|l|)), computed from the logits "
        "(F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(dim=1))"
    )
    for dtype in DTYPES:
        lg, xx = logits.to(dtype).to(F64), x.to(dtype).to(F64)
        want = _trusted_bernoulli(lg, xx)
        mistakes = (
            (_trusted_bernoulli(torch.sigmoid(lg), xx), "it applies a sigmoid to the logits "
             "and then treats the result as logits again; the logits go into the formula as "
             "they are"),
            (want / N_PIXELS, f"it is the mean over the {N_PIXELS} pixels; sum them instead"),
        )  # fmt: skip
        got = submission.bernoulli_reconstruction(lg.to(device, dtype), xx.to(device, dtype))
        name = f"bernoulli_reconstruction(logits, x) in {_dtype_name(dtype)}"
        finite = type(got) is not torch.Tensor or bool(torch.isfinite(got.detach().cpu()).all())
        _check(
            got,
            want,
            name=name,
            dtype=dtype,
            device=device,
            hint=hint if finite else OVERFLOW_HINT,
            mistakes=mistakes,
            tolerance=SUM_TOLERANCE[dtype],
        )


def test_gaussian_reconstruction(submission, device, rng):
    """gaussian_reconstruction is sum((x - x_hat) ** 2) / (2 * variance), without the constant"""
    x = _pixels(rng)
    x_hat = x + torch.randn(N_ROWS, N_PIXELS, generator=rng, dtype=F64) * 0.3
    for variance in (1.0, 0.1):
        for dtype in DTYPES:
            xh, xx = x_hat.to(dtype).to(F64), x.to(dtype).to(F64)
            want = _trusted_gaussian(xh, xx, variance)
            squared = ((xx - xh) ** 2).sum(dim=1)
            constant = 0.5 * N_PIXELS * math.log(2 * math.pi * variance)
            mistakes = (
                (want + constant, "it includes the constant 0.5 * D * log(2 * pi * variance), "
                 "which this function leaves out"),
                (squared / variance, "it is missing the 1/2: divide by 2 * variance"),
                (squared / (2 * math.sqrt(variance)), "it divides by the standard deviation; "
                 "divide by 2 * variance"),
                (want / N_PIXELS, f"it is the mean over the {N_PIXELS} pixels; sum them"),
            )  # fmt: skip
            got = submission.gaussian_reconstruction(
                xh.to(device, dtype), xx.to(device, dtype), variance
            )
            _check(
                got,
                want,
                name=f"gaussian_reconstruction(x_hat, x, {variance}) in {_dtype_name(dtype)}",
                dtype=dtype,
                device=device,
                hint="sum over pixels of (x - x_hat) ** 2, divided by 2 * variance",
                mistakes=mistakes,
                tolerance=SUM_TOLERANCE[dtype],
            )


# --------------------------------------------------------------------------------------- ELBO


def _trusted_elbo(x, decoded, mu, logvar, beta, likelihood, variance):
    if likelihood == "bernoulli":
        per_row = _trusted_bernoulli(decoded, x)
    else:
        per_row = _trusted_gaussian(decoded, x, variance)
    reconstruction, kl = per_row.mean(), _trusted_kl(mu, logvar).mean()
    return reconstruction + beta * kl, reconstruction, kl


@pytest.mark.points(2)
def test_negative_elbo(submission, device, rng):
    """negative_elbo returns (total, reconstruction, kl): sums per row, means over the batch"""
    x = _pixels(rng)
    mu, logvar = _latents(rng)
    logits = torch.randn(N_ROWS, N_PIXELS, generator=rng, dtype=F64) * 2
    cases = (
        ("bernoulli", 1.0, 1.0, logits),
        ("bernoulli", 4.0, 1.0, logits),
        ("gaussian", 0.5, 0.2, torch.sigmoid(logits)),
    )
    for likelihood, beta, variance, decoded in cases:
        call = f"negative_elbo(..., beta={beta}, likelihood={likelihood!r}, variance={variance})"
        result = submission.negative_elbo(
            *(t.to(device) for t in (x, decoded, mu, logvar)),
            beta=beta,
            likelihood=likelihood,
            variance=variance,
        )
        if type(result) is not tuple or len(result) != 3:
            raise CheckFailure(
                f"{call} should return a tuple (total, reconstruction, kl), got {type_name(result)}"
            )
        want = _trusted_elbo(x, decoded, mu, logvar, beta, likelihood, variance)
        total, reconstruction, kl = want
        per_row_recon = reconstruction * N_ROWS
        recon_mistakes = (
            (per_row_recon, f"it is the sum over the {N_ROWS} rows of the batch; take the mean "
             "over the batch"),
            (reconstruction / N_PIXELS, f"it is the mean over all {N_ROWS} x {N_PIXELS} "
             "elements; sum over the pixels of each row, then take the mean over rows"),
        )  # fmt: skip
        kl_mistakes = (
            (kl * N_ROWS, "it is the sum over the rows of the batch; take the mean"),
            (kl / N_LATENT, "it is the mean over all elements; sum over the latents of each "
             "row (kl_divergence does), then take the mean over rows"),
        )  # fmt: skip
        total_mistakes = (
            (beta * reconstruction + kl, "beta multiplies the reconstruction; it belongs on the "
             "KL: total = reconstruction + beta * kl"),
            (reconstruction + kl, "beta is ignored: total = reconstruction + beta * kl"),
            (reconstruction - beta * kl, "the KL is subtracted: total = reconstruction + "
             "beta * kl, both terms are costs"),
        )  # fmt: skip
        checks = (
            ("reconstruction", result[1], reconstruction, recon_mistakes),
            ("kl", result[2], kl, kl_mistakes),
            ("total", result[0], total, total_mistakes),
        )
        for label, got, expected, mistakes in checks:
            _check(
                got,
                expected,
                name=f"the {label} from {call}",
                dtype=F64,
                device=device,
                hint="reconstruction = mean over rows of the per-row sums, kl = mean over rows "
                "of kl_divergence, total = reconstruction + beta * kl (if the checks of "
                "kl_divergence or the reconstruction functions fail, fix those first)",
                mistakes=mistakes,
                tolerance=SUM_TOLERANCE[F64],
            )


# ----------------------------------------------------------------------------------- training


class TrustedVAE(nn.Module):
    """The provided VAE's architecture, rebuilt here to load the learner's weights."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))
        self.decoder = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64))


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    """load_digits scaled to [0, 1] and split once: (training rows, held-out rows)."""
    X = torch.tensor(digits()[0], dtype=F32) / 16
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(SPLIT_SEED))
    return X[order[HELD_OUT:]], X[order[:HELD_OUT]]


def _start_state(seed: int) -> dict[str, torch.Tensor]:
    """The weights train_vae starts from, leaving the grader's random state alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return dict(TrustedVAE().state_dict())


def _expect_state(value: Any, device: torch.device) -> dict[str, torch.Tensor]:
    like = TrustedVAE().state_dict()
    value = expect_weights(
        value,
        like,
        what="the weights train_vae returned",
        device=device,
        restore="restore the provided VAE class and train_vae",
    )
    return {name: value[name].detach().cpu() for name in like}


def _held_out(state: dict[str, torch.Tensor]) -> tuple[float, float, float]:
    """Trusted, on the held-out digits: reconstruction at z = mu, at sampled z, and the KL."""
    model = TrustedVAE().double()
    model.load_state_dict(state)
    x = _digits()[1].double()
    noise = torch.Generator().manual_seed(SPLIT_SEED)
    with torch.no_grad():
        mu, logvar = model.encoder(x).chunk(2, dim=1)
        at_mean = _trusted_bernoulli(model.decoder(mu), x).mean()
        std = torch.exp(0.5 * logvar)
        sampled = torch.stack([
            _trusted_bernoulli(model.decoder(mu + std * torch.randn(
                mu.shape, generator=noise, dtype=F64)), x).mean()
            for _ in range(ELBO_DRAWS)
        ]).mean()  # fmt: skip
        kl = _trusted_kl(mu, logvar).mean()
    return float(at_mean), float(sampled), float(kl)


def _mean_image_baseline() -> float:
    """The reconstruction of a model that ignores its input: every pixel at its training mean."""
    train, held_out = _digits()
    p = train.double().mean(dim=0).clamp(1e-6, 1 - 1e-6)
    logits = torch.log(p / (1 - p)).expand(len(held_out), -1)
    return float(_trusted_bernoulli(logits, held_out.double()).mean())


def _show_reconstructions(metrics, state: dict[str, torch.Tensor], caption: str) -> None:
    """Draw a few held-out digits above their reconstructions from z = mu: a picture only."""
    with torch.random.fork_rng(devices=[]):  # leaves the grader's random state alone
        model = TrustedVAE().double()
    model.load_state_dict(state)
    x = _digits()[1][:SHOWN].double()
    with torch.no_grad():
        decoded = torch.sigmoid(model.decoder(model.encoder(x).chunk(2, dim=1)[0]))
    rows = [("held-out digits", x), ("decoded from z = mu", decoded)]
    data = {"rows": [{"label": t, "images": v.reshape(-1, 8, 8)} for t, v in rows]}
    metrics.figure("VAE reconstructions", "images", {**data, "range": [0, 1], "caption": caption})


@pytest.mark.points(3)
def test_training_reconstructs(submission, device, metrics, seed):
    """a small VAE trained on digits with your loss reconstructs held-out digits well"""
    train, _ = _digits()
    start = _start_state(seed)
    _show_reconstructions(metrics, start, "before training")
    state = submission.call_logged(
        "train_vae",
        train,
        **TRAIN_SETTINGS,
        seed=seed,
        device=str(device),
        log=metrics.emit,
        timeout=TRAIN_TIMEOUT,
    )
    state = _expect_state(state, device)
    _show_reconstructions(metrics, state, f"after {TRAIN_SETTINGS['epochs']} epochs")
    before, _, _ = _held_out(start)
    after, sampled, kl = _held_out(state)
    baseline = _mean_image_baseline()
    epochs = TRAIN_SETTINGS["epochs"]
    metrics.emit("held-out reconstruction", after, epochs)
    metrics.emit("held-out kl", kl, epochs)
    story = (
        f"measured here on {HELD_OUT} held-out digits, the reconstruction from z = mu (BCE "
        f"summed over pixels) is {before:.2f} at the start and {after:.2f} after {epochs} "
        f"epochs; predicting every pixel's training mean, whatever the input, gives "
        f"{baseline:.2f}"
    )
    if not math.isfinite(kl) or kl > baseline:
        raise CheckFailure(
            f"after training, the KL of the held-out codes to the prior is {kl:.4g} per digit "
            f"(measured here; a working VAE ends near 3): the encoder was pushed away from the "
            "prior instead of towards it. Training minimizes reconstruction + beta * KL, so "
            "kl_divergence must be >= 0 (check test_kl_matches_torch)"
        )
    if not math.isfinite(after) or after > RECON_FRACTION * baseline:
        raise CheckFailure(
            f"training did not learn to reconstruct: {story}. A working VAE gets below "
            f"{RECON_FRACTION * baseline:.2f}. If the reconstruction stays near the baseline, no "
            "gradient reaches the encoder through z (check test_reparameterize_gradients); if it "
            "gets worse, the reconstruction term is wrong (test_bernoulli_reconstruction); "
            "otherwise the reconstruction is too weak next to the KL (sum over pixels, mean "
            "over rows)"
        )
    elbo = sampled + kl
    if not math.isfinite(elbo) or elbo >= baseline:
        raise CheckFailure(
            f"the held-out negative ELBO (reconstruction of sampled z, {sampled:.2f}, plus KL, "
            f"{kl:.2f}, measured here) is {elbo:.2f}, no better than the {baseline:.2f} of a "
            f"model that ignores its latent code; {story}"
        )
