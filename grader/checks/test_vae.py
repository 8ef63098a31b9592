"""Checks for vae: reparameterization, the KL term, reconstruction, the ELBO and training."""

import functools
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence

from grader import kit
from grader.kit import CheckFailure, Mistake, anything

pytestmark = pytest.mark.exercise("vae")

F32, F64 = torch.float32, torch.float64
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

KL_RULE = "KL_n = -0.5 * sum over latents of (1 + logvar - mu ** 2 - exp(logvar))"
BERNOULLI_RULE = (
    "the docstring's stable form, max(l, 0) - l * x + log(1 + exp(-|l|)) for each pixel, "
    "worked out from the logits as they are and summed over the pixels of each row"
)
OVERFLOW_HINT = (
    "the result holds inf or NaN: at logits of +-100, sigmoid rounds to exactly 0 or 1 (and a "
    "log of it is -inf), and exp(100) overflows float32. The docstring's stable form takes no "
    "log of a probability and no exp of a large positive number"
)
ELBO_RULE = (
    "reconstruction = mean over rows of the per-row sums, kl = mean over rows of "
    "kl_divergence, total = reconstruction + beta * kl (if the checks of kl_divergence or the "
    "reconstruction functions fail, fix those first)"
)
# reparameterize takes all its randomness from eps and keeps z in autograd's graph.
OWN_NOISE = kit.Shortcuts(
    "draws noise of its own instead of using eps", functions={"reparameterize"},
    names={f"torch.{name}" for name in ("randn", "randn_like", "rand", "rand_like", "normal")}
    | {"numpy.random", "random"}, methods={"normal_", "uniform_", "sample", "rsample"},
)  # fmt: skip
GRAPH_CUT = kit.Shortcuts(
    "cuts z off from autograd's graph, so no gradient reaches mu and logvar",
    names={"torch.no_grad", "torch.inference_mode", "torch.detach"},
    methods={"detach", "detach_", "data"}, functions={"reparameterize"},
)  # fmt: skip


def _randn(rng: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=rng, dtype=F64)


def _latents(rng: torch.Generator, rows: int = N_ROWS) -> tuple[torch.Tensor, torch.Tensor]:
    """mu and logvar with a spread of variances (std from about 0.2 to 5), in float64."""
    mu = _randn(rng, rows, N_LATENT) * 1.5
    return mu, (torch.rand(rows, N_LATENT, generator=rng, dtype=F64) - 0.5) * 6


def _pixels(rng: torch.Generator, rows: int = N_ROWS) -> torch.Tensor:
    """Pixel intensities in [0, 1], with exact 0s and 1s as in the digits."""
    x = torch.rand(rows, N_PIXELS, generator=rng, dtype=F64)
    return torch.where(x < 0.3, 0.0, torch.where(x > 0.8, 1.0, x))


def _trusted_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """torch.distributions' KL to N(0, 1), per row, summed over latents."""
    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), prior).sum(dim=1)


def _trusted_bernoulli(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)


def _trusted_gaussian(x_hat: torch.Tensor, x: torch.Tensor, variance: float) -> torch.Tensor:
    """Normal's negative log-density per row, with its constant 0.5 * D * log(2 pi var) removed."""
    log_density = Normal(x_hat, math.sqrt(variance)).log_prob(x).sum(dim=1)
    return -log_density - 0.5 * x.shape[1] * math.log(2 * math.pi * variance)


def _expect_rounded(submission, device, call: str, inputs: tuple[torch.Tensor, ...],
                    trusted: Callable[..., tuple[torch.Tensor, list[Mistake]]], *,
                    rule: str | Callable[[Any], str], tolerance=TOLERANCE,
                    extra=()) -> None:  # fmt: skip
    """The learner's `call` in float32 and in float64, each against `trusted(*inputs)` (the
    value and the mistake table) computed in float64 from the inputs rounded to that dtype."""
    for dtype in (F32, F64):
        rounded = [t.to(dtype).to(F64) for t in inputs]
        want, mistakes = trusted(*rounded)
        function = getattr(submission, call.split("(")[0])
        got = function(*(t.to(device, dtype) for t in rounded), *extra)
        name = f"{call} in {kit.fmt_dtype(dtype)}"
        hint = rule(got) if callable(rule) else rule
        kit.expect_close(got, want, name=name, hint=hint, mistakes=mistakes, dtype=dtype,
                         device=device, **tolerance[dtype])  # fmt: skip


@pytest.mark.points(2)
def test_reparameterize_values(submission, device, rng):
    """reparameterize returns mu + exp(0.5 * logvar) * eps for the eps it is given"""
    mu, logvar = _latents(rng)
    eps = _randn(rng, N_ROWS, N_LATENT)

    def trusted(m: torch.Tensor, lv: torch.Tensor, e: torch.Tensor):
        std = torch.exp(0.5 * lv)
        return m + std * e, [
            Mistake("z uses exp(logvar), which is the variance, as the standard deviation; "
                    "sigma is its square root", m + torch.exp(lv) * e),
            Mistake("z scales eps by logvar itself; the scale is the standard deviation sigma, "
                    "with sigma ** 2 = exp(logvar)", m + lv * e),
            Mistake("z leaves eps out: the sample is mu + sigma * eps", m + std),
        ]  # fmt: skip

    _expect_rounded(submission, device, "reparameterize(mu, logvar, random eps)",
                    (mu, logvar, eps), trusted, rule="z = mu + sigma * eps element by element, "
                    "with the eps passed in and sigma the standard deviation: sigma ** 2 = "
                    "exp(logvar)")  # fmt: skip
    _expect_rounded(submission, device, "reparameterize(mu, logvar, eps = 0)",
                    (mu, logvar, 0 * eps), lambda m, lv, e: (m, []), rule="with eps = 0 the "
                    "sample is mu itself: all the randomness comes from the eps given")  # fmt: skip


@pytest.mark.points(2)
def test_reparameterize_gradients(submission, device, rng):
    """gradients flow from z back to mu and logvar: dz/dmu = 1, dz/dlogvar = 0.5 * std * eps"""
    mu, logvar = _latents(rng)
    eps, upstream = _randn(rng, N_ROWS, N_LATENT), _randn(rng, N_ROWS, N_LATENT)
    result = submission.reparameterize_grads(*(t.to(device) for t in (mu, logvar, eps, upstream)))
    z, tracks_grad, d_mu, d_logvar = kit.unpack_dict(
        result, "reparameterize_grads (provided; restore it if changed)", z=anything,
        tracks_grad=anything, d_mu=anything, d_logvar=anything,
    )  # fmt: skip
    kit.expect_tensor(z, name="reparameterize's z", shape=mu.shape, dtype=F64, device=device)
    if tracks_grad is not True:
        raise CheckFailure(
            "the z that reparameterize returns is not connected to mu and logvar in autograd's "
            "graph, so backward() cannot reach the encoder. Compute z from mu and logvar with "
            "ordinary tensor operations: no torch.no_grad(), .detach() or torch.tensor(...)"
        )
    std = torch.exp(0.5 * logvar)
    z_right = kit.matches(z, mu + std * eps, **TOLERANCE[F64])
    for label, got, want, rule in (
        ("mu", d_mu, upstream, "z = mu + sigma * eps moves one for one with mu, so the "
         "gradient for mu is the upstream gradient itself"),
        ("logvar", d_logvar, upstream * 0.5 * std * eps, "d z / d logvar = 0.5 * sigma * eps, "
         "with sigma = exp(0.5 * logvar)"),
    ):  # fmt: skip
        if got is None:
            raise CheckFailure(
                f"no gradient reached {label} after backward() through reparameterize's z: "
                f"{label} is cut off from the graph (a .detach(), .item(), .data or "
                f"torch.no_grad() on the way). {rule}"
            )
        hint = rule if z_right else "z itself is wrong (test_reparameterize_values): fix it first"
        kit.expect_close(got, want, name=f"the gradient of sum(z * upstream) for {label}",
                         hint=hint, dtype=F64, device=device, **TOLERANCE[F64])  # fmt: skip


@pytest.mark.needs_passing("reparameterize_values")
def test_reparameterize_uses_eps(submission, exercise, source_tree, rng):
    """reparameterize takes its randomness only from eps: no torch.randn, no_grad or detach"""
    mu, logvar = _latents(rng)
    eps = _randn(rng, N_ROWS, N_LATENT)
    first, second = (submission.reparameterize(mu, logvar, eps) for _ in range(2))
    for z in (first, second):
        kit.expect_tensor(z, name="reparameterize(mu, logvar, eps)", shape=mu.shape)
    if not torch.equal(first, second):
        raise CheckFailure(
            "two calls of reparameterize with the same mu, logvar and eps gave different z: it "
            "draws noise of its own. All the randomness must come from eps"
        )
    kit.expect_no_shortcuts(
        source_tree, exercise.path, OWN_NOISE, GRAPH_CUT,
        advice="The trick only works if z is built from mu, logvar and the eps it is given, "
        "inside autograd's graph: then the gradient reaches the encoder",
    )  # fmt: skip


@pytest.mark.points(2)
def test_kl_matches_torch(submission, device, rng):
    """kl_divergence matches torch.distributions' KL to N(0, I), summed over latents"""
    mu, logvar = _latents(rng)
    mu[0], logvar[0] = 0.0, 0.0  # the prior itself: KL exactly 0

    def trusted(m: torch.Tensor, lv: torch.Tensor):
        want = _trusted_kl(m, lv)
        return want, [
            Mistake("the sign is wrong (a KL divergence is never negative): the formula "
                    "starts with -0.5", -want),
            Mistake("this is twice the KL: the formula has a factor -0.5, not -1", 2 * want),
            Mistake(f"this is the mean over the {N_LATENT} latent dimensions; the KLs of "
                    "independent latents add up", want / N_LATENT),
            Mistake("this uses exp(0.5 * logvar) where the formula has the variance exp(logvar)",
                    -0.5 * (1 + lv - m**2 - torch.exp(0.5 * lv)).sum(dim=1)),
        ]  # fmt: skip

    call = f"kl_divergence(mu, logvar) for {N_ROWS} rows"
    _expect_rounded(submission, device, call, (mu, logvar), trusted, rule=KL_RULE)


def test_kl_monte_carlo(submission, device, rng):
    """kl_divergence agrees with a Monte-Carlo estimate from samples of q (a statistical check)"""
    mu, logvar = _latents(rng, rows=4)
    got = submission.kl_divergence(mu.to(device), logvar.to(device))
    kit.expect_tensor(got, name="kl_divergence(mu, logvar)", shape=(4,), dtype=F64, device=device)
    # KL(q || p) = E_q[log q(z) - log p(z)]: average that over many z drawn from q.
    std = torch.exp(0.5 * logvar)
    z = mu + std * _randn(rng, MC_SAMPLES, *mu.shape)
    log_ratio = Normal(mu, std).log_prob(z).sum(-1) - Normal(0.0, 1.0).log_prob(z).sum(-1)
    estimate, spread = log_ratio.mean(dim=0), log_ratio.std(dim=0) / math.sqrt(MC_SAMPLES)
    for row, (value, mean, error) in enumerate(zip(got.tolist(), estimate, spread, strict=True)):
        allowed = MC_SIGMAS * float(error) + 1e-6
        if abs(value - float(mean)) > allowed:
            got_s, want_s = kit.fmt_pair(value, float(mean))
            raise CheckFailure(
                f"kl_divergence gives {got_s} for row {row}, but averaging log q(z) - log p(z) "
                f"over {MC_SAMPLES} samples z ~ q gives {want_s} (+- {allowed:.3g}, "
                f"{MC_SIGMAS:g} standard errors).\nHint: {KL_RULE}"
            )


@pytest.mark.points(2)
def test_bernoulli_reconstruction(submission, device, rng):
    """bernoulli_reconstruction matches torch's BCE with logits summed over pixels, even at +-100"""
    x = _pixels(rng)
    logits = _randn(rng, N_ROWS, N_PIXELS) * 3
    logits[-1, ::2], logits[-1, 1::2] = 100.0, -100.0  # confident logits, right and wrong

    def trusted(lg: torch.Tensor, xx: torch.Tensor):
        want = _trusted_bernoulli(lg, xx)
        return want, [
            Mistake("the logits went through a sigmoid and the result was then used as "
                    "logits again; the logits go into the formula as they are",
                    _trusted_bernoulli(torch.sigmoid(lg), xx)),
            Mistake(f"this is the mean over the {N_PIXELS} pixels; add them up",
                    want / N_PIXELS),
        ]  # fmt: skip

    def rule(got: Any) -> str:
        finite = type(got) is not torch.Tensor or bool(torch.isfinite(got.detach().cpu()).all())
        return BERNOULLI_RULE if finite else OVERFLOW_HINT

    _expect_rounded(submission, device, "bernoulli_reconstruction(logits, x)", (logits, x),
                    trusted, rule=rule, tolerance=SUM_TOLERANCE)  # fmt: skip


def test_gaussian_reconstruction(submission, device, rng):
    """gaussian_reconstruction is sum((x - x_hat) ** 2) / (2 * variance), without the constant"""
    x = _pixels(rng)
    x_hat = x + _randn(rng, N_ROWS, N_PIXELS) * 0.3
    for variance in (1.0, 0.1):

        def trusted(xh: torch.Tensor, xx: torch.Tensor, variance: float = variance):
            want, squared = _trusted_gaussian(xh, xx, variance), ((xx - xh) ** 2).sum(dim=1)
            constant = 0.5 * N_PIXELS * math.log(2 * math.pi * variance)
            return want, [
                Mistake("this includes the constant 0.5 * D * log(2 * pi * variance), which "
                        "this function leaves out", want + constant),
                Mistake("the 1/2 is missing: divide by 2 * variance", squared / variance),
                Mistake("this divides by the standard deviation; divide by 2 * variance",
                        squared / (2 * math.sqrt(variance))),
                Mistake(f"this is the mean over the {N_PIXELS} pixels; add them up",
                        want / N_PIXELS),
            ]  # fmt: skip

        _expect_rounded(
            submission, device, f"gaussian_reconstruction(x_hat, x, {variance})", (x_hat, x),
            trusted, rule="sum over pixels of (x - x_hat) ** 2, divided by 2 * variance",
            tolerance=SUM_TOLERANCE, extra=(variance,),
        )  # fmt: skip


def _averaged(mean: torch.Tensor, per_row: int, what: str, part: str) -> list[Mistake]:
    """A batch mean of per-row sums, reduced the two wrong ways (by negative_elbo or its part)."""
    return [
        Mistake(f"this is the sum over the {N_ROWS} rows of the batch; take the mean over the "
                "rows", mean * N_ROWS),
        Mistake(f"this is the mean over all {N_ROWS} x {per_row} elements; sum over the {what} "
                f"of each row, then take the mean over the rows (if {part} fails its own check, "
                "fix it first)", mean / per_row),
    ]  # fmt: skip


@pytest.mark.points(2)
def test_negative_elbo(submission, device, rng):
    """negative_elbo returns (total, reconstruction, kl): sums per row, means over the batch"""
    x = _pixels(rng)
    mu, logvar = _latents(rng)
    logits = _randn(rng, N_ROWS, N_PIXELS) * 2
    for likelihood, beta, variance, decoded in (
        ("bernoulli", 1.0, 1.0, logits),
        ("bernoulli", 4.0, 1.0, logits),
        ("gaussian", 0.5, 0.2, torch.sigmoid(logits)),
    ):
        options = {"beta": beta, "likelihood": likelihood, "variance": variance}
        result = submission.negative_elbo(*(t.to(device) for t in (x, decoded, mu, logvar)),
                                          **options)  # fmt: skip
        context = ", ".join(f"{key}={value!r}" for key, value in options.items())
        scalar = kit.tensor((), F64, device)
        total, reconstruction, kl = kit.unpack(
            result, "negative_elbo", context=context, total=scalar, reconstruction=scalar, kl=scalar
        )
        per_row = (_trusted_bernoulli(decoded, x) if likelihood == "bernoulli"
                   else _trusted_gaussian(decoded, x, variance))  # fmt: skip
        recon, divergence = per_row.mean(), _trusted_kl(mu, logvar).mean()
        for part, got, want, mistakes in (
            ("reconstruction", reconstruction, recon,
             _averaged(recon, N_PIXELS, "pixels", f"{likelihood}_reconstruction")),
            ("kl", kl, divergence, _averaged(divergence, N_LATENT, "latents", "kl_divergence")),
            ("total", total, recon + beta * divergence, [
                Mistake("beta multiplies the reconstruction; it belongs on the KL: total = "
                        "reconstruction + beta * kl", beta * recon + divergence),
                Mistake("beta is ignored: total = reconstruction + beta * kl", recon + divergence),
                Mistake("the KL is subtracted: total = reconstruction + beta * kl, both terms "
                        "are costs", recon - beta * divergence),
            ]),
        ):  # fmt: skip
            name = f"negative_elbo's {part} ({context})"
            kit.expect_close(got, want, name=name, hint=ELBO_RULE, mistakes=mistakes,
                             **SUM_TOLERANCE[F64])  # fmt: skip


class TrustedVAE(nn.Module):
    """The provided VAE's architecture, rebuilt here to load the learner's weights."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))
        self.decoder = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64))


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[torch.Tensor, torch.Tensor, float]:
    """load_digits scaled to [0, 1] and split once: (training rows, held-out rows, baseline), the
    baseline being the held-out reconstruction of a model that ignores its input: every pixel at
    its training mean."""
    train, _, held_out, _ = kit.digits_split(HELD_OUT, seed=SPLIT_SEED)
    p = train.double().mean(dim=0).clamp(1e-6, 1 - 1e-6)
    logits = torch.log(p / (1 - p)).expand(len(held_out), -1)
    return train, held_out, float(_trusted_bernoulli(logits, held_out.double()).mean())


def _model(seed: int = 0, state: dict[str, torch.Tensor] | None = None) -> TrustedVAE:
    """A float64 TrustedVAE as torch.manual_seed(seed) starts it, or holding `state`; the
    grader's random state is left alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = TrustedVAE().double()
    if state is not None:
        model.load_state_dict(state)
    return model


def _held_out(model: TrustedVAE) -> tuple[float, float, float]:
    """Trusted, on the held-out digits: reconstruction at z = mu, at sampled z, and the KL."""
    x = _digits()[1].double()
    noise = torch.Generator().manual_seed(SPLIT_SEED)
    with torch.no_grad():
        mu, logvar = model.encoder(x).chunk(2, dim=1)
        std = torch.exp(0.5 * logvar)
        sampled = [
            _trusted_bernoulli(model.decoder(mu + std * _randn(noise, *mu.shape)), x).mean()
            for _ in range(ELBO_DRAWS)
        ]
        at_mean = _trusted_bernoulli(model.decoder(mu), x).mean()
        kl = _trusted_kl(mu, logvar).mean()
    return float(at_mean), float(torch.stack(sampled).mean()), float(kl)


def _show_reconstructions(metrics, model: TrustedVAE, caption: str) -> None:
    """Draw a few held-out digits above their reconstructions from z = mu: a picture only."""
    x = _digits()[1][:SHOWN].double()
    with torch.no_grad():
        decoded = torch.sigmoid(model.decoder(model.encoder(x).chunk(2, dim=1)[0]))
    rows = [("held-out digits", x), ("decoded from z = mu", decoded)]
    data = {"rows": [{"label": t, "images": v.reshape(-1, 8, 8)} for t, v in rows]}
    metrics.figure("VAE reconstructions", "images", {**data, "range": [0, 1], "caption": caption})


@pytest.mark.points(3)
def test_training_reconstructs(submission, device, metrics, seed):
    """a small VAE trained on digits with your loss reconstructs held-out digits well"""
    epochs, start = TRAIN_SETTINGS["epochs"], _model(seed=seed)
    _show_reconstructions(metrics, start, "before training")
    state = submission.call_logged(
        "train_vae", _digits()[0], **TRAIN_SETTINGS, seed=seed, device=str(device),
        log=metrics.emit, timeout=TRAIN_TIMEOUT,
    )  # fmt: skip
    like = TrustedVAE().state_dict()
    state = kit.expect_weights(state, like, what="the weights train_vae returned", device=device,
                               restore="restore the provided VAE class and train_vae")  # fmt: skip
    trained = _model(state={name: state[name].detach().cpu() for name in like})
    _show_reconstructions(metrics, trained, f"after {epochs} epochs")
    (before, _, _), (after, sampled, kl) = _held_out(start), _held_out(trained)
    baseline = _digits()[2]
    metrics.emit("held-out reconstruction", after, epochs)
    metrics.emit("held-out kl", kl, epochs)
    if not math.isfinite(kl) or kl > baseline:
        raise CheckFailure(
            f"after training, the KL of the held-out codes to the prior is {kl:.4g} per digit "
            f"(measured here; a working VAE ends near 3): the encoder was pushed away from the "
            "prior instead of towards it. Training minimizes reconstruction + beta * KL, so "
            "kl_divergence must be >= 0 (check test_kl_matches_torch)"
        )
    story = (
        f"measured here on {HELD_OUT} held-out digits, the reconstruction from z = mu (BCE "
        f"summed over pixels) is {before:.2f} at the start and {after:.2f} after {epochs} "
        f"epochs; predicting every pixel's training mean, whatever the input, gives "
        f"{baseline:.2f}"
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
