"""The kit for writing checks (grader/kit): fast unit tests, no grader run."""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np
import pytest
import torch

from grader import datasets
from grader.errors import CheckFailure
from grader.kit import (
    Mistake,
    Shortcuts,
    array,
    call_unchanged,
    expect_close,
    expect_no_shortcuts,
    find_shortcuts,
    fmt_dtype,
    integer,
    likely_mistake,
    number,
    py_float,
    tensor,
    unpack,
    unpack_dict,
)

CONV = Shortcuts("a ready-made layer", names={"torch.nn.functional.conv2d", "torch.conv2d"})
AUTOGRAD = Shortcuts(
    "autograd",
    names={"torch.autograd", "torch.func"},
    methods={"backward", "grad", "requires_grad", "requires_grad_"},
)
TORCH_NN = Shortcuts("torch.nn", names={"torch.nn"})
SIGMOID = Shortcuts("a ready-made version", names={"torch.sigmoid", "torch.special.expit"})


def found(source: str, *rules: Shortcuts) -> list[str]:
    return [str(use) for use in find_shortcuts(ast.parse(source), *rules)]


# ------------------------------------------------------------------------------------ shortcuts


def test_shortcut_through_an_aliased_module_is_found_with_line_and_function() -> None:
    source = "import torch.nn.functional as F\n\ndef conv2d(x, w):\n    return F.conv2d(x, w)\n"
    assert found(source, CONV) == [
        "line 4, in conv2d: F.conv2d, that is torch.nn.functional.conv2d (a ready-made layer)"
    ]


def test_shortcut_imported_by_name_and_renamed_is_found_at_import_and_use() -> None:
    source = "from torch import sigmoid as s\n\ndef f(x):\n    return s(x)\n"
    assert found(source, SIGMOID) == [
        "line 1: from torch import sigmoid as s (a ready-made version)",
        "line 4, in f: s, that is torch.sigmoid (a ready-made version)",
    ]


def test_shortcut_through_an_assigned_alias_getattr_or_star_import_is_found() -> None:
    source = (
        "import torch\nfrom torch import *\nconv = torch.conv2d\n\n"
        "def f(x, w):\n    return conv(x, w) + getattr(torch, 'conv2d')(x, w) + conv2d(x, w)\n"
    )
    uses = find_shortcuts(ast.parse(source), CONV)
    assert {(use.line, use.code) for use in uses} == {
        (3, "torch.conv2d"),
        (6, "conv"),
        (6, "getattr(torch, 'conv2d')"),
        (6, "conv2d"),
    }


def test_an_alias_assigned_in_one_function_does_not_follow_the_name_into_another() -> None:
    source = (
        "import torch\n\ndef cheat(x, w):\n    f = getattr(torch, 'conv2d')\n    return f(x, w)\n\n"
        "def gate(x):\n    f = x * 2\n    return f + 1\n"
    )
    uses = find_shortcuts(ast.parse(source), CONV)
    assert {(use.line, use.code) for use in uses} == {
        (4, "getattr(torch, 'conv2d')"),
        (5, "f"),
    }


def test_whole_module_rule_catches_the_import_and_each_use() -> None:
    source = "import torch.nn as nn\n\ndef f(x):\n    return nn.functional.relu(x)\n"
    assert found(source, TORCH_NN) == [
        "line 1: import torch.nn as nn (torch.nn)",
        "line 4, in f: nn.functional.relu, that is torch.nn.functional.relu (torch.nn)",
    ]


def test_allowed_functions_of_an_imported_module_are_not_caught() -> None:
    source = "import torch.nn.functional as F\n\ndef f(x):\n    return F.pad(x, (1, 1))\n"
    assert found(source, CONV) == []


def test_learners_own_function_named_like_torchs_is_not_caught() -> None:
    source = (
        "import torch\n\ndef conv2d(x, w):\n    return (x * w).sum()\n\n"
        "def forward(x, w):\n    return conv2d(x, w)\n"
    )
    assert found(source, CONV) == []


def test_parameter_named_like_an_import_hides_it() -> None:
    source = "import torch.nn.functional as F\n\ndef f(F, x):\n    return F.conv2d(x)\n"
    assert found(source, CONV) == []


def test_grad_on_a_plain_object_and_an_own_backward_method_are_not_caught() -> None:
    source = (
        "class Value:\n"
        "    def __init__(self, data):\n        self.data, self.grad = data, 0.0\n"
        "    def backward(self):\n        self.grad = 1.0\n\n"
        "def train(v):\n    v.backward()\n    return v.grad\n"
    )
    assert found(source, AUTOGRAD) == []


def test_autograd_on_tensors_is_caught() -> None:
    source = (
        "import torch\n\ndef train(x):\n"
        "    w = torch.zeros(3, requires_grad=True)\n"
        "    loss = (x * w).sum()\n    loss.backward()\n    return w.grad\n"
    )
    assert found(source, AUTOGRAD) == [
        "line 4, in train: requires_grad=True (autograd)",
        "line 6, in train: loss.backward (autograd)",
        "line 7, in train: w.grad (autograd)",
    ]


def test_requires_grad_false_is_allowed() -> None:
    assert found("import torch\nx = torch.ones(2, requires_grad=False)\n", AUTOGRAD) == []


def test_rule_limited_to_functions_ignores_provided_code() -> None:
    rule = Shortcuts("a ready-made layer", names={"torch.conv2d"}, functions={"conv2d"})
    source = (
        "import torch\n\ndef conv2d(x, w):\n    return torch.conv2d(x, w)\n\n"
        "def provided(x, w):\n    return torch.conv2d(x, w)\n"
    )
    assert found(source, rule) == ["line 4, in conv2d: torch.conv2d (a ready-made layer)"]


def test_method_of_a_class_is_named_with_its_class() -> None:
    source = (
        "import torch\n\nclass Layer:\n    def forward(self, x, w):\n"
        "        return torch.conv2d(x, w)\n"
    )
    assert found(source, CONV) == ["line 5, in Layer.forward: torch.conv2d (a ready-made layer)"]


def test_expect_no_shortcuts_lists_the_uses_and_the_advice() -> None:
    tree = ast.parse("import torch\n\ndef f(x, w):\n    return torch.conv2d(x, w)\n")
    with pytest.raises(CheckFailure) as failure:
        expect_no_shortcuts(tree, "conv/conv.py", CONV, advice="Slide the window yourself.")
    message = str(failure.value)
    assert message.startswith("conv/conv.py uses what this exercise asks you to write yourself")
    assert "line 4, in f: torch.conv2d (a ready-made layer)" in message
    assert message.endswith("Slide the window yourself.")
    expect_no_shortcuts(ast.parse("def f(x):\n    return x\n"), "ok.py", CONV, advice="")


# ------------------------------------------------------------------------------------- mistakes


def test_likely_mistake_names_a_mistake_only_when_the_result_matches_it() -> None:
    want = np.array([1.0, 2.0, 3.0])
    table = [Mistake("half: keep the factor 2", 0.5 * want), Mistake("sign", -want)]
    assert likely_mistake(0.5 * want, table, default="rule") == "half: keep the factor 2"
    assert likely_mistake(-want * (1 + 1e-9), table, default="rule") == "sign"
    assert likely_mistake(want + 1.0, table, default="rule") == "rule"
    assert likely_mistake(np.ones(2), table, default="rule") == "rule"  # another shape
    assert likely_mistake("text", table, default="rule") == "rule"


def test_likely_mistake_prefers_the_right_answer_and_skips_missing_variants() -> None:
    calls = []

    def lazy() -> float:
        calls.append(1)
        return 2.0

    table = [Mistake("not applicable", None), Mistake("lazy", lazy)]
    assert likely_mistake(2.0, table, expected=2.0, default="rule") == "rule"
    assert calls == []
    assert likely_mistake(2.0, table, default="rule") == "lazy"
    assert likely_mistake(math.inf, [Mistake("inf", math.inf)]) == "inf"
    assert likely_mistake(float("nan"), [Mistake("nan", math.nan)]) == "nan"
    pair = (torch.ones(2), 3.0)
    assert likely_mistake((torch.ones(2), 3.0), [Mistake("pair", pair)]) == "pair"


def test_expect_close_gives_the_mistakes_hint_or_the_rule() -> None:
    table = [Mistake("this is the MSE: take its square root", 4.0)]
    with pytest.raises(CheckFailure, match="Hint: this is the MSE: take its square root"):
        expect_close(4.0, 2.0, name="rmse", hint="the root of the MSE", mistakes=table)
    with pytest.raises(CheckFailure, match="Hint: the root of the MSE"):
        expect_close(3.0, 2.0, name="rmse", hint="the root of the MSE", mistakes=table)
    expect_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]), name="x", mistakes=table)
    with pytest.raises(CheckFailure, match="should return a torch.Tensor"):
        expect_close(np.ones(2), torch.ones(2), name="x")


# -------------------------------------------------------------------------------------- results


def test_unpack_checks_container_arity_and_each_part() -> None:
    w, b, mistakes = unpack(
        (np.zeros(3), 0.5, 2), "train_epoch", w=array((3,)), b=number, mistakes=integer
    )
    assert w.shape == (3,) and b == 0.5 and mistakes == 2
    with pytest.raises(CheckFailure) as failure:
        unpack([1, 2], "train_epoch", w=number, b=number, mistakes=integer)
    assert str(failure.value) == (
        "train_epoch should return a tuple (w, b, mistakes) of 3 values, got a list of 2 values"
    )
    with pytest.raises(
        CheckFailure, match=r"^fit should return a tuple \(w, b\) of 2 values, got ndarray$"
    ):
        unpack(np.zeros(2), "fit", w=number, b=number)


def test_unpack_names_the_part_that_is_wrong() -> None:
    with pytest.raises(CheckFailure, match="^fit_gd's b should be a number, got str$"):
        unpack((np.zeros(2), "0"), "fit_gd", w=array(), b=number)
    with pytest.raises(
        CheckFailure, match=r"^gradients' dw \(case 2\) has shape \(2,\), expected \(3,\)"
    ):
        unpack((np.zeros(2), 1.0), "gradients", context="case 2", dw=array((3,)), db=number)
    with pytest.raises(CheckFailure, match="^f's best_iter should be a Python int, got int64$"):
        unpack((np.int64(3),), "f", best_iter=integer)
    with pytest.raises(CheckFailure, match="^f's low should be a Python float, got ndarray;"):
        unpack((np.ones(1),), "f", low=py_float)
    with pytest.raises(
        CheckFailure, match=r"got float32; convert the result with float\(\.\.\.\)$"
    ):
        unpack((np.float32(0.5),), "f", low=py_float)
    assert unpack((np.float64(0.5), 2), "f", low=py_float, high=py_float) == (0.5, 2.0)
    with pytest.raises(
        CheckFailure, match=r"^fold 0 should be a tuple \(train, test\) of 2 values"
    ):
        unpack((1,), "fold 0", verb="be", train=number, test=number)
    with pytest.raises(CheckFailure, match="should return a torch.Tensor, got ndarray"):
        unpack((np.ones(2),), "update", w=tensor((2,)))


def test_unpack_dict_checks_keys() -> None:
    (loss,) = unpack_dict({"loss": 1.0}, "step", loss=number)
    assert loss == 1.0
    with pytest.raises(
        CheckFailure, match="should return a dict with the keys loss, got a dict with keys x"
    ):
        unpack_dict({"x": 1.0}, "step", loss=number)


# --------------------------------------------------------------------------------------- inputs


class FakeSubmission:
    """Stands in for the worker proxy: runs `function` locally on copies, as the worker would."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def call_with_inputs(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
        copies = [_copy(a) for a in args]
        return self.function(*copies, **kwargs), copies


def _copy(value: Any) -> Any:
    if isinstance(value, torch.Tensor | np.ndarray):
        return value.copy() if isinstance(value, np.ndarray) else value.clone()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def test_call_unchanged_passes_results_of_a_clean_call() -> None:
    submission = FakeSubmission(lambda w, b, lr: (w - lr, b - lr))
    w, b = call_unchanged(
        submission, "update", torch.ones(2), torch.zeros(()), 0.1, names=("w", "b")
    )
    assert torch.allclose(w, torch.full((2,), 0.9))


def test_call_unchanged_names_the_modified_argument() -> None:
    def update(w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        w += 1
        return w, b

    with pytest.raises(CheckFailure) as failure:
        call_unchanged(
            FakeSubmission(update), "update", torch.ones(2), torch.zeros(()), names=("w", "b")
        )
    assert str(failure.value) == (
        "update modified its argument w in place; build new tensors (w + ..., not w += ... or "
        "w[...] = ...) so the caller's w keeps its values"
    )


def test_call_unchanged_follows_dicts_and_custom_advice() -> None:
    def step(params: dict, state: dict) -> dict:
        state["m"]["w"] = state["m"]["w"] * 2
        return params

    state = {"m": {"w": np.ones(2)}}
    with pytest.raises(
        CheckFailure, match=r"modified its argument state\['m'\]\['w'\] in place; keep state"
    ):
        call_unchanged(FakeSubmission(step), "adam_step", {}, state, names=(None, "state"),
                       how="keep {name}")  # fmt: skip
    # An argument named None is not checked.
    call_unchanged(FakeSubmission(step), "adam_step", {}, state, names=(None, None))


def test_nan_inputs_left_as_they_were_count_as_unchanged() -> None:
    x = np.array([np.nan, 1.0])
    call_unchanged(FakeSubmission(lambda a: a.sum()), "f", x, names=("x",))


def test_fmt_dtype_drops_the_module() -> None:
    assert (fmt_dtype(torch.float32), fmt_dtype(torch.int64)) == ("float32", "int64")


# ------------------------------------------------------------------------------------- datasets


def test_data_sets_are_cached_but_returned_as_fresh_copies() -> None:
    X, y = datasets.diabetes()
    X[:] = 0.0
    again, _ = datasets.diabetes()
    assert again.shape == (442, 10) and np.abs(again).sum() > 0
    assert datasets.diabetes(scaled=False)[0][:, 0].max() > 1  # ages in years
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and X.max() == 16 and y.dtype == np.int64
    X, y = datasets.iris()
    assert X.shape == (150, 4) and set(y.tolist()) == {0, 1, 2}
    frame = datasets.penguins_frame()
    del frame["species"]
    assert "species" in datasets.penguins_frame()


def test_digits_split_is_fixed_and_fresh() -> None:
    X_train, y_train, X_held, y_held = datasets.digits_split(300)
    assert X_train.shape == (1497, 64) and X_held.shape == (300, 64) and y_held.dtype == torch.int64
    assert X_train.dtype == torch.float32 and X_train.min() == 0 and X_train.max() == 1
    X_held[:] = 0.0
    again = datasets.digits_split(300)
    assert torch.equal(again[0], X_train) and torch.equal(again[3], y_held)
    assert again[2].abs().sum() > 0
    assert not torch.equal(datasets.digits_split(300, seed=1)[3], y_held)
