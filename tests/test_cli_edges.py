"""The learner's command line at its edges: folders that vanish or cannot be written, odd names,
typos, bad option values, files changed during a run. Most run `mllab` in this process, with
the grader replaced where a test is about what happens around a run rather than in it."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from grader.report import CheckResult, ExerciseResult, Report
from mllab import cli
from mllab.commands import browse, check, doctor
from mllab.course import load_course_catalog
from mllab.paths import COURSE_ENV, course_dirs
from mllab.progress import Progress
from mllab.runner import RunRequest
from mllab.summary import render_summary
from mllab.workspace import MARKER, WorkspaceError, find_workspace, init_workspace

DIRS = course_dirs()
CATALOG = load_course_catalog(DIRS)
PERCEPTRON = CATALOG.get("perceptron")
SOLUTION = (DIRS.solutions / PERCEPTRON.path).read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide, colourless output, and the course of this checkout, whatever the caller's shell."""
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.delenv(COURSE_ENV, raising=False)  # also undoes what --course sets


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    init_workspace(root, CATALOG, DIRS)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`mllab ARGV` in this process: exit status, stdout, stderr."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def passing_report(exercise_id: str = "perceptron") -> Report:
    check_result = CheckResult(
        name="predict_step", outcome="passed", points=1.0, max_points=1.0, device="cpu"
    )
    exercise = ExerciseResult(id=exercise_id, title="t", checks=(check_result,))
    return Report(exercises=(exercise,))


class FakeRun:
    """Stands in for GraderRun: remembers each request and returns a passing report."""

    requests: list[RunRequest] = []
    during: Any = None  # called with the request while the "grader" runs

    def __init__(self, request: RunRequest) -> None:
        self.request = request

    def run(self, on_event: Any = None) -> Report:
        FakeRun.requests.append(self.request)
        if FakeRun.during is not None:
            FakeRun.during(self.request)
        return passing_report(self.request.exercises[0])


@pytest.fixture
def fake_grader(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeRun]]:
    FakeRun.requests, FakeRun.during = [], None
    monkeypatch.setattr(check, "GraderRun", FakeRun)
    yield FakeRun


def unwritable_progress(root: Path) -> None:
    """Progress in `root` that cannot be saved. A folder where the lock file goes stands in for
    a read-only .mllab, which does not stop the root user these tests may run as."""
    (root / MARKER / "progress.lock").mkdir()


# ------------------------------------------------------------------ a folder that is gone


def test_commands_in_a_deleted_folder_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)  # restored after the test
    gone.rmdir()
    code, _, err = run(capsys, "check")
    assert code == 2 and "the current folder no longer exists" in err
    code, out, _ = run(capsys, "hint", "perceptron")
    assert code == 0 and "Hint 1/" in out
    code, _, err = run(capsys, "init", "fresh")
    assert code == 2 and "cannot create the workspace fresh" in err


def test_doctor_probes_torch_away_from_the_learners_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A learner's own json.py (or torch.py) in the current folder is no broken torch install.
    (tmp_path / "json.py").write_text("raise ImportError('my own json.py')\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = Console(file=io.StringIO(), width=300)
    assert doctor._torch(out) == 0
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "✓ torch:" in text and "my own json.py" not in text


# ------------------------------------------------------------------ mllab init


def test_init_through_a_file_is_refused_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes").write_text("mine", encoding="utf-8")
    code, _, err = run(capsys, "init", str(tmp_path / "notes" / "course"))
    assert code == 2
    assert "cannot create the workspace" in err and "Not a directory" in err
    assert (tmp_path / "notes").read_text(encoding="utf-8") == "mine"


def test_init_with_a_name_too_long_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / ("a" * 300)))
    assert code == 2 and "cannot create the workspace" in err


def test_init_with_an_empty_name_leaves_the_current_folder_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `mllab init "$DIR"` with DIR unset: Path("") is the current folder.
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "init", "")
    assert code == 2 and "empty" in err
    assert list(tmp_path.iterdir()) == []


def test_init_inside_a_workspace_makes_no_second_one(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The grader's advice for a deleted file is `mllab init`; run in the workspace, it used to
    # create a whole second workspace, mllab-course/, inside the learner's.
    monkeypatch.chdir(workspace / "perceptron")
    code, _, err = run(capsys, "init")
    assert code == 2
    assert f"inside your mllab workspace {workspace.resolve()}" in err
    assert "mllab init /tmp/fresh-course" in err
    assert not (workspace / "perceptron" / "mllab-course").exists()


def test_init_tells_a_cd_that_works_for_a_name_with_spaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "my course")
    assert code == 0
    assert "Next: cd 'my course'," in out


# ------------------------------------------------------------------ option values


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e12", "soon"])
def test_a_timeout_that_is_no_time_limit_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Accepted, these failed every check as "timed out after -1 s", or broke the grader.
    for argv in (["check", "--timeout", value], ["grade", "x", "--out", "y", "--timeout", value]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2
        assert "expected a number of seconds above 0" in capsys.readouterr().err


def test_a_bad_output_is_refused_before_the_run(
    workspace: Path, fake_grader: type[FakeRun], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--workspace", str(workspace), "--output"]
    code, _, err = run(capsys, *argv, str(workspace / "perceptron"))
    assert code == 2 and "is a folder" in err
    code, _, err = run(capsys, *argv, str(workspace / "no" / "r.json"))
    assert code == 2 and "there is no folder" in err
    assert fake_grader.requests == []  # refused at once, not after a run of many minutes


def test_output_never_overwrites_the_learners_file(
    workspace: Path, fake_grader: type[FakeRun], capsys: pytest.CaptureFixture[str]
) -> None:
    mine = workspace / PERCEPTRON.path
    mine.write_text("# my work\n", encoding="utf-8")
    argv = ["check", "perceptron", "--workspace", str(workspace), "--format", "json"]
    code, _, err = run(capsys, *argv, "--output", str(mine))
    assert code == 2 and "one of your exercise files" in err
    assert mine.read_text(encoding="utf-8") == "# my work\n"


# ------------------------------------------------------------------ progress


def test_a_file_changed_during_the_run_is_not_recorded(
    workspace: Path, fake_grader: type[FakeRun], capsys: pytest.CaptureFixture[str]
) -> None:
    mine = workspace / PERCEPTRON.path
    mine.write_text(SOLUTION, encoding="utf-8")

    def save_again(request: RunRequest) -> None:  # the learner saves while the checks run
        mine.write_text("def predict(w, b, X):\n    return 0\n", encoding="utf-8")

    fake_grader.during = save_again
    code, _, err = run(capsys, "check", "perceptron", "--workspace", str(workspace))
    assert code == 0  # the verdict on the file that was judged
    assert "perceptron/perceptron.py changed during the run" in err
    assert Progress(workspace / MARKER).status("perceptron") == "not started"


def test_a_check_from_the_shell_keeps_the_checks_the_lab_shows_on_reopening(
    workspace: Path, fake_grader: type[FakeRun], capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / PERCEPTRON.path).write_text(SOLUTION, encoding="utf-8")
    code, _, _ = run(capsys, "check", "perceptron", "--workspace", str(workspace))
    assert code == 0
    kept = Progress(workspace / MARKER).last_checks("perceptron")
    assert kept and all(check["outcome"] == "passed" for check in kept)


def test_a_report_comes_even_when_progress_cannot_be_saved(
    workspace: Path, fake_grader: type[FakeRun], capsys: pytest.CaptureFixture[str]
) -> None:
    unwritable_progress(workspace)
    argv = ["check", "perceptron", "--workspace", str(workspace), "--format", "json"]
    code, out, err = run(capsys, *argv)
    assert code == 0
    assert json.loads(out)["score"] == 1.0
    assert "your progress could not be saved" in err


def test_a_hint_is_shown_even_when_progress_cannot_be_saved(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    unwritable_progress(workspace)
    monkeypatch.chdir(workspace)
    code, out, _ = run(capsys, "hint", "perceptron")
    assert code == 0 and "Hint 1/" in out
    assert "your progress could not be saved" in out
    assert "again for the next one" not in out  # it would show hint 1 again


def test_progress_that_can_be_neither_read_nor_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / MARKER
    state.mkdir()
    (state / "progress.json").write_text("garbage", encoding="utf-8")

    def refuse(*args: Any) -> None:  # a read-only .mllab
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "replace", refuse)
    progress = Progress(state)
    assert progress.notice is not None and "nor set aside" in progress.notice
    assert progress.status("perceptron") == "not started"
    assert (state / "progress.json").read_text(encoding="utf-8") == "garbage"


def test_hint_outside_a_workspace_does_not_promise_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    first = run(capsys, "hint", "perceptron")[1]
    assert "again for the next one" not in first
    assert "mllab hint perceptron --all" in first
    assert run(capsys, "hint", "perceptron")[1] == first  # nothing remembers the first


# ------------------------------------------------------------------ names and folders


@pytest.mark.parametrize("typed", ["perceptorn", "perceptron/", "perceptron/perceptron.py"])
def test_a_mistyped_exercise_names_the_likely_one(
    typed: str, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "check", typed, "--workspace", str(workspace))
    assert code == 2 and f"unknown exercise {typed!r}; did you mean 'perceptron'?" in err
    code, _, err = run(capsys, "hint", typed.capitalize())
    assert code == 2 and "did you mean 'perceptron'?" in err


def test_doctor_reports_a_wrong_course_and_checks_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(COURSE_ENV, str(tmp_path / "nope"))
    monkeypatch.setattr(doctor, "_torch", lambda out: 0)  # not what this test is about
    code, out, _ = run(capsys, "doctor")
    assert code == 1
    assert "✗ course: MLLAB_COURSE=" in out
    assert "pytest:" in out and "problem(s) found" in out


def test_check_in_an_exercise_folder_checks_that_exercise(
    workspace: Path,
    fake_grader: type[FakeRun],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scratch = workspace / "perceptron" / "scratch"
    scratch.mkdir()
    for folder, expected in ((scratch, "perceptron"), (workspace, CATALOG.ids[0])):
        monkeypatch.chdir(folder)
        assert run(capsys, "check")[0] == 0
        assert list(fake_grader.requests[-1].exercises) == [expected]


def test_a_folder_of_learner_files_is_found_from_its_subfolders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No .mllab: a clone or a submission holding the files at the catalog's paths.
    mine = tmp_path / PERCEPTRON.path
    mine.parent.mkdir(parents=True)
    mine.write_text(SOLUTION, encoding="utf-8")
    assert find_workspace(None, CATALOG, start=mine.parent).root == tmp_path.resolve()
    (mine.parent / "scratch").mkdir()
    assert find_workspace(None, CATALOG, start=mine.parent / "scratch").root == tmp_path.resolve()
    # Not from just any folder below one that holds such a file: it may be an unrelated project.
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(WorkspaceError):
        find_workspace(None, CATALOG, start=tmp_path / "elsewhere")


def test_the_welcome_points_to_a_lesson_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / PERCEPTRON.path
    mine.parent.mkdir(parents=True)
    mine.write_text(SOLUTION, encoding="utf-8")  # learner files only, no lessons
    monkeypatch.chdir(tmp_path)
    out = Console(file=io.StringIO(), width=400)
    assert browse.run_welcome(CATALOG, out) == 0
    text = out.file.getvalue()  # type: ignore[attr-defined]
    lesson = next(line for line in text.splitlines() if "lesson:" in line)
    assert Path(lesson.split("lesson:", 1)[1].strip()).is_file()


@pytest.mark.parametrize("width", [60, 80])
def test_list_cuts_no_id_nor_status_in_a_narrow_terminal(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.chdir(workspace)
    out = Console(file=io.StringIO(), width=width, markup=False, highlight=False)
    assert browse.run_list(CATALOG, out) == 0
    lines = out.file.getvalue().splitlines()
    assert max(len(line) for line in lines) <= width
    rows = [line for line in lines if re.match(r"│ +\d+ │", line)]  # numbered: exercises
    assert [row.split("│")[2].strip() for row in rows] == list(CATALOG.ids)
    assert all("not started" in row for row in rows)


@pytest.mark.parametrize(("outcome", "colour"), [("not_run", "33"), ("failed", "31")])
def test_an_exercise_with_no_check_run_is_not_shown_as_failing(outcome: str, colour: str) -> None:
    check_result = CheckResult(name="cuda_only", outcome=outcome, points=0.0, max_points=1.0,
                               device="cuda", message="needs CUDA")  # fmt: skip
    report = Report(exercises=(ExerciseResult(id="perceptron", title="t", checks=(check_result,)),))
    out = Console(file=io.StringIO(), width=100, record=True, color_system="standard")
    render_summary(out, report)
    assert f"\x1b[{colour}mperceptron" in out.export_text(styles=True)  # yellow, or red
