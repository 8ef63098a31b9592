"""The lab app, driven with Textual's Pilot: every learner flow, with a scripted grader run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from lab_fakes import FakeRuns, check
from pilot import open_first, panel_text, status_text, until

from mllab.app import MllabApp
from mllab.catalog import load_catalog
from mllab.dialogs.create import CreateWorkspace
from mllab.paths import course_dirs
from mllab.progress import Progress
from mllab.screens.course import CourseScreen
from mllab.screens.editor import EditorScreen
from mllab.screens.exercise import ExerciseScreen
from mllab.screens.solution import SolutionScreen
from mllab.widgets.metrics import MetricsPlot
from mllab.workspace import init_workspace

CATALOG = load_catalog(course_dirs().catalog)
FIRST = CATALOG.exercises[0].id
PASSING = [check("one"), check("two")]
FAILING = [check("one"), check("two", "failed", message="w differs at [3]: got 1, expected 2")]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    init_workspace(tmp_path / "course", CATALOG, course_dirs())
    return tmp_path / "course"


def lab_app(start: Path, runs: FakeRuns | None = None) -> MllabApp:
    return MllabApp(CATALOG, start, runner=runs or FakeRuns(PASSING))


async def test_outside_a_workspace_it_offers_to_create_one(tmp_path: Path) -> None:
    app = lab_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CreateWorkspace))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CourseScreen))
    assert (tmp_path / "mllab-course" / ".mllab").is_dir()
    assert (tmp_path / "mllab-course" / CATALOG.exercises[0].path).is_file()


async def test_declining_to_create_a_workspace_quits(tmp_path: Path) -> None:
    app = lab_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CreateWorkspace))
        await pilot.press("escape")
        await pilot.pause()
    assert not (tmp_path / "mllab-course").exists()


async def test_course_lists_tracks_in_order_and_filters(workspace: Path) -> None:
    app = lab_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CourseScreen))
        options = app.screen.query_one("#exercises")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        tracks = [track for track, _ in app.lab.tracks()]  # type: ignore[union-attr]
        assert [p for p in prompts if p in tracks] == tracks
        assert sum(" pt" in p for p in prompts) == len(CATALOG.exercises)
        await pilot.press("slash", *"perceptron")
        await pilot.pause()
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert [i for i in ids if i] == ["perceptron"]
        await pilot.press("enter", "enter")
        await until(pilot, lambda: isinstance(app.screen, ExerciseScreen))
        assert app.screen.exercise.id == "perceptron"  # type: ignore[attr-defined]


async def test_a_run_shows_checks_metrics_output_and_records_progress(workspace: Path) -> None:
    app = lab_app(workspace, FakeRuns(FAILING, metrics=5))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "check(s) to fix" in status_text(app))
        assert "✓ one works" in panel_text(app)
        assert "w differs at [3]: got 1, expected 2" in panel_text(app)
        plot = screen.query_one(MetricsPlot)
        assert plot.display and [v for _, v in plot.series["loss"]][-1] == pytest.approx(0.2)
        assert "hello [/bold]" in "\n".join(screen.query_one("#output-log").lines)
    assert Progress(workspace / ".mllab").status(FIRST) == "failing"


async def test_passing_celebrates_then_shows_the_solution_and_moves_on(workspace: Path) -> None:
    app = lab_app(workspace, FakeRuns(PASSING))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_first(pilot, app)
        await pilot.press("s")  # not yet: the solution opens only after passing
        await pilot.pause()
        assert isinstance(app.screen, ExerciseScreen)
        await pilot.press("r")
        await until(pilot, lambda: "All checks pass" in status_text(app))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SolutionScreen))
        await pilot.press("escape", "n")
        await until(pilot, lambda: getattr(app.screen, "exercise", None) is not None
                    and app.screen.exercise.id == CATALOG.exercises[1].id)  # fmt: skip
    assert Progress(workspace / ".mllab").status(FIRST) == "passed"


async def test_a_run_can_be_cancelled_at_once(workspace: Path) -> None:
    app = lab_app(workspace, FakeRuns(PASSING, hang=True))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "○ one works" in panel_text(app))
        await pilot.press("r")  # a second run is refused while one is in flight
        await pilot.press("c")
        await until(pilot, lambda: "Run cancelled" in status_text(app), seconds=3)
        assert screen.runner is None and "cancelled" in panel_text(app)
    assert Progress(workspace / ".mllab").status(FIRST) == "not started"


async def test_a_grader_failure_is_shown_not_raised(workspace: Path) -> None:
    app = lab_app(workspace, FakeRuns(PASSING, fail="the grader stopped without a report"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: "grader failed" in status_text(app))
        assert "stopped without a report" in panel_text(app)
        await pilot.press("r")  # and the lab still works
        await until(pilot, lambda: "grader failed" in status_text(app))


async def test_cuda_checks_that_cannot_run_share_one_line(workspace: Path) -> None:
    reason = "no CUDA device: torch.cuda.is_available() is False"
    checks = [check("one"), check("one", "not_run", "cuda", message=reason),
              check("two", "not_run", "cuda", message=reason)]  # fmt: skip
    app = lab_app(workspace, FakeRuns(checks))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("d")  # all -> cpu -> cuda
        await pilot.press("d")
        await pilot.press("r")
        await until(pilot, lambda: "not run" in panel_text(app))
        assert f"2 check(s) not run: {reason}" in panel_text(app)
    assert app.runner.requests[-1].device == "cuda"  # type: ignore[attr-defined]


async def test_saving_the_file_runs_the_checks(workspace: Path) -> None:
    runs = FakeRuns(PASSING)
    app = lab_app(workspace, runs)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.pause(0.5)  # let the watcher start
        target = workspace / CATALOG.exercises[0].path
        # Save by rename, as many editors do.
        temporary = target.with_suffix(".tmp")
        temporary.write_text(target.read_text() + "\n# edited\n")
        os.replace(temporary, target)
        await until(pilot, lambda: len(runs.requests) == 1)
        await until(pilot, lambda: "All checks pass" in status_text(app))
        await pilot.press("w")  # watch off: saving no longer runs
        target.write_text(target.read_text() + "# again\n")
        await pilot.pause(1.0)
        assert len(runs.requests) == 1


async def test_hints_are_revealed_one_at_a_time_and_kept(workspace: Path) -> None:
    app = lab_app(workspace)
    exercise = CATALOG.exercises[0]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first(pilot, app)
        await pilot.press("h")
        await pilot.pause()
        text = str(screen.query_one("#hint-text").render())
        assert f"Hint 1/{len(exercise.hints)}" in text and "Hint 2/" not in text
    assert Progress(workspace / ".mllab").hints_shown(exercise.id) == 1


async def test_built_in_editor_saves_the_file(workspace: Path, monkeypatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = lab_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot, app)
        await pilot.press("w")  # keep the save from starting a run in this test
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen))
        await pilot.press("ctrl+home", *"x = 1", "enter", "ctrl+s", "escape")
        await until(pilot, lambda: isinstance(app.screen, ExerciseScreen))
    assert (workspace / CATALOG.exercises[0].path).read_text().startswith("x = 1\n")


async def test_it_resumes_where_the_learner_left_off(workspace: Path) -> None:
    progress = Progress(workspace / ".mllab")
    progress.set_current("perceptron")
    progress.save()
    app = lab_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ExerciseScreen))
        assert app.screen.exercise.id == "perceptron"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CourseScreen))


async def test_a_damaged_progress_file_is_set_aside_with_a_message(workspace: Path) -> None:
    (workspace / ".mllab" / "progress.json").write_text("{not json")
    app = lab_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CourseScreen))
        assert any("could not be read" in str(n.message) for n in app._notifications)
    kept = list((workspace / ".mllab").glob("progress.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"


async def test_help_opens_and_closes(workspace: Path) -> None:
    app = lab_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CourseScreen))
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CourseScreen)


@pytest.mark.slow
async def test_a_crash_in_the_learners_code_with_the_real_grader(workspace: Path) -> None:
    exercise = CATALOG.get("perceptron")
    (workspace / exercise.path).write_text("import os\n\ndef predict(w, b, X):\n    os._exit(3)\n")
    app = MllabApp(CATALOG, workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"perceptron", "enter", "enter")
        await until(pilot, lambda: isinstance(app.screen, ExerciseScreen))
        await pilot.press("d")  # cpu only: quicker
        await pilot.press("r")
        await until(pilot, lambda: "check(s) to fix" in status_text(app), seconds=120)
        assert "exited the test process" in panel_text(app)
    assert (
        json.loads((workspace / ".mllab" / "progress.json").read_text())["exercises"]["perceptron"][
            "status"
        ]
        == "failing"
    )
