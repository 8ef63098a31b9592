"""Tests for learner progress: persistence, atomic saves and recovery from damaged files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import mllab.files as files_module
import mllab.progress as progress_module
from mllab.progress import SCHEMA, Progress

IDS = ["perceptron", "mlp", "cnn"]


def reopen(state: Path) -> Progress:
    fresh = Progress(state)
    assert fresh.notice is None
    return fresh


def test_new_progress_is_empty_and_not_an_error(tmp_path: Path) -> None:
    progress = Progress(tmp_path / ".mllab")
    assert progress.notice is None
    assert progress.status("perceptron") == "not started"
    assert progress.next_pending(IDS) == "perceptron"
    assert not (tmp_path / ".mllab").exists()  # reading never creates anything


def test_record_persists_across_instances(tmp_path: Path) -> None:
    state = tmp_path / ".mllab"
    progress = Progress(state)
    progress.record("perceptron", passed=True, score=10, max_score=10)
    progress.record("mlp", passed=False, score=2.5, max_score=8)
    progress.save()

    again = reopen(state)
    assert again.status("perceptron") == "passed"
    assert again.status("mlp") == "failing"
    assert again.status("cnn") == "not started"
    assert again.entry("mlp")["score"] == 2.5 and again.entry("mlp")["max_score"] == 8
    assert again.next_pending(IDS) == "mlp"


def test_first_passed_is_kept_when_a_later_run_fails(tmp_path: Path) -> None:
    state = tmp_path / ".mllab"
    progress = Progress(state)
    progress.record("perceptron", passed=True, score=1, max_score=1)
    first = progress.entry("perceptron")["first_passed"]
    progress.record("perceptron", passed=False, score=0, max_score=1)
    progress.record("perceptron", passed=True, score=1, max_score=1)
    progress.save()
    assert reopen(state).entry("perceptron")["first_passed"] == first


def test_next_pending(tmp_path: Path) -> None:
    progress = Progress(tmp_path)
    for exercise_id in IDS:
        progress.record(exercise_id, passed=True, score=1, max_score=1)
    assert progress.next_pending(IDS) is None
    progress.record("mlp", passed=False, score=0, max_score=1)
    assert progress.next_pending(IDS) == "mlp"
    assert progress.next_pending([]) is None


def test_resume_is_the_last_opened_else_the_first_not_passed(tmp_path: Path) -> None:
    progress = Progress(tmp_path)
    progress.record(IDS[0], passed=True, score=1, max_score=1)
    assert progress.resume(IDS) == IDS[1]
    progress.set_current(IDS[-1])
    assert progress.resume(IDS) == IDS[-1]
    assert progress.resume(IDS[:-1]) == IDS[1]  # an exercise no longer in the course


def test_reveal_hint_is_capped_and_persists(tmp_path: Path) -> None:
    state = tmp_path / ".mllab"
    progress = Progress(state)
    assert [progress.reveal_hint("perceptron", 3) for _ in range(5)] == [1, 2, 3, 3, 3]
    assert progress.reveal_hint("mlp", 0) == 0
    progress.save()
    again = reopen(state)
    assert again.reveal_hint("perceptron", 3) == 3
    assert again.reveal_hint("perceptron", 5) == 4  # more hints added to the course later
    assert again.status("perceptron") == "not started"  # hints alone are not progress


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    state = tmp_path / ".mllab"
    progress = Progress(state)
    for n in range(5):
        progress.record(f"ex{n}", passed=n % 2 == 0, score=n, max_score=4)
        progress.save()
    assert sorted(p.name for p in state.iterdir()) == ["progress.json", "progress.lock"]
    data = json.loads((state / "progress.json").read_text(encoding="utf-8"))
    assert data["schema"] == SCHEMA
    assert set(data["exercises"]) == {f"ex{n}" for n in range(5)}


def test_failed_save_keeps_the_old_file_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / ".mllab"
    progress = Progress(state)
    progress.record("perceptron", passed=True, score=1, max_score=1)
    progress.save()
    before = (state / "progress.json").read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files_module.os, "fsync", broken_fsync)
    progress.record("mlp", passed=True, score=1, max_score=1)
    with pytest.raises(OSError, match="disk full"):
        progress.save()
    assert (state / "progress.json").read_bytes() == before
    assert sorted(p.name for p in state.iterdir()) == ["progress.json", "progress.lock"]


# ----------------------------------------------------------------------------- damaged files

DAMAGED = {
    "empty": b"",
    "truncated": b'{"schema": "mllab-progress/1", "exercises": {"percep',
    "garbage": bytes(range(256)) * 3,
    "a list": b"[1, 2, 3]",
    "a string": b'"passed"',
    "null": b"null",
    "no exercises": b'{"schema": "mllab-progress/1"}',
    "exercises a list": b'{"schema": "mllab-progress/1", "exercises": ["perceptron"]}',
    "future schema": b'{"schema": "mllab-progress/99", "exercises": {}}',
    "no schema": b'{"exercises": {"perceptron": {"status": "passed"}}}',
}


def check_moved_aside(state: Path, original: bytes) -> Progress:
    progress = Progress(state)
    kept = [p for p in state.iterdir() if p.name != "progress.json"]
    assert len(kept) == 1, [p.name for p in state.iterdir()]
    assert re.fullmatch(r"progress\.json\.corrupt-\d+", kept[0].name)
    assert kept[0].read_bytes() == original
    assert not (state / "progress.json").exists()
    assert progress.notice is not None
    assert kept[0].name in progress.notice and "could not be read" in progress.notice
    assert progress.data["exercises"] == {}
    assert progress.status("perceptron") == "not started"
    return progress


@pytest.mark.parametrize("content", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_file_is_moved_aside(tmp_path: Path, content: bytes) -> None:
    state = tmp_path / ".mllab"
    state.mkdir()
    (state / "progress.json").write_bytes(content)
    progress = check_moved_aside(state, content)

    # The next save starts a fresh, valid file and leaves the kept copy alone.
    progress.record("perceptron", passed=True, score=1, max_score=1)
    progress.save()
    assert reopen(state).status("perceptron") == "passed"
    assert len(list(state.glob("progress.json.corrupt-*"))) == 1


def test_future_schema_notice_names_the_schema(tmp_path: Path) -> None:
    state = tmp_path / ".mllab"
    state.mkdir()
    (state / "progress.json").write_text('{"schema": "mllab-progress/99", "exercises": {}}')
    progress = Progress(state)
    assert progress.notice is not None and "mllab-progress/99" in progress.notice


@pytest.mark.parametrize(
    "exercises",
    [{"perceptron": "passed"}, {"perceptron": {"hints": "two"}}, {"perceptron": None}],
    ids=["entry a string", "hints not a number", "entry null"],
)
def test_damaged_entries_are_moved_aside(tmp_path: Path, exercises: dict[str, object]) -> None:
    state = tmp_path / ".mllab"
    state.mkdir()
    content = json.dumps({"schema": SCHEMA, "exercises": exercises}).encode()
    (state / "progress.json").write_bytes(content)
    progress = check_moved_aside(state, content)
    assert progress.reveal_hint("perceptron", 3) == 1


def test_deeply_nested_json_is_moved_aside(tmp_path: Path) -> None:
    state = tmp_path / ".mllab"
    state.mkdir()
    content = b"[" * 100_000
    (state / "progress.json").write_bytes(content)
    check_moved_aside(state, content)


def test_two_damaged_files_in_the_same_second_are_both_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module.time, "time", lambda: 1_700_000_000.5)
    state = tmp_path / ".mllab"
    state.mkdir()
    for content in (b"first damaged file", b"second damaged file"):
        (state / "progress.json").write_bytes(content)
        assert Progress(state).notice is not None
    kept = sorted(p.read_bytes() for p in state.glob("progress.json.corrupt-*"))
    assert kept == [b"first damaged file", b"second damaged file"]


def test_two_instances_at_once_lose_nothing(tmp_path: Path) -> None:
    state = tmp_path / ".mllab"
    app, terminal = Progress(state), Progress(state)
    app.reveal_hint("perceptron", available=4)
    app.set_current("perceptron")
    terminal.record("evaluation", passed=True, score=10, max_score=10)
    terminal.reveal_hint("perceptron", available=4)
    terminal.reveal_hint("perceptron", available=4)
    app.save()
    terminal.save()
    app.record("perceptron", passed=False, score=3, max_score=10)
    app.save()
    merged = Progress(state)
    assert merged.status("evaluation") == "passed"
    assert merged.status("perceptron") == "failing"
    assert merged.hints_shown("perceptron") == 2
    assert merged.current == "perceptron"
    assert "first_passed" in merged.entry("evaluation")
