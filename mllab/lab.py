"""The lab's state without any UI: the course, the learner's workspace and their progress.

The Textual app drives this; it never imports Textual, so it can be tested (and reused by
other front ends) on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.report import Report
from mllab.catalog import Catalog, Exercise
from mllab.course import StubError, reference_text, stub_text
from mllab.paths import CourseDirs, course_dirs
from mllab.progress import Progress, fingerprint, record_report
from mllab.runner import GraderRun, RunRequest
from mllab.workspace import Workspace

DEVICES = ("all", "cpu", "cuda")

RunnerFactory = Callable[[RunRequest], Any]


@dataclass
class Lab:
    """One learner's course: what to show, where their files are, and what they have done."""

    catalog: Catalog
    workspace: Workspace
    dirs: CourseDirs = field(default_factory=course_dirs)
    runner: RunnerFactory = GraderRun
    device: str = "all"

    def __post_init__(self) -> None:
        # A folder of files without `.mllab/` keeps progress for this session only.
        self.progress = Progress(self.workspace.state_dir)
        self.saves = self.workspace.managed

    # ------------------------------------------------------------------------------ course

    def exercise(self, exercise_id: str) -> Exercise:
        return self.catalog.get(exercise_id)

    def tracks(self) -> list[tuple[str, list[Exercise]]]:
        """Exercises grouped by track, tracks in the order they first appear in the course."""
        groups: dict[str, list[Exercise]] = {}
        for exercise in self.catalog.exercises:
            groups.setdefault(exercise.track, []).append(exercise)
        return list(groups.items())

    def status(self, exercise_id: str) -> str:
        return self.progress.status(exercise_id)

    def points(self) -> tuple[float, float]:
        """Points earned so far (best recorded score per exercise) and points in the course."""
        earned = 0.0
        for exercise in self.catalog.exercises:
            entry = self.progress.data["exercises"].get(exercise.id, {})
            score = entry.get("score", 0.0)
            earned += min(float(score), exercise.points) if isinstance(score, int | float) else 0
        return earned, sum(e.points for e in self.catalog.exercises)

    def passed_count(self) -> int:
        return sum(self.status(e.id) == "passed" for e in self.catalog.exercises)

    def resume_id(self) -> str | None:
        """Where the learner left off: the last exercise opened, else the first not passed."""
        return self.progress.resume(list(self.catalog.ids))

    def next_id(self, after: str) -> str | None:
        """The first other exercise after `after` that has not passed (wrapping round), if any."""
        ids = list(self.catalog.ids)
        start = ids.index(after)
        # Never `after` itself: "next" would reopen the exercise the learner is on.
        for candidate in ids[start + 1 :] + ids[:start]:
            if self.status(candidate) != "passed":
                return candidate
        return None

    # ------------------------------------------------------------------------------- files

    def learner_file(self, exercise: Exercise) -> Path:
        return self.workspace.file(exercise.path)

    def lesson_text(self, exercise: Exercise) -> str:
        for folder in (self.workspace.root, self.dirs.exercises):
            path = folder / exercise.lesson
            if path.is_file():
                return path.read_text(encoding="utf-8", errors="replace")
        return f"# {exercise.title}\n\n{exercise.summary}\n\n(The lesson file is missing.)"

    def stub(self, exercise: Exercise) -> str | None:
        """The exercise's starting file, to begin again from when the learner's is gone."""
        try:
            return stub_text(self.dirs, exercise)
        except (StubError, OSError):
            return None

    def solution_text(self, exercise: Exercise) -> str | None:
        """The reference as shown after a pass (markers and TODOs gone), if it is installed."""
        return reference_text(self.dirs, exercise)

    # ------------------------------------------------------------------------------ acting

    def open(self, exercise_id: str) -> None:
        self.progress.set_current(exercise_id)
        self.save()

    def reveal_hint(self, exercise: Exercise) -> int:
        shown = self.progress.reveal_hint(exercise.id, len(exercise.hints))
        self.save()
        return shown

    def hints_shown(self, exercise: Exercise) -> int:
        return min(self.progress.hints_shown(exercise.id), len(exercise.hints))

    def request(self, exercise: Exercise) -> RunRequest:
        return RunRequest(
            workspace=self.workspace.root, exercises=(exercise.id,), device=self.device
        )

    def start_run(self, exercise: Exercise) -> Any:
        """A runner for this exercise's checks: `.events()` to iterate, `.cancel()` to stop."""
        return self.runner(self.request(exercise))

    def fingerprint(self, exercise: Exercise) -> str | None:
        """A hash of the learner's file as it is on disk now (None when it cannot be read)."""
        return fingerprint(self.learner_file(exercise))

    def record(self, report: Report, judged: dict[str, str | None] | None = None) -> list[str]:
        """Record each exercise the run judged, if its file is still the one judged (`judged`:
        id -> fingerprint at the start of the run), and save; returns the ids recorded."""
        recorded, _ = record_report(
            self.progress, report, judged, lambda i: self.learner_file(self.exercise(i))
        )
        if recorded:
            self.save()
        return recorded

    def last_checks(self, exercise_id: str) -> list[dict[str, Any]]:
        return self.progress.last_checks(exercise_id)

    def cycle_device(self) -> str:
        self.device = DEVICES[(DEVICES.index(self.device) + 1) % len(DEVICES)]
        return self.device

    def save(self) -> None:
        if self.saves:
            self.progress.save()
