"""Snapshots of the lab's main screens at 80x24; `pytest --snapshot-update` accepts a change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from lab_fakes import FakeRuns, check

from mllab.app import MllabApp
from mllab.course import load_course_catalog
from mllab.paths import course_dirs
from mllab.screens.course import CourseScreen
from mllab.screens.exercise import ExerciseScreen
from mllab.workspace import init_workspace

# Each exercise worth the points its checks declare, as the lab shows them.
CATALOG = load_course_catalog(course_dirs())
# The status names the save it judged by its time: a fixed one keeps the snapshot stable.
SAVED = time.mktime((2026, 1, 5, 14, 2, 31, 0, 0, -1))
RESULTS = [
    check("predict", title="predict classifies random points like the reference"),
    check(
        "update",
        "failed",
        title="update applies the rule to one example",
        message="update's new w differs from the expected value at [2]: got 0.5, expected -0.5",
    ),
]


@pytest.fixture
def app(tmp_path: Path) -> MllabApp:
    init_workspace(tmp_path / "course", CATALOG, course_dirs())
    for exercise in CATALOG.exercises:
        os.utime(tmp_path / "course" / exercise.path, (SAVED, SAVED))
    return MllabApp(CATALOG, tmp_path / "course", runner=FakeRuns(RESULTS, metrics=20))


async def _wait(pilot, condition) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause(0.05)


def test_course_overview(app: MllabApp, snap_compare) -> None:
    async def ready(pilot) -> None:
        await _wait(pilot, lambda: isinstance(pilot.app.screen, CourseScreen))

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_exercise_after_a_failing_run(app: MllabApp, snap_compare) -> None:
    async def run(pilot) -> None:
        await _wait(pilot, lambda: isinstance(pilot.app.screen, CourseScreen))
        await pilot.press("slash", *"perceptron", "enter", "enter")
        await _wait(pilot, lambda: isinstance(pilot.app.screen, ExerciseScreen))
        await pilot.press("r")
        await _wait(pilot, lambda: "to fix" in str(pilot.app.screen.query_one("#status").render()))

    assert snap_compare(app, terminal_size=(80, 24), run_before=run)


def test_help(app: MllabApp, snap_compare) -> None:
    async def ready(pilot) -> None:
        await _wait(pilot, lambda: isinstance(pilot.app.screen, CourseScreen))
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
