"""What a release answers without the solution: callbacks and DataLoader passes replayed, provided
code run from the pristine stub, and the course's oracles, which agree with the references."""

from __future__ import annotations

import importlib.util
import json
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from grading import REPO
from sklearn.model_selection import KFold
from torch.utils.data import DataLoader, TensorDataset

from grader import replay
from grader.checks.oracles import ORACLES
from grader.stand_ins import StandIns, provided_names


def solution(relative: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"_sol_{Path(relative).stem}", REPO / "solutions" / relative
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fit(X: torch.Tensor, epochs: int, log=None) -> torch.Tensor:
    for epoch in range(1, epochs + 1):
        if log is not None:
            log("loss", float(X.sum()) / epoch, epoch)
    return X * epochs


def loaders(n: int, seed: int) -> tuple[DataLoader, DataLoader]:
    data = TensorDataset(torch.arange(n), torch.arange(n) * 10)
    shuffled = DataLoader(
        data, batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    return shuffled, DataLoader(data, batch_size=3)


def asks_its_callback(x: torch.Tensor, decide) -> torch.Tensor:
    return x if decide(x) else -x


REFERENCE = types.SimpleNamespace(fit=fit, loaders=loaders, asks=asks_its_callback)


def course_with(tmp_path: Path, stub: str, oracles: str = "") -> Path:
    """A release's course/ folder holding one exercise, `demo`, whose stub is `stub`."""
    course = tmp_path / "course"
    (course / "exercises" / "demo").mkdir(parents=True)
    (course / "exercises" / "catalog.toml").write_text(
        '[[exercise]]\nid = "demo"\ntitle = "Demo"\npath = "demo/demo.py"\n'
    )
    (course / "exercises" / "demo" / "demo.py").write_text(stub)
    (course / "checks").mkdir()
    if oracles:
        (course / "checks" / "oracles.py").write_text(oracles)
    (course / "replay").mkdir()
    return course


def recorded(course: Path, calls) -> replay.ReplayReference:
    recording = replay.Recording("demo")
    proxy = replay.RecordingReference(REFERENCE, recording)
    for name, args, kwargs, use in calls:
        use(getattr(proxy, name)(*args, **kwargs))
    recording.save(course / "replay", torch.__version__)
    return replay.open_replay(course / "replay", "demo", public_seed=True)


def not_run(call) -> str:
    with pytest.raises(pytest.skip.Exception) as caught:
        call()
    return str(caught.value.msg)


def test_a_callback_gets_the_calls_it_got_from_the_reference(tmp_path: Path) -> None:
    x = torch.arange(4.0)
    seen: list[tuple] = []
    replayed = recorded(course_with(tmp_path, "x = 1\n"), [
        ("fit", (x, 3), {"log": lambda *a: seen.append(a)}, lambda _: None),
        ("asks", (x, lambda v: True), {}, lambda _: None),
    ])  # fmt: skip
    assert seen == [("loss", 6.0, 1), ("loss", 3.0, 2), ("loss", 2.0, 3)]
    again: list[tuple] = []
    got = replayed.fit(x, 3, log=lambda *a: again.append(a))
    assert torch.equal(got, x * 3) and again == seen
    # A reference that uses what its callback returns cannot be replayed: the answer may differ.
    assert "used what a function argument returned" in not_run(
        lambda: replayed.asks(x, lambda v: False)
    )


def test_a_dataloader_replays_each_recorded_pass(tmp_path: Path) -> None:
    def two_passes(pair) -> None:
        shuffled, ordered = pair
        for loader in (shuffled, shuffled, ordered):
            list(loader)

    replayed = recorded(course_with(tmp_path, "x = 1\n"), [("loaders", (8, 5), {}, two_passes)])
    shuffled, ordered = replayed.loaders(8, 5)
    real, _ = loaders(8, 5)
    for _ in range(2):
        got = [batch for batch in shuffled]
        want = [batch for batch in real]
        assert len(got) == len(want) == len(shuffled) == 3
        assert all(
            torch.equal(g[0], w[0]) and torch.equal(g[1], w[1])
            for g, w in zip(got, want, strict=True)
        )
    assert "more often than the 2 recorded" in not_run(lambda: list(shuffled))
    assert [b[0].tolist() for b in ordered] == [[0, 1, 2], [3, 4, 5], [6, 7]]


STUB = """\
import torch


def make_model():
    return torch.nn.Linear(2, 1)


def train(model):
    raise NotImplementedError("demo: implement train")


def fit_from(state):
    model = make_model()
    return train(model)


class Helper:
    def scale(self, x):
        return 2 * x
"""


def test_provided_code_is_what_needs_nothing_the_learner_writes() -> None:
    assert provided_names(STUB, "demo") == {"make_model", "Helper"}
    assert provided_names(STUB, "other") == {"make_model", "Helper", "train", "fit_from"}


def test_unrecordable_results_come_from_the_stub_and_unrecorded_calls_from_oracles(
    tmp_path: Path,
) -> None:
    oracles = "ORACLES = {'demo': {'double': lambda x: 2 * x}}\n"
    course = course_with(tmp_path, STUB, oracles)
    unrecordable = {"unreplayable": "its result (Linear) cannot be recorded"}
    data = {"schema": replay.SCHEMA, "calls": {replay.call_key("make_model", (), {}): unrecordable}}
    (course / "replay" / "demo.json").write_text(json.dumps(data))
    reference = replay.open_replay(course / "replay", "demo", public_seed=True)
    torch.manual_seed(3)
    model = reference.make_model()
    torch.manual_seed(3)
    assert torch.equal(model.weight, torch.nn.Linear(2, 1).weight)
    assert reference.double(21) == 42
    assert "fit_from() was called with inputs that were not recorded" in not_run(
        lambda: reference.fit_from({})
    )
    stand_ins = StandIns("demo", course / "exercises" / "demo" / "demo.py", course / "checks")
    assert stand_ins.find("train") is None and stand_ins.find("Helper") is not None


def test_the_perceptron_oracle_labels_as_the_reference_predicts() -> None:
    predict = solution("perceptron/perceptron.py").predict
    oracle = ORACLES["perceptron"]["predict"]
    gen = torch.Generator().manual_seed(0)
    for dtype in (torch.float64, torch.float32):
        X = torch.randint(-2, 3, (50, 3), generator=gen).to(dtype)
        for w, b in [
            (torch.zeros(3), torch.zeros(())),
            (torch.tensor([1.0, -1.0, 0.5]), torch.tensor(-0.5)),
        ]:
            want, got = predict(w.to(dtype), b.to(dtype), X), oracle(w.to(dtype), b.to(dtype), X)
            assert got.dtype == want.dtype and torch.equal(got, want)


def test_the_model_selection_oracle_scores_as_the_reference() -> None:
    from sklearn.datasets import load_diabetes

    cross_val_scores = solution("model_selection/selection.py").cross_val_scores
    oracle = ORACLES["model_selection"]["cross_val_scores"]
    X, y = load_diabetes(return_X_y=True)
    folds = list(KFold(5, shuffle=True, random_state=3).split(X))
    for alpha in (1e-4, 0.37, 10.0):
        np.testing.assert_allclose(oracle(X, y, folds, alpha), cross_val_scores(X, y, folds, alpha),
                                   rtol=1e-9)  # fmt: skip


def test_the_early_stopping_oracle_stops_as_the_reference() -> None:
    early_stopping = solution("training_loop/training_loop.py").early_stopping
    oracle = ORACLES["training_loop"]["early_stopping"]
    gen = np.random.default_rng(0)
    for _ in range(500):
        # Few distinct values, so that ties (the earlier epoch stays best) come up often.
        losses = [float(v) for v in gen.choice([0.5, 0.6, 0.7, 0.8], size=gen.integers(1, 9))]
        patience = int(gen.integers(1, 5))
        assert oracle(losses, patience) == early_stopping(losses, patience), (losses, patience)
