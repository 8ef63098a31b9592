"""`mllab dev check`: the authors' gate. Catalog matches files, stubs fail, solutions pass."""

from __future__ import annotations

import concurrent.futures

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.report import ExerciseResult, Report
from mllab.catalog import Catalog, Exercise
from mllab.paths import CourseDirs, course_dirs
from mllab.runner import GraderFailed, GraderRun, RunRequest


def file_problems(exercise: Exercise, dirs: CourseDirs) -> list[str]:
    problems = []
    stub, solution = dirs.exercises / exercise.path, dirs.solutions / exercise.path
    for label, path in (
        ("stub", stub),
        ("solution", solution),
        ("lesson", dirs.exercises / exercise.lesson),
    ):
        if not path.is_file():
            problems.append(f"{label} {path} is missing")
    if stub.is_file():
        text = stub.read_text(encoding="utf-8")
        if "TODO" not in text:
            problems.append(f"stub {exercise.path} has no TODO telling the learner what to write")
        if "NotImplementedError" not in text:
            problems.append(f"stub {exercise.path} does not raise NotImplementedError")
    return problems


def stray_files(catalog: Catalog, dirs: CourseDirs) -> list[str]:
    listed = {exercise.path for exercise in catalog.exercises}
    found = {
        str(path.relative_to(dirs.exercises))
        for path in dirs.exercises.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    return [f"{path} is in exercises/ but not in the catalog" for path in sorted(found - listed)]


def grade_both(catalog: Catalog, dirs: CourseDirs, ids: tuple[str, ...]) -> tuple[Report, Report]:
    def grade(folder: object) -> Report:
        request = RunRequest(workspace=folder, exercises=ids)  # type: ignore[arg-type]
        return GraderRun(request, dirs).run()

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        solutions = pool.submit(grade, dirs.solutions)
        stubs = pool.submit(grade, dirs.exercises)
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
            f"checks are worth {declared:g} points, the catalog says {exercise.points:g}"
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
    for column in ("exercise", "files", "stub fails", "solution passes"):
        table.add_column(column)
    problems: list[str] = [] if only else [f"course: {p}" for p in stray_files(catalog, dirs)]
    problems += [f"grader: {error}" for error in solutions.errors + stubs.errors]
    for exercise in exercises:
        files = file_problems(exercise, dirs)
        stub = stub_problems(by_id["stubs"].get(exercise.id))
        solution = solution_problems(exercise, by_id["solutions"].get(exercise.id))
        problems += [f"{exercise.id}: {p}" for p in files + stub + solution]
        table.add_row(exercise.id, *(_mark(not group) for group in (files, stub, solution)))
    out.print(table)
    for problem in problems:
        out.print(Text(f"✗ {problem}", style="red"))
    if problems:
        out.print(Text(f"{len(problems)} problem(s).", style="bold red"))
        return 1
    out.print(Text("All exercises are consistent: stubs fail, solutions pass.", style="bold green"))
    return 0


def _mark(ok: bool) -> Text:
    return Text("✓", style="green") if ok else Text("✗", style="red")
