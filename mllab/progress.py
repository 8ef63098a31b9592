"""Learner progress, stored in the workspace by exercise id and written atomically."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader.report import CheckResult, Report
from mllab.files import write_atomic

SCHEMA = "mllab-progress/1"

# How each status is shown, in the lab and on the command line.
STATUS_MARK = {"passed": "✓", "failing": "✗", "not started": "·"}
STATUS_STYLE = {"passed": "green", "failing": "red", "not started": "dim"}


class Progress:
    """Per-exercise status ("passed", "failing") and revealed hints, in `.mllab/progress.json`.

    A damaged file is never silently replaced: it is kept as `progress.json.corrupt-<time>` and
    `notice` says so, so the caller can tell the learner. Saving merges this instance's changes
    into what is on disk under a lock, so two instances at once (the app and `mllab check` in
    another terminal) lose nothing.
    """

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "progress.json"
        self.notice: str | None = None
        self.changes: dict[str, dict[str, Any]] = {}
        self.current_changed = False
        self.data: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        """What is on disk now; a damaged file is set aside (see the class docstring)."""
        empty: dict[str, Any] = {"schema": SCHEMA, "exercises": {}}
        if not self.path.exists():
            return empty
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
                raise ValueError("unexpected layout")
            if data.get("schema") != SCHEMA:
                raise ValueError(f"schema {data.get('schema')!r}, expected {SCHEMA!r}")
            for exercise_id, entry in data["exercises"].items():
                _validate_entry(exercise_id, entry)
        except (OSError, ValueError, RecursionError) as exc:
            kept = self.path.with_name(f"{self.path.name}.corrupt-{time.time_ns()}")
            try:
                os.replace(self.path, kept)
            except FileNotFoundError:  # another mllab set it aside first
                pass
            except OSError as move:
                # A read-only workspace: the file stays as it is, and nothing is saved over it.
                self.notice = (
                    f"your progress file {self.path} could not be read ({exc}) nor set aside "
                    f"({move.strerror or move}); progress is not remembered until it is removed"
                )
                return empty
            self.notice = (
                f"your progress file could not be read ({exc}); it was kept as {kept.name} "
                "and progress starts again from the checks you run next"
            )
            return empty
        return data

    def entry(self, exercise_id: str) -> dict[str, Any]:
        return self.data["exercises"].setdefault(exercise_id, {})

    def _change(self, exercise_id: str, **fields: Any) -> None:
        self.entry(exercise_id).update(fields)
        self.changes.setdefault(exercise_id, {}).update(fields)

    @property
    def current(self) -> str | None:
        """The exercise the learner last opened in the lab, to resume there."""
        value = self.data.get("current")
        return value if isinstance(value, str) else None

    def set_current(self, exercise_id: str) -> None:
        self.data["current"] = exercise_id
        self.current_changed = True

    def status(self, exercise_id: str) -> str:
        return str(self.data["exercises"].get(exercise_id, {}).get("status", "not started"))

    def record(
        self,
        exercise_id: str,
        passed: bool,
        score: float,
        max_score: float,
        checks: list[dict[str, Any]] | None = None,
    ) -> None:
        status = "passed" if passed else "failing"
        self._change(exercise_id, status=status, score=score, max_score=max_score)
        if checks is not None:
            self._change(exercise_id, checks=checks)
        if passed and "first_passed" not in self.entry(exercise_id):
            self._change(exercise_id, first_passed=int(time.time()))

    def last_checks(self, exercise_id: str) -> list[dict[str, Any]]:
        """The checks of the last recorded run, as the lab shows them when the exercise reopens."""
        checks = self.data["exercises"].get(exercise_id, {}).get("checks", [])
        return [c for c in checks if isinstance(c, dict)] if isinstance(checks, list) else []

    def hints_shown(self, exercise_id: str) -> int:
        return int(self.data["exercises"].get(exercise_id, {}).get("hints", 0))

    def reveal_hint(self, exercise_id: str, available: int) -> int:
        """Reveal one more hint (up to `available`); returns how many are now revealed."""
        shown = min(available, self.hints_shown(exercise_id) + 1)
        self._change(exercise_id, hints=shown)
        return shown

    def next_pending(self, ids: list[str]) -> str | None:
        return next((i for i in ids if self.status(i) != "passed"), None)

    def resume(self, ids: list[str]) -> str | None:
        """Where the learner left off: the last exercise opened, else the first not passed."""
        return self.current if self.current in ids else self.next_pending(ids)

    def save(self) -> None:
        """Merge this instance's changes into the file on disk, atomically and under a lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            data = self._read()
            for exercise_id, fields in self.changes.items():
                entry = data["exercises"].setdefault(exercise_id, {})
                for key, value in fields.items():
                    if key == "hints":  # a hint once shown stays shown
                        entry[key] = max(int(entry.get(key, 0)), value)
                    elif key == "first_passed":
                        entry.setdefault(key, value)
                    else:
                        entry[key] = value
            if self.current_changed:
                data["current"] = self.data.get("current")
            write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True))
            self.data, self.changes, self.current_changed = data, {}, False

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.path.with_name("progress.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def unsaved(progress: Progress, exc: OSError) -> str:
    """What to tell the learner when `progress.save()` failed (a read-only workspace, say)."""
    return (
        f"your progress could not be saved in {progress.path.parent} ({exc.strerror or exc}), "
        "so mllab will not remember this"
    )


MESSAGE_KEPT = 1500  # characters of a check's message kept in progress.json for the next visit


def record_report(
    progress: Progress,
    report: Report,
    judged: dict[str, str | None] | None,
    learner_file: Callable[[str], Path],
) -> tuple[list[str], list[str]]:
    """Record each exercise the run judged, with its checks as the lab shows them when it
    reopens; returns (ids recorded, ids whose file changed during the run). Nothing is saved.

    Skipped: an exercise whose checks could not run at all (its recorded result stays as it
    was), and one whose file is no longer the one judged (`judged`: id -> fingerprint at the
    start of the run), so progress never holds a verdict for a file that is gone.
    """
    recorded, changed = [], []
    for result in report.exercises:
        if not result.judged:
            continue
        if judged is not None and result.id in judged:
            if fingerprint(learner_file(result.id)) != judged[result.id]:
                changed.append(result.id)
                continue
        checks = [_check_entry(c) for c in result.checks]
        progress.record(result.id, result.passed, result.score, result.max_score, checks)
        recorded.append(result.id)
    return recorded, changed


def fingerprint(path: Path) -> str | None:
    """A hash of a learner's file as it is on disk now (None when it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _check_entry(check: CheckResult) -> dict[str, Any]:
    """One check of the last run, as the checks panel shows it when the exercise reopens."""
    return {
        "nodeid": check.nodeid or check.name, "name": check.name, "title": check.title,
        "outcome": check.outcome, "points": check.points, "max_points": check.max_points,
        "device": check.device, "message": check.message[:MESSAGE_KEPT],
    }  # fmt: skip


def _validate_entry(exercise_id: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise ValueError(f"entry {exercise_id!r} is not a table")
    if not isinstance(entry.get("status", ""), str):
        raise ValueError(f"entry {exercise_id!r} has a bad status")
    hints = entry.get("hints", 0)
    if isinstance(hints, bool) or not isinstance(hints, int) or hints < 0:
        raise ValueError(f"entry {exercise_id!r} has a bad hint count")
