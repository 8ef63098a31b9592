"""Recorded reference calls replay exactly, and anything not recorded is `not_run`, never judged."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
import torch

from grader import replay

REFERENCE = types.SimpleNamespace(
    double=lambda x: 2 * x,
    pair=lambda x, k=1: (x.sum().item(), [x.shape[0] * k]),
    model=lambda: torch.nn.Linear(2, 1),
    scale_in_place=lambda x: x.mul_(3),
    with_graph=lambda x: (x * 2).requires_grad_(),
    noisy=lambda x: x + torch.rand(1),
    EPOCHS=20,
)


def recorded(tmp_path: Path, calls) -> replay.ReplayReference:
    recording = replay.Recording("demo")
    proxy = replay.RecordingReference(REFERENCE, recording)
    for name, args, kwargs in calls:
        getattr(proxy, name)(*args, **kwargs)
    recording.save(tmp_path, torch.__version__)
    return replay.open_replay(tmp_path, "demo", public_seed=True)


def not_run(call) -> str:
    with pytest.raises(pytest.skip.Exception) as caught:
        call()
    message = str(caught.value.msg)
    assert message.startswith("needs the reference solution: graded by your instructor (")
    return message


def test_recorded_calls_replay_with_their_exact_types(tmp_path: Path) -> None:
    x = torch.arange(6, dtype=torch.float32).reshape(3, 2)
    replayed = recorded(tmp_path, [("double", (x,), {}), ("pair", (x,), {"k": 2})])
    got = replayed.double(x.clone())
    assert got.dtype == torch.float32 and torch.equal(got, 2 * x)
    assert replayed.pair(x, k=2) == (15.0, [6])
    assert "pair() was called with inputs that were not recorded" in not_run(
        lambda: replayed.pair(x, k=3)
    )
    assert "double() was called" in not_run(lambda: replayed.double(x.double()))


def test_calls_that_cannot_be_replayed_are_not_run(tmp_path: Path) -> None:
    x = torch.ones(2)
    calls = [
        ("model", (), {}),
        ("scale_in_place", (x.clone(),), {}),
        ("with_graph", (x,), {}),
        ("noisy", (x,), {}),
        ("noisy", (x,), {}),
    ]
    replayed = recorded(tmp_path, calls)
    assert "its result (Linear) cannot be recorded" in not_run(replayed.model)
    assert "changed its arguments in place" in not_run(lambda: replayed.scale_in_place(x))
    assert "its result (Tensor) cannot be recorded" in not_run(lambda: replayed.with_graph(x))
    assert "different results for the same arguments" in not_run(lambda: replayed.noisy(x))


def test_attributes_replay_and_other_seeds_never_use_the_recording(tmp_path: Path) -> None:
    recording = replay.Recording("demo")
    assert replay.RecordingReference(REFERENCE, recording).EPOCHS == 20
    recording.save(tmp_path, torch.__version__)
    assert replay.open_replay(tmp_path, "demo", public_seed=True).EPOCHS == 20
    secret = replay.open_replay(tmp_path, "demo", public_seed=False)
    assert "for the public seed only" in not_run(lambda: secret.EPOCHS)


def test_a_missing_or_damaged_recording_is_not_run(tmp_path: Path) -> None:
    assert "no recorded reference results for demo" in not_run(
        lambda: replay.open_replay(tmp_path, "demo", True).double(1)
    )
    (tmp_path / "demo.json").write_text("{not json")
    assert "cannot read demo.json" in not_run(
        lambda: replay.open_replay(tmp_path, "demo", True).double(1)
    )
    key = replay.call_key("double", (1,), {})
    data = {"schema": replay.SCHEMA, "calls": {key: {"result": "AAAA"}}}
    (tmp_path / "demo.json").write_text(json.dumps(data))
    assert "is damaged" in not_run(lambda: replay.open_replay(tmp_path, "demo", True).double(1))
