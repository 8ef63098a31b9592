"""Learner progress, stored in the workspace by exercise id and written atomically."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

SCHEMA = "mllab-progress/1"


class Progress:
    """Per-exercise status ("passed", "failing") and revealed hints, in `.mllab/progress.json`.

    A damaged file is never silently replaced: it is kept as `progress.json.corrupt-<time>` and
    `notice` says so, so the caller can tell the learner.
    """

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "progress.json"
        self.notice: str | None = None
        self.data: dict[str, Any] = {"schema": SCHEMA, "exercises": {}}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
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
            os.replace(self.path, kept)
            self.notice = (
                f"your progress file could not be read ({exc}); it was kept as {kept.name} "
                "and progress starts again from the checks you run next"
            )
            return
        self.data = data

    def entry(self, exercise_id: str) -> dict[str, Any]:
        return self.data["exercises"].setdefault(exercise_id, {})

    def status(self, exercise_id: str) -> str:
        return str(self.data["exercises"].get(exercise_id, {}).get("status", "not started"))

    def record(self, exercise_id: str, passed: bool, score: float, max_score: float) -> None:
        entry = self.entry(exercise_id)
        entry.update(status="passed" if passed else "failing", score=score, max_score=max_score)
        if passed:
            entry.setdefault("first_passed", int(time.time()))

    def reveal_hint(self, exercise_id: str, available: int) -> int:
        """Reveal one more hint (up to `available`); returns how many are now revealed."""
        entry = self.entry(exercise_id)
        entry["hints"] = min(available, int(entry.get("hints", 0)) + 1)
        return int(entry["hints"])

    def next_pending(self, ids: list[str]) -> str | None:
        return next((i for i in ids if self.status(i) != "passed"), None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _validate_entry(exercise_id: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise ValueError(f"entry {exercise_id!r} is not a table")
    if not isinstance(entry.get("status", ""), str):
        raise ValueError(f"entry {exercise_id!r} has a bad status")
    hints = entry.get("hints", 0)
    if isinstance(hints, bool) or not isinstance(hints, int) or hints < 0:
        raise ValueError(f"entry {exercise_id!r} has a bad hint count")
