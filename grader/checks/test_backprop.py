"""Checks for backprop: a two-layer MLP's forward pass and hand-written gradients."""

import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from grader import kit
from grader.kit import Mistake, anything, expect_close, likely_mistake, tensor, unpack

pytestmark = pytest.mark.exercise("backprop")

F32, F64 = torch.float32, torch.float64
KEYS = ("W1", "b1", "W2", "b2")
# Output layer first: a mistake near the loss spoils every gradient before it.
BACKWARD_ORDER = ("W2", "b2", "W1", "b1")
RULES = {
    "W2": "dW2 = h1.T @ dlogits, with dlogits = (P - Y) / N (P the row-wise softmax, Y one-hot)",
    "b2": "db2 = dlogits summed over the rows of the batch",
    "W1": "dW1 = X.T @ dz1, with dz1 = (dlogits @ W2.T) * (z1 > 0)",
    "b1": "db1 = dz1 summed over the rows of the batch, after the ReLU mask",
}
# A known mistake in the backward pass, and its hint when a gradient reproduces it.
MISTAKES = {
    "no_one_hot": "it matches softmax(logits) / N: subtract Y, 1 at each row's true class",
    "no_mask": "it matches the gradient without the ReLU mask: only units with z1 > 0 pass it on",
    "no_mean": "it is N times the expected gradient: the mean's 1 / N belongs in dlogits",
    "bias_mean": "it is N times smaller than expected: a bias gradient sums over the batch "
    "(dlogits already carries the 1 / N of the mean)",
}
IN_PLACE = (
    "build new tensors rather than changing {name} in place (no -=, relu_ or indexed "
    "assignment on it), so the caller's {name} keeps its values"
)
NO_AUTOGRAD = kit.Shortcuts(
    "autograd or torch.nn",
    names={"torch.autograd", "torch.func", "torch.nn", "torch.enable_grad",
           "torch.set_grad_enabled"},
    methods={"backward", "grad", "requires_grad", "requires_grad_", "retain_grad"},
)  # fmt: skip
XOR_HIDDEN, XOR_STEPS, XOR_LR = 8, 150, 0.5
# Central differences (eps 1e-6) of a float64 loss near 1 carry rounding noise of about
# 1e-16 / 1e-6 = 1e-10 in every element, however small the element: the reference's worst over
# 3000 seeds is 1e-9. Near 0 (a hidden unit off for most rows) that noise alone is a relative
# error above 1e-5, so differences below this are not judged; each known mistake differs by 0.05+.
NUMERICAL_NOISE = 1e-8
LOSS_TITLE = "loss_and_grads's loss is softmax cross-entropy, the mean over the batch"
AUTOGRAD_TITLE = "every gradient matches torch's autograd in float64"  # that check's title

Params = dict[str, torch.Tensor]


def _shapes(D: int, H: int, C: int) -> dict[str, tuple[int, ...]]:
    return {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}


def _problem(rng: torch.Generator, N: int = 12, D: int = 5, H: int = 7, C: int = 4) -> tuple:
    """Random parameters (biases not zero), inputs and labels; D != H so transposes show."""
    params = {key: torch.randn(shape, generator=rng, dtype=F64) * (0.7 if key[0] == "W" else 0.3)
              for key, shape in _shapes(D, H, C).items()}  # fmt: skip
    X = torch.randn(N, D, generator=rng, dtype=F64)
    return params, X, torch.randint(0, C, (N,), generator=rng)


def _on(params: Params, device: torch.device, dtype: torch.dtype = F64) -> Params:
    return {key: value.to(device, dtype) for key, value in params.items()}


def _trusted_logits(params: Params, X: torch.Tensor) -> torch.Tensor:
    return F.relu(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]


def _autograd(params: Params, X: torch.Tensor, y: torch.Tensor) -> Params:
    def loss(*values: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(_trusted_logits(dict(zip(KEYS, values, strict=True)), X), y)

    return dict(zip(KEYS, kit.autograd_gradients(loss, [params[key] for key in KEYS]), strict=True))


def _mistaken(params: Params, X: torch.Tensor, y: torch.Tensor, mistake: str) -> Params:
    """The gradients a learner gets with one known mistake (a key of MISTAKES)."""
    z1 = X @ params["W1"] + params["b1"]
    h1 = F.relu(z1)
    probs = torch.softmax(h1 @ params["W2"] + params["b2"], dim=1)
    dlogits = probs if mistake == "no_one_hot" else probs - F.one_hot(y, probs.shape[1])
    dlogits = dlogits if mistake == "no_mean" else dlogits / X.shape[0]
    dz1 = dlogits @ params["W2"].T * (1.0 if mistake == "no_mask" else (z1 > 0))
    reduce = torch.mean if mistake == "bias_mean" else torch.sum
    return {"W1": X.T @ dz1, "b1": reduce(dz1, 0), "W2": h1.T @ dlogits, "b2": reduce(dlogits, 0)}


def _params(value: Any, function: str, like: Params, device: Any = None, *, shapes: bool = True,
            dtype: torch.dtype | None = None, verb: str = "return") -> Params:  # fmt: skip
    """A dict with the keys of `like`, each a tensor (of the same shape, if `shapes`)."""
    kinds: dict[str, Any] = {k: tensor(v.shape if shapes else None, dtype, device)
                             for k, v in like.items()}  # fmt: skip
    return dict(zip(like, kit.unpack_dict(value, function, verb=verb, **kinds), strict=True))


def _loss_and_grads(submission: Any, params: Params, X: torch.Tensor, y: torch.Tensor, *,
                    shapes: bool = True) -> tuple[torch.Tensor, Params]:  # fmt: skip
    """The learner's (loss, grads), checked for type (and the gradients' shapes if `shapes`)."""
    result = submission.loss_and_grads(params, X, y)
    loss, grads = unpack(result, "loss_and_grads", loss=tensor((), device=X.device), grads=anything)
    name = "loss_and_grads's grads"
    return loss, _params(grads, name, params, X.device, shapes=shapes, verb="be")


def test_init_params(submission):
    """init_params draws He-scaled W1, smaller W2, zero biases, reproducibly from the seed"""
    D, H, C = 512, 256, 128
    like = {key: torch.empty(shape) for key, shape in _shapes(D, H, C).items()}

    def draw(seed: int) -> Params:
        result = submission.init_params(D, H, C, seed)
        return _params(result, f"init_params({D}, {H}, {C}, {seed})", like, "cpu", dtype=F64)

    params = draw(7)
    for key in ("b1", "b2"):
        if bool(params[key].any()):
            raise kit.CheckFailure(f"init_params's {key} should start at zeros")
    for key, gain, fan_in, fan in (("W1", 2.0, D, "D"), ("W2", 1.0, H, "H")):
        want, other = math.sqrt(gain / fan_in), math.sqrt((3.0 - gain) / fan_in)
        std, mean = float(params[key].std()), float(params[key].mean())
        if abs(std - want) > 0.05 * want or abs(mean) > 0.05 * want:
            rule = f"sqrt({gain:g} / {fan})"
            hint = likely_mistake(std, [
                Mistake("the draws keep torch.randn's standard deviation 1: scale them", 1.0),
                Mistake(f"{rule} = {want:.4g} is the standard deviation, not the variance: "
                        "scale by its square root", want**2),
                Mistake(f"this is sqrt({3 - gain:g} / {fan}); {key} takes {rule} (a ReLU follows "
                        "W1 and none follows W2)", other),
            ], default=f"multiply standard-normal draws by {rule}", rtol=0.05)  # fmt: skip
            raise kit.CheckFailure(
                f"init_params's {key} has mean {kit.fmt_number(mean)} and standard deviation "
                f"{kit.fmt_number(std)}; expected mean about 0 and standard deviation {rule} = "
                f"{kit.fmt_number(want)} for D, H = {D}, {H}. {hint}"
            )
    _expect_draw_order(params, D, H, C, 7)
    if not torch.equal(draw(7)["W1"], params["W1"]):
        raise kit.CheckFailure(
            "init_params gave different weights for the same seed; draw every weight from one "
            "generator seeded with `seed`, as the docstring says"
        )
    if torch.equal(draw(8)["W1"], params["W1"]):
        raise kit.CheckFailure("init_params gave the same weights for seeds 7 and 8; use the seed")


def _expect_draw_order(params: Params, D: int, H: int, C: int, seed: int) -> None:
    """The weights are the docstring's draws: one generator seeded with `seed`, W1 then W2."""
    shape = {"W1": (D, H), "W2": (H, C)}
    scale = {"W1": math.sqrt(2.0 / D), "W2": math.sqrt(1.0 / H)}

    def drawn(*order: str, fresh: bool = False) -> tuple[torch.Tensor, ...]:
        """(W1, W2) drawn in this order from one generator (or, if `fresh`, one each)."""
        generator, out = torch.Generator().manual_seed(seed), {}
        for key in order:
            generator = torch.Generator().manual_seed(seed) if fresh else generator
            out[key] = torch.randn(shape[key], generator=generator, dtype=F64) * scale[key]
        return out["W1"], out["W2"]

    got = (params["W1"], params["W2"])
    if kit.matches(got, drawn("W1", "W2"), rtol=1e-12, atol=0):
        return
    hint = likely_mistake(got, [
        Mistake("W2 was drawn before W1: draw W1 first, then W2, from the one generator",
                drawn("W2", "W1")),
        Mistake("each matrix was drawn from a generator of its own (both start from `seed`, so "
                "W2 repeats W1's first numbers): draw both from one generator, W1 first",
                drawn("W1", "W2", fresh=True)),
    ], default="draw with torch.randn(..., generator=g, dtype=torch.float64) from "
       "g = torch.Generator().manual_seed(seed), W1 first, then W2, and scale each draw",
       rtol=1e-12, atol=0)  # fmt: skip
    raise kit.CheckFailure(
        f"init_params({D}, {H}, {C}, {seed}) has the right scales but not the draws the "
        f"docstring fixes (the checks of later exercises rely on them): {hint}"
    )


@pytest.mark.points(2)
def test_forward(submission, device, rng):
    """forward returns logits that match a trusted float64 computation, and a cache dict"""
    params, X, _ = _problem(rng)
    W1, b1, W2, b2 = (params[key] for key in KEYS)
    z1 = X @ W1 + b1
    mistakes = [
        Mistake("the hidden layer has no ReLU: h1 = relu(z1) feeds the second layer", z1 @ W2 + b2),
        Mistake("b1 is missing: z1 = X @ W1 + b1", F.relu(X @ W1) @ W2 + b2),
        Mistake("b2 is missing: logits = h1 @ W2 + b2", F.relu(z1) @ W2),
    ]
    for dtype, tolerance in ((F64, 1e-10), (F32, 1e-5)):
        result = submission.forward(_on(params, device, dtype), X.to(device, dtype))
        logits, cache = unpack(result, "forward", logits=anything, cache=anything)
        if type(cache) is not dict:
            what = "a dict of the tensors the backward pass needs (such as X, z1 and h1)"
            raise kit.CheckFailure(f"forward's cache should be {what}, got {kit.describe(cache)}")
        expect_close(
            logits, _trusted_logits(params, X), mistakes=mistakes,
            name=f"forward's logits in {kit.fmt_dtype(dtype)}",
            hint="z1 = X @ W1 + b1, h1 = relu(z1), logits = h1 @ W2 + b2", dtype=dtype,
            device=device, rtol=tolerance, atol=tolerance,
        )  # fmt: skip


def test_loss(submission, device, rng):
    """loss_and_grads's loss is softmax cross-entropy, the mean over the batch"""
    params, X, y = _problem(rng)
    sent = (_on(params, device), X.to(device), y.to(device))
    loss, _ = _loss_and_grads(submission, *sent, shapes=False)
    want, N = F.cross_entropy(_trusted_logits(params, X), y), len(y)
    expect_close(
        loss, want, name="loss_and_grads's loss", device=device, rtol=1e-10, atol=1e-12,
        hint="the mean over the rows of logsumexp(logits[i]) - logits[i, y[i]]",
        mistakes=[Mistake(f"the loss is {N} times the expected value: take the mean over the "
                          "batch, not the sum", N * want)],
    )  # fmt: skip
    # Logits near 1000: exp overflows to inf unless each row is shifted by its maximum first.
    big = {**params, "W2": params["W2"] * 400.0, "b2": params["b2"] + 600.0}
    loss, _ = _loss_and_grads(submission, _on(big, device), *sent[1:], shapes=False)
    logits = _trusted_logits(big, X)
    want, size = F.cross_entropy(logits, y), float(logits.abs().max())
    expect_close(
        loss, want, name=f"loss_and_grads's loss with logits up to {size:.0f}", device=device,
        rtol=1e-10, atol=1e-9,
        hint="exp of a logit this large overflows to inf: shift each row of logits by its "
        "maximum before exponentiating, as the docstring says (the shift cancels in the loss)",
    )  # fmt: skip


@pytest.mark.points(3)
def test_gradients_match_autograd(submission, device, rng):
    """every gradient matches torch's autograd in float64"""
    params, X, y = _problem(rng)
    sent = (_on(params, device), X.to(device), y.to(device))
    _, grads = _loss_and_grads(submission, *sent, shapes=False)
    expected = _autograd(params, X, y)
    variants = {mistake: _mistaken(params, X, y, mistake) for mistake in MISTAKES}
    for key in BACKWARD_ORDER:
        mistakes = [Mistake(hint, variants[mistake][key]) for mistake, hint in MISTAKES.items()]
        hint = likely_mistake(grads[key], mistakes, default=RULES[key], expected=expected[key])
        kit.assert_gradient(grads[key], expected[key], name=f"d{key}", threshold=1e-7, hint=hint)


def _within_noise(got: Any, numerical: torch.Tensor) -> torch.Tensor:
    """`numerical`, with the learner's value wherever the two differ by less than central
    differences resolve (NUMERICAL_NOISE), so only a resolvable difference fails."""
    if type(got) is not torch.Tensor or got.shape != numerical.shape or got.is_meta:
        return numerical  # assert_gradient names the wrong type, shape or device
    got = got.detach().to("cpu", F64)
    return torch.where((got - numerical).abs() <= NUMERICAL_NOISE, got, numerical)


def test_gradients_match_numerical(submission, rng):
    """every gradient matches central differences of your own loss (CS231n's gradient check)"""
    params, X, y = _problem(rng, N=6, D=3, H=4, C=3)
    loss, grads = _loss_and_grads(submission, params, X, y, shapes=False)
    # Differences of a wrong loss disagree with right gradients: name the loss then.
    trusted = F.cross_entropy(_trusted_logits(params, X), y)
    loss_wrong = not kit.matches(loss, trusted, rtol=1e-8, atol=1e-10)
    for key in BACKWARD_ORDER:

        def loss_at(value: torch.Tensor, key: str = key) -> float:
            loss, _ = _loss_and_grads(submission, {**params, key: value}, X, y, shapes=False)
            return kit.expect_number(loss, name="loss_and_grads's loss")

        hint = (
            f"your loss itself differs from softmax cross-entropy's mean: fix {LOSS_TITLE!r} first"
            if loss_wrong
            else f"nudging {key} by +-1e-6 changes your loss at a "
            f"different rate than your d{key} says. {RULES[key]}"
        )
        numerical = kit.numerical_gradient(loss_at, params[key], eps=1e-6)
        kit.assert_gradient(
            grads[key], _within_noise(grads[key], numerical),
            name=f"d{key} (against central differences)", threshold=1e-5, hint=hint,
        )  # fmt: skip


@pytest.mark.needs_passing("forward", "loss")
def test_inputs_unchanged(submission, device, rng):
    """forward and loss_and_grads leave params, X and y as they were"""
    params, X, y = _problem(rng)
    sent = (_on(params, device), X.to(device), y.to(device))
    for function, count in (("forward", 2), ("loss_and_grads", 3)):
        names = ("params", "X", "y")[:count]
        kit.call_unchanged(submission, function, *sent[:count], names=names, how=IN_PLACE)


def test_sgd_step(submission, reference, device, rng):
    """sgd_step returns params - lr * grads as a new dict and leaves params unchanged"""
    params, X, y = _problem(rng)
    _, grads = reference.loss_and_grads(params, X, y)
    result = kit.call_unchanged(
        submission, "sgd_step", _on(params, device), _on(grads, device), 0.3,
        names=("params", "grads"), how="return a new dict of new tensors (params[name] - ..., "
        "not params[name] -= ...) so the caller's {name} keep their values",
    )  # fmt: skip
    new, want = _params(result, "sgd_step", params, device), reference.sgd_step(params, grads, 0.3)
    for key in KEYS:
        up = params[key] + 0.3 * grads[key]
        expect_close(
            new[key], want[key], name=f"sgd_step's new {key}", device=device, rtol=1e-12,
            atol=1e-12, hint="params[name] - lr * grads[name]",
            mistakes=[Mistake("the step goes up the gradient: subtract lr * grads[name]", up)],
        )  # fmt: skip


@pytest.mark.needs_passing("gradients_match_autograd")
def test_no_autograd(submission, exercise, source_tree, rng):
    """the gradients are computed by hand: no autograd and no torch.nn in mlp.py"""
    params, X, y = _problem(rng)
    # Only that it runs: the loss's value is the loss check's business, not this one's.
    _loss_and_grads(submission, params, X, y, shapes=False)
    kit.expect_no_shortcuts(
        source_tree, exercise.path, NO_AUTOGRAD,
        advice="This exercise is about working the gradients out yourself: apply the chain rule "
        "layer by layer with matrix products (see the rules for a linear layer and the ReLU in "
        "lesson.md). Autograd is a fine tool, and the next exercises use it",
    )  # fmt: skip


def _xor_start(reference: Any, seed: int, X: torch.Tensor, y: torch.Tensor) -> Params:
    """Starting parameters from which the reference learns XOR with the check's settings."""
    # A few starts of so small a network stall in a poor spot; skip those.
    for offset in range(20):
        start = params = reference.init_params(2, XOR_HIDDEN, 2, seed + offset)
        for _ in range(XOR_STEPS):
            params = reference.sgd_step(params, reference.loss_and_grads(params, X, y)[1], XOR_LR)
        if bool((_trusted_logits(params, X).argmax(1) == y).all()):
            return start
    raise RuntimeError("the reference did not learn XOR from 20 starts")


@pytest.mark.points(2)
def test_learns_xor(submission, reference, device, metrics, seed):
    """gradient descent with your gradients learns XOR, which no single perceptron can"""
    X, y = kit.logic_table("xor")
    X, y = X * 2 - 1, y.long()  # inputs coded -1/+1: centred inputs train faster
    params = _xor_start(reference, seed, X, y)
    wrong_step = ""
    for step in range(1, XOR_STEPS + 1):
        loss, grads = _loss_and_grads(submission, _on(params, device), X.to(device), y.to(device))
        value = float(loss.detach().cpu())
        metrics.emit("loss", value, step=step)
        if not all(bool(torch.isfinite(grads[key]).all()) for key in KEYS):
            raise kit.CheckFailure(
                f"step {step}: your gradients hold NaN or inf (loss {value:.4g})"
            )
        wrong_step = wrong_step or _wrong_gradient(grads, params, X, y, step)
        # The update is done here, in trusted code, with the returned gradients.
        params = {key: params[key] - XOR_LR * grads[key].detach().cpu().to(F64) for key in KEYS}
        if step % 10 == 0 or step == XOR_STEPS:
            right = (_trusted_logits(params, X).argmax(1) == y).double().mean().item()
            metrics.emit("accuracy", right, step=step)
    predictions = _trusted_logits(params, X).argmax(1)
    wrong = [tuple(int(v) for v in X[i].tolist()) for i in range(4) if predictions[i] != y[i]]
    if wrong:
        raise kit.CheckFailure(
            f"after {XOR_STEPS} steps of gradient descent (lr {XOR_LR}, {XOR_HIDDEN} hidden "
            f"units) with your gradients, the network still gets the XOR points {wrong} wrong "
            f"(inputs coded -1/+1); from the same start, correct gradients solve all four"
            + (f". {wrong_step}: fix {AUTOGRAD_TITLE!r} first" if wrong_step else "")
        )


def _wrong_gradient(grads: Params, params: Params, X: torch.Tensor, y: torch.Tensor, step: int):
    """Where a returned gradient differs from autograd's, in words; empty when none does."""
    expected = _autograd(params, X, y)
    for key in BACKWARD_ORDER:
        if not kit.matches(grads[key], expected[key], rtol=1e-6, atol=1e-9):
            return f"At step {step} your d{key} already differed from autograd's"
    return ""
