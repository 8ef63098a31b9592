"""The lab as a new learner meets it: every save counts, nothing freezes or loses a pass, keys work
at once, and the smaller rough edges (issue 20). Pilot tests with a scripted grader run."""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import re
from pathlib import Path

import pytest
from lab_fakes import FakeRuns, check
from pilot import open_first as open_exercise
from pilot import panel_text, status_text
from pilot import until as wait_until
from rich.console import Console
from textual_plotext.plot import Plot

from mllab.app import MllabApp
from mllab.catalog import load_catalog
from mllab.commands.browse import run_list
from mllab.commands.check import select
from mllab.dialogs.create import CreateWorkspace
from mllab.paths import course_dirs
from mllab.progress import Progress
from mllab.runner import RunRequest
from mllab.screens.course import CourseScreen
from mllab.screens.editor import EditorScreen
from mllab.screens.exercise import ExerciseScreen
from mllab.warm import WarmRun
from mllab.widgets.metrics import MetricsPlot, draw, panel_groups
from mllab.workspace import init_workspace

CATALOG = load_catalog(course_dirs().catalog)
FIRST = CATALOG.exercises[0]
PASSING = [check("one"), check("two")]
FAILING = [check("one"), check("two", "failed", message="w differs at [3]: got 1, expected 2")]
# These flows wait at most 10 s for the app unless a test says otherwise.
until = functools.partial(wait_until, seconds=10)
NO_CUDA = [check("one", "not_run", "cuda", message="no CUDA device"),
           check("two", "not_run", "cuda", message="no CUDA device")]  # fmt: skip


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    init_workspace(tmp_path / "course", CATALOG, course_dirs())
    return tmp_path / "course"


async def open_first(pilot, app: MllabApp) -> ExerciseScreen:
    return await open_exercise(pilot, app, settle=0.3)  # the watcher starts


def edit(workspace: Path, text: str) -> None:
    target = workspace / FIRST.path
    target.write_text(target.read_text() + text)


def recorded(workspace: Path) -> str:
    return Progress(workspace / ".mllab").status(FIRST.id)


# ------------------------------------------------------------------------- every save counts


async def test_a_save_during_a_run_is_judged_and_recorded(workspace: Path) -> None:
    # The first run (of the old file) would pass; the file saved during it fails.
    runs = FakeRuns(PASSING, then=[FAILING], held=1)
    app = MllabApp(CATALOG, workspace, runner=runs)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "○ one works" in panel_text(app))
        edit(workspace, "\n# fixed it\n")
        await until(pilot, lambda: "check(s) to fix" in status_text(app))
        assert len(runs.requests) == 2 and runs.runs[0].cancelled
        assert "save of" in status_text(app)
    assert recorded(workspace) == "failing"


async def test_progress_never_records_a_file_that_changed_during_the_run(workspace: Path) -> None:
    runs = FakeRuns(PASSING, held=1)
    app = MllabApp(CATALOG, workspace, runner=runs)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("w")  # watch off: the save does not restart the run
        await pilot.press("r")
        await until(pilot, lambda: "○ one works" in panel_text(app))
        edit(workspace, "\n# broke it again\n")
        runs.release.set()
        await until(pilot, lambda: "changed during the run" in status_text(app))
    assert recorded(workspace) == "not started"


# ---------------------------------------------------------------- nothing loses a pass


async def pass_once(pilot, app: MllabApp) -> None:
    await pilot.press("r")
    await until(pilot, lambda: "All checks pass" in status_text(app))


async def test_a_run_that_ran_nothing_keeps_the_recorded_pass(workspace: Path) -> None:
    runs = FakeRuns(PASSING, then=[NO_CUDA])
    app = MllabApp(CATALOG, workspace, runner=runs)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pass_once(pilot, app)
        await pilot.press("d", "d")  # cuda only, on a machine without CUDA
        await pilot.press("r")
        await until(pilot, lambda: "No check could run" in status_text(app))
        assert status_text(app).startswith("passed")
    entry = Progress(workspace / ".mllab").data["exercises"][FIRST.id]
    assert entry["status"] == "passed" and entry["score"] == 2.0


async def test_well_done_is_said_once_and_the_status_says_running(workspace: Path) -> None:
    runs = FakeRuns(PASSING, then=[PASSING, PASSING], held=0)
    app = MllabApp(CATALOG, workspace, runner=runs)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pass_once(pilot, app)
        runs.held = 3  # the next run waits: what does the status say meanwhile?
        await pilot.press("r")
        await until(pilot, lambda: "○ one works" in panel_text(app))
        assert status_text(app).startswith("running") and "passed" not in status_text(app)
        runs.release.set()
        await until(pilot, lambda: "All checks pass" in status_text(app))
        toasts = [n for n in app._notifications if n.title == "Well done"]
        assert len(toasts) == 1


# ------------------------------------------------------------------------ the editor


async def test_a_missing_editor_falls_back_to_the_built_in_one(workspace, monkeypatch) -> None:
    monkeypatch.setenv("VISUAL", "/nowhere/nano")
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen))
        assert any("not installed" in str(n.message) for n in app._notifications)


async def test_a_failing_editor_falls_back_to_the_built_in_one(workspace, monkeypatch) -> None:
    monkeypatch.setenv("VISUAL", "false")
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING))
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen))
        assert any("exited with code 1" in str(n.message) for n in app._notifications)


# ------------------------------------------------------------------ the first run, explained


async def test_the_first_run_says_the_grader_is_starting(workspace: Path) -> None:
    preparing = {"event": "preparing", "text": "Starting the grader: importing torch"}
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING, before=[preparing], hang=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        app.screen.post_message(ExerciseScreen.GraderEvent(preparing))
        await until(pilot, lambda: "importing torch" in panel_text(app))


class StartingWarm:
    """A warm grader that is not ready yet."""

    ready = False


def test_a_first_run_says_why_it_takes_longer(workspace) -> None:
    run = WarmRun(RunRequest(workspace=workspace), warm=StartingWarm())  # type: ignore[arg-type]
    event = next(run.events())
    assert event["event"] == "preparing" and "first run" in event["text"]


# ------------------------------------------------------------------------------- keys


async def test_keys_scroll_and_switch_tabs_at_once(workspace: Path) -> None:
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(FAILING))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)
        viewer = screen.query_one("MarkdownViewer")
        await pilot.press("pagedown")
        await until(pilot, lambda: viewer.scroll_y > 0, seconds=3)
        await pilot.press("right")
        await pilot.pause()
        assert screen.query_one("#tabs").active == "checks"
        await pilot.press("4")
        await pilot.pause()
        assert screen.query_one("#tabs").active == "hints"
        await pilot.press("left")
        await pilot.pause()
        assert screen.query_one("#tabs").active == "output"


async def test_reopening_an_exercise_shows_its_last_result(workspace: Path) -> None:
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(FAILING))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "check(s) to fix" in status_text(app))
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(FAILING))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ExerciseScreen))  # resumed
        assert "w differs at [3]" in panel_text(app) and "Press r" not in panel_text(app)


async def test_enter_in_the_filter_opens_a_single_match(workspace: Path) -> None:
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CourseScreen))
        await pilot.press("slash", *"perceptron", "enter")
        await until(pilot, lambda: isinstance(app.screen, ExerciseScreen))
        assert app.screen.exercise.id == "perceptron"  # type: ignore[attr-defined]


async def test_started_beside_the_workspace_it_opens_it(workspace: Path) -> None:
    app = MllabApp(CATALOG, workspace.parent, runner=FakeRuns(PASSING))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CourseScreen | CreateWorkspace))
        assert isinstance(app.screen, CourseScreen)
        assert app.lab is not None and app.lab.workspace.root == workspace.resolve()


# ------------------------------------------------------------------------------- plots


def test_loss_and_accuracy_get_panels_of_their_own() -> None:
    series = {"loss": [(1.0, 2.3), (2.0, 0.4)], "accuracy": [(1.0, 0.5), (2.0, 0.9)],
              "reconstruction": [(1.0, 900.0)]}  # fmt: skip
    groups = panel_groups(series)
    assert groups == [["reconstruction"], ["loss"], ["accuracy"]]


def test_each_panel_draws_only_its_own_series() -> None:
    series = {"loss": [(1.0, 2.3), (2.0, 0.4)], "accuracy": [(1.0, 0.5), (2.0, 0.9)]}
    plt = Plot()
    plt.plotsize(80, 10)
    draw(plt, series)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in plt.build().splitlines()]
    left, right = ("\n".join(line[:40] for line in lines), "\n".join(line[40:] for line in lines))
    assert "loss 0.4" in left and "accuracy" not in left
    assert "accuracy 0.9" in right and "loss" not in right


async def test_the_plot_has_a_legend_and_room_at_80x24(workspace: Path) -> None:
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(PASSING, metrics=20))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "All checks pass" in status_text(app))
        plot = screen.query_one(MetricsPlot)
        plot.add("accuracy", 0.9, 20, plot.check)
        plot.refresh()
        await pilot.pause(0.3)
        assert plot.size.height >= 8
        drawn = str(plot.render())
        assert "loss" in drawn and "accuracy" in drawn


# ------------------------------------------------------------------------- command line


def test_check_without_an_id_checks_the_exercise_you_are_on(workspace: Path) -> None:
    progress = Progress(workspace / ".mllab")
    progress.set_current("perceptron")
    args = argparse.Namespace(ids=[], all=False)
    assert select(args, CATALOG, progress) == ["perceptron"]
    assert select(args, CATALOG, Progress(workspace / "elsewhere")) == [FIRST.id]


def test_list_never_cuts_an_id_at_80_columns() -> None:
    out = Console(file=io.StringIO(), width=80, force_terminal=False)
    run_list(CATALOG, out)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert all(exercise.id in text for exercise in CATALOG.exercises)
    assert max(len(line) for line in text.splitlines()) <= 80
