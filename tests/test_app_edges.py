"""The lab at its edges: files gone or unwritable, keys pressed at odd moments, names that are too
long. Pilot tests with a scripted grader run; each one was a traceback or a wrong screen once."""

from __future__ import annotations

import functools
import shutil
import time
from pathlib import Path

import pytest
from lab_fakes import FakeRuns, check
from pilot import open_first, panel_text, status_text
from pilot import until as wait_until

from mllab.app import MllabApp
from mllab.catalog import load_catalog
from mllab.dialogs.create import CreateWorkspace
from mllab.lab import Lab
from mllab.paths import course_dirs
from mllab.progress import Progress
from mllab.screens.editor import EditorScreen
from mllab.screens.exercise import ExerciseScreen
from mllab.screens.solution import SolutionScreen
from mllab.widgets.metrics import MetricsPlot
from mllab.workspace import Workspace, init_workspace

CATALOG = load_catalog(course_dirs().catalog)
FIRST = CATALOG.exercises[0]
PASSING = [check("one"), check("two")]
FAILING = [check("one"), check("two", "failed", message="w differs at [3]: got 1, expected 2")]
until = functools.partial(wait_until, seconds=10)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    init_workspace(tmp_path / "course", CATALOG, course_dirs())
    return tmp_path / "course"


@pytest.fixture
def no_editor(monkeypatch) -> None:
    """The built-in editor, as for a learner without $VISUAL and $EDITOR."""
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)


def messages(app: MllabApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


# ------------------------------------------------------------------ progress that cannot be saved


def unwritable_progress(monkeypatch) -> None:
    """Saving progress fails as on a read-only or full disk (root ignores chmod, so patch it)."""

    def refuse(self: Progress) -> None:
        raise OSError(30, "Read-only file system", str(self.path))

    monkeypatch.setattr(Progress, "save", refuse)


async def test_an_unwritable_progress_file_does_not_stop_the_lab(workspace, monkeypatch) -> None:
    unwritable_progress(monkeypatch)
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(FAILING))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)  # opening an exercise records where you are
        assert "could not save progress" in messages(app)
        await pilot.press("h")  # a hint is shown even when it cannot be remembered
        await pilot.pause()
        assert "Hint 1/" in str(screen.query_one("#hint-text").render())
        await pilot.press("r")
        await until(pilot, lambda: "check(s) to fix" in status_text(app))
        assert isinstance(app.screen, ExerciseScreen)


# ------------------------------------------------------------------------- a file that is gone


async def test_editing_a_deleted_file_starts_from_the_stub(workspace, no_editor) -> None:
    target = workspace / FIRST.path
    stub = target.read_text()
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("w")  # keep the save from starting a run in this test
        shutil.rmtree(target.parent)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen))
        assert "missing" in messages(app)
        await pilot.press("ctrl+s", "escape")
        await until(pilot, lambda: isinstance(app.screen, ExerciseScreen))
    assert target.read_text() == stub


async def test_an_unreadable_file_is_not_opened_in_the_editor(workspace, no_editor) -> None:
    target = workspace / FIRST.path
    target.unlink()
    target.mkdir()  # a folder where the file should be: it cannot be read
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: "could not open" in messages(app))
        assert isinstance(app.screen, ExerciseScreen)


async def test_the_solution_view_survives_a_deleted_file(workspace: Path) -> None:
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "All checks pass" in status_text(app))
        (workspace / FIRST.path).unlink()
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SolutionScreen))
        await pilot.pause()
        panes = [str(s.render()) for s in app.screen.query(".pane-title")]
        assert any("missing" in pane for pane in panes)


# ------------------------------------------------------------------- unsaved work in the editor


async def test_quitting_from_the_editor_warns_about_unsaved_changes(workspace, no_editor) -> None:
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen))
        await pilot.press(*"x = 1")
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
        assert app.is_running and isinstance(app.screen, EditorScreen)
        assert "Unsaved changes" in messages(app)
        await pilot.press("ctrl+q")  # again: the learner means it
        await pilot.pause(0.2)
        assert not app.is_running


# ---------------------------------------------------------------------------------- next


def test_next_never_names_the_exercise_you_are_on(workspace: Path) -> None:
    lab = Lab(CATALOG, Workspace(workspace))
    for exercise in CATALOG.exercises[1:]:
        lab.progress.record(exercise.id, True, exercise.points, exercise.points)
    assert lab.next_id(FIRST.id) is None  # the only one left is this one
    assert lab.next_id(CATALOG.exercises[1].id) == FIRST.id


async def test_next_on_the_last_exercise_left_says_so(workspace: Path) -> None:
    progress = Progress(workspace / ".mllab")
    for exercise in CATALOG.exercises[1:]:
        progress.record(exercise.id, True, exercise.points, exercise.points)
    progress.save()
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(FAILING))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.screen is screen  # not reopened: that would cancel a run and lose the view
        assert "last exercise left" in messages(app)


# ------------------------------------------------------------------------------ cancelling


class BeforeStart:
    """A run cancelled while the grader is still starting: no check was ever listed."""

    def __init__(self) -> None:
        self.cancelled = False
        self.report = None

    def __call__(self, request) -> BeforeStart:
        return self

    def events(self):
        yield {"event": "preparing", "text": "Starting the grader for this first run"}
        while not self.cancelled:
            time.sleep(0.01)

    def cancel(self) -> None:
        self.cancelled = True


async def test_a_run_cancelled_while_starting_no_longer_says_starting(workspace: Path) -> None:
    app = MllabApp(CATALOG, workspace, runner=BeforeStart())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "first run" in panel_text(app))
        await pilot.press("c")
        await until(pilot, lambda: "cancelled" in status_text(app))
        await pilot.pause()
        assert "Starting the grader" not in panel_text(app)
        assert "cancelled" in panel_text(app).lower()


# ------------------------------------------------------------------------ the create dialog


async def test_a_folder_name_too_long_is_refused_not_a_crash(tmp_path: Path) -> None:
    app = MllabApp(CATALOG, tmp_path, runner=FakeRuns(PASSING))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CreateWorkspace))
        app.screen.query_one("#folder").value = "a" * 300  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: "Could not create" in str([n.title for n in app._notifications]))
        assert isinstance(app.screen, CreateWorkspace)
        assert "too long" in messages(app)


# ----------------------------------------------------------------------------- the watcher


async def test_watching_resumes_when_the_exercise_folder_comes_back(workspace: Path) -> None:
    runs = FakeRuns(FAILING)
    app = MllabApp(CATALOG, workspace, runner=runs)
    target = workspace / FIRST.path
    stub = target.read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.pause(0.3)  # the watcher starts
        shutil.rmtree(target.parent)  # a branch without the folder, or rm -r and a restore
        await pilot.pause(1.5)
        target.parent.mkdir()
        target.write_text(stub)
        await until(pilot, lambda: len(runs.requests) == 1)
        await until(pilot, lambda: "check(s) to fix" in status_text(app))
        await pilot.pause(0.3)  # the folder is watched again
        target.write_text(stub + "\n# again\n")
        await until(pilot, lambda: len(runs.requests) == 2)  # and every save after that


# -------------------------------------------------------------------------------- the plot


@pytest.mark.parametrize("values", [(5e-309, 0.0), (1.7e308, -1.7e308)])
async def test_extreme_metric_values_do_not_take_the_lab_down(workspace, values) -> None:
    # A learner's own training logs these (a loss decaying below the smallest normal float, a
    # diverging score); plotext cannot scale an axis over them.
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING, hang=True))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "○ one works" in panel_text(app))
        for step, value in enumerate(values, 1):
            metric = {"event": "metric", "check": "c", "name": "loss", "step": step, "value": value}
            screen.post_message(ExerciseScreen.GraderEvent(metric))
        plot = screen.query_one(MetricsPlot)
        await until(pilot, lambda: len(plot.series.get("loss", [])) == 2)
        await pilot.pause(0.3)  # redrawn at most 10 times a second
        assert app.is_running
        assert "cannot draw" in str(plot.render())


async def test_a_step_beyond_any_float_does_not_take_the_lab_down(workspace: Path) -> None:
    # log(name, value, step) takes any int from the learner's code: int(step) is all it checks.
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING, hang=True))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "○ one works" in panel_text(app))
        for step in (1, 10**400):
            metric = {"event": "metric", "check": "c", "name": "loss", "step": step, "value": 0.5}
            screen.post_message(ExerciseScreen.GraderEvent(metric))
        plot = screen.query_one(MetricsPlot)
        await until(pilot, lambda: len(plot.series.get("loss", [])) == 2)
        await pilot.pause(0.3)
        assert app.is_running and "loss 0.5" in str(plot.render())
