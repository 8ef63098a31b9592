"""`mllab dev check`: the authors' gate. Catalog matches files, stubs fail, solutions pass.

Stubs are generated from the marked solutions into a scratch workspace and graded there, so
what is checked is what learners get.
"""

from __future__ import annotations

import concurrent.futures
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.report import ExerciseResult, Report
from mllab import todos
from mllab.catalog import Catalog, Exercise
from mllab.course import StubError, stub_text, write_stubs
from mllab.paths import CourseDirs, course_dirs
from mllab.runner import GraderFailed, GraderRun, RunRequest
from mllab.stubs import has_markers


def file_problems(exercise: Exercise, dirs: CourseDirs) -> list[str]:
    problems = []
    solution = dirs.solutions / exercise.path
    for label, path in (("solution", solution), ("lesson", dirs.exercises / exercise.lesson)):
        if not path.is_file():
            problems.append(f"{label} {path} is missing")
    if not solution.is_file():
        return problems
    if not has_markers(solution.read_text(encoding="utf-8")):
        problems.append(f"solution {exercise.path} marks no # BEGIN SOLUTION / # END SOLUTION")
        return problems
    try:
        text = stub_text(dirs, exercise)
    except StubError as exc:
        return [*problems, f"no stub can be made: {exc}"]
    if "TODO" not in text:
        problems.append(f"stub {exercise.path} has no TODO telling the learner what to write")
    if "NotImplementedError" not in text:
        problems.append(f"stub {exercise.path} does not raise NotImplementedError")
    return problems


def todo_problems(exercise: Exercise, dirs: CourseDirs) -> tuple[list[str], list[todos.TodoLine]]:
    """TODO lines that dictate code, when there are too many of them; and all TODO lines.

    Read from the marked solution, so the line numbers are those of the file authors edit.
    """
    try:
        lines = todos.todo_lines((dirs.solutions / exercise.path).read_text(encoding="utf-8"))
    except OSError:
        return [], []
    if todos.share(lines) <= todos.EXERCISE_LIMIT:
        return [], lines
    coded = [line for line in lines if line.dictates_code]
    problems = [
        f"{len(coded)} of {len(lines)} TODO comment lines dictate code (at most "
        f"{todos.EXERCISE_LIMIT:.0%}): state the goal and the rule, move the how into hints"
    ]
    where = dirs.solutions.name + "/" + exercise.path
    problems += [f"  {where}:{line.line}: {line.text}" for line in coded]
    return problems, lines


def stray_files(catalog: Catalog, dirs: CourseDirs) -> list[str]:
    # Stubs are generated: a .py file under exercises/ would be a hand-kept copy that drifts.
    return [
        f"{path.relative_to(dirs.exercises)} is in exercises/; stubs are generated from the "
        "marked solutions, so remove it"
        for path in sorted(dirs.exercises.rglob("*.py"))
        if "__pycache__" not in path.parts
    ]


def grade_both(catalog: Catalog, dirs: CourseDirs, ids: tuple[str, ...]) -> tuple[Report, Report]:
    def grade(folder: Path) -> Report:
        return GraderRun(RunRequest(workspace=folder, exercises=ids), dirs).run()

    with tempfile.TemporaryDirectory(prefix="mllab-stubs-") as scratch:
        stubs_folder = Path(scratch)
        makeable = []
        for exercise_id in ids:
            exercise = catalog.get(exercise_id)
            try:
                write_stubs(dirs, [exercise], stubs_folder)
                makeable.append(exercise_id)
            except StubError:
                pass  # file_problems reports it
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            solutions = pool.submit(grade, dirs.solutions)
            stubs = pool.submit(grade, stubs_folder)
            return solutions.result(), stubs.result()


def solution_problems(exercise: Exercise, result: ExerciseResult | None) -> list[str]:
    if result is None or not result.checks:
        return ["no checks found (tag checks with @pytest.mark.exercise)"]
    problems = [
        f"solution fails {check.name} [{check.device}]: {check.message.splitlines()[0][:200]}"
        for check in result.checks
        if check.outcome in ("failed", "error")
    ]
    if not any(check.outcome == "passed" for check in result.checks):
        problems.append("no check passed on the solution")
    declared = sum(c.max_points for c in result.checks if c.device in (None, "cpu"))
    if abs(declared - exercise.points) > 1e-9:
        problems.append(
            f"the checks that ran are worth {declared:g} points, their decorators say "
            f"{exercise.points:g}: a check module must set pytestmark = "
            "pytest.mark.exercise(ID) and write @pytest.mark.points(N) with a number"
        )
    return problems


def stub_problems(result: ExerciseResult | None) -> list[str]:
    if result is None:
        return []
    problems = []
    if result.score > 0:
        passing = [c.name for c in result.checks if c.outcome == "passed"]
        problems.append(f"the stub passes checks that cannot fail: {', '.join(passing)}")
    problems += [
        f"{check.name} errors on the stub (a check should fail cleanly): {check.message[:200]}"
        for check in result.checks
        if check.outcome == "error"
    ]
    return problems


def run_dev_check(catalog: Catalog, out: Console, only: list[str] | None = None) -> int:
    dirs = course_dirs()
    if not dirs.solutions.is_dir() and dirs.replay.is_dir():
        # Otherwise every check would "fail on the solution" with advice meant for learners.
        out.print(
            Text(
                f"✗ {dirs.root} is the course of a student release: it holds no solutions to "
                "check; run `mllab dev check` in the instructors' course (or name it with "
                "--course DIR)",
                style="red",
            )
        )
        return 2
    unknown = [name for name in only or [] if name not in catalog.ids]
    if unknown:
        out.print(Text(f"✗ not in the catalog: {', '.join(unknown)}", style="red"))
        out.print(Text(f"Exercises: {', '.join(catalog.ids)}", style="dim"))
        return 2
    exercises = [e for e in catalog.exercises if not only or e.id in only]
    out.print(Text(f"Checking {len(exercises)} exercises in {dirs.exercises}", style="dim"))
    try:
        solutions, stubs = grade_both(catalog, dirs, tuple(e.id for e in exercises))
    except GraderFailed as exc:
        out.print(Text(f"✗ the grader failed: {exc}", style="red"))
        return 1
    by_id = {name: {e.id: e for e in report.exercises} for name, report in
             (("solutions", solutions), ("stubs", stubs))}  # fmt: skip
    table = Table(title="mllab dev check", title_justify="left")
    for column in ("exercise", "files", "goals, not code", "stub fails", "solution passes"):
        table.add_column(column)
    problems = [f"course: {p}" for p in stray_files(catalog, dirs)]
    all_todo_lines: list[todos.TodoLine] = []
    problems += [f"grader: {error}" for error in solutions.errors + stubs.errors]
    for exercise in exercises:
        files = file_problems(exercise, dirs)
        stub = stub_problems(by_id["stubs"].get(exercise.id))
        solution = solution_problems(exercise, by_id["solutions"].get(exercise.id))
        goals, lines = todo_problems(exercise, dirs)
        all_todo_lines += lines
        problems += [f"{exercise.id}: {p}" for p in files + stub + solution + goals]
        marks = (_mark(not group) for group in (files, goals, stub, solution))
        table.add_row(exercise.id, *marks)
    out.print(table)
    if todos.share(all_todo_lines) > todos.LIMIT:
        problems.append(
            f"course: {todos.share(all_todo_lines):.0%} of the TODO comment lines dictate code "
            f"(at most {todos.LIMIT:.0%})"
        )
    for problem in problems:
        out.print(Text(f"✗ {problem}", style="red"))
    if problems:
        out.print(Text(f"{len(problems)} problem(s).", style="bold red"))
        return 1
    out.print(Text("All exercises are consistent: stubs fail, solutions pass.", style="bold green"))
    return 0


def _mark(ok: bool) -> Text:
    return Text("✓", style="green") if ok else Text("✗", style="red")
