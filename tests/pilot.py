"""Waiting on and reading the lab in Pilot tests: shared by the app's test modules."""

from __future__ import annotations

from collections.abc import Callable

from mllab.app import MllabApp
from mllab.screens.course import CourseScreen
from mllab.screens.exercise import ExerciseScreen
from mllab.widgets.checks import ChecksPanel


async def until(pilot, condition: Callable[[], bool], seconds: float = 15) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the app did not get there in time")


def status_text(app: MllabApp) -> str:
    return str(app.screen.query_one("#status").render())


def panel_text(app: MllabApp) -> str:
    return "\n".join(str(row.render()) for row in app.screen.query_one(ChecksPanel).children)


async def open_first(pilot, app: MllabApp, settle: float = 0.0) -> ExerciseScreen:
    """Enter on the course's first exercise; `settle` gives the file watcher time to start."""
    await until(pilot, lambda: isinstance(app.screen, CourseScreen))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ExerciseScreen))
    if settle:
        await pilot.pause(settle)
    return app.screen  # type: ignore[return-value]
