"""Builds a student release: records the reference results, then writes the repository.

Layout of OUT:
  <exercise paths>, lessons    the learner's files (OUT is the workspace; `.mllab/` marks it)
  course/exercises/            catalog.toml, pristine stubs (generated) and lessons
  course/checks/               the check modules of the released exercises, and their helpers
                               (oracles.py: what answers the reference about learners' results)
  course/replay/<id>.json      reference results recorded for the public seed
  course/release.json          what was released, and with which mllab
  wheels/mllab_edu-...whl      the student edition: mllab with this course, no solutions
  .github/workflows/mllab.yml  CI: `mllab check --all`
  requirements.txt, README.md  requirements.txt installs the student edition by default
The installed mllab finds `course/` from any folder inside OUT (see mllab/paths.py). Before it
finishes, the release proves that neither OUT nor the wheel holds a reference solution, whole or
as a function body (mllab/release/leaks.py); otherwise it removes OUT and refuses.
"""

from __future__ import annotations

import datetime
import json
import shutil
import tempfile
from pathlib import Path

from grader.replay import SCHEMA as REPLAY_SCHEMA
from grader.report import ERROR, FAILED, Report
from mllab import __version__
from mllab.catalog import Catalog
from mllab.course import StubError, write_stubs
from mllab.paths import RELEASE_FOLDER, CourseDirs, grader_dir
from mllab.release import leaks, templates
from mllab.release.catalog_toml import write_catalog
from mllab.release.wheel import WheelError, build_student_wheel
from mllab.runner import GraderRun, RunRequest

WHEELS_FOLDER = "wheels"


class ReleaseError(RuntimeError):
    """The release cannot be built; the message says what to fix."""


def record(dirs: CourseDirs, ids: list[str], folder: Path) -> Report:
    """Grade the reference solutions on the public seed, recording every reference call."""
    request = RunRequest(
        workspace=dirs.solutions,
        exercises=tuple(ids),
        device="cpu",
        extra_args=(f"--mllab-record={folder}",),
    )
    report = GraderRun(request, dirs).run()
    broken = [
        f"{exercise.id}: {check.name}: {check.message.splitlines()[0] if check.message else ''}"
        for exercise in report.exercises
        for check in exercise.checks
        if check.outcome in (FAILED, ERROR)
    ]
    missing = sorted(set(ids) - {exercise.id for exercise in report.exercises})
    if broken or missing or report.errors:
        details = broken + [f"{i}: no checks ran" for i in missing] + list(report.errors)
        raise ReleaseError(
            "the reference solutions do not pass their own checks, so nothing can be recorded "
            "(run `mllab dev check`):\n  " + "\n  ".join(details)
        )
    for exercise_id in ids:
        # An exercise whose checks never ask the reference has nothing to record; its empty
        # recording still says the release is complete (`mllab doctor` looks for it).
        path = folder / f"{exercise_id}.json"
        if not path.exists():
            empty = {"schema": REPLAY_SCHEMA, "exercise": exercise_id, "seed": 0, "calls": {}}
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(empty, indent=1) + "\n", encoding="utf-8")
    return report


def copy_file(source: Path, destination: Path) -> None:
    """Copy one file, making its folder."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)


def copy_checks(dirs: CourseDirs, ids: list[str], target: Path) -> None:
    """Copy into `target` the check modules of `ids`, the checks' helpers, and pytest.ini."""
    for path in sorted(dirs.checks.iterdir()):
        is_check = path.name.startswith("test_")
        if path.is_file() and (path.name in {f"test_{i}.py" for i in ids} or not is_check):
            copy_file(path, target / path.name)
    if not (target / "pytest.ini").is_file():
        # The checks run under the grader's own pytest settings, whichever mllab runs them.
        copy_file(grader_dir() / "checks" / "pytest.ini", target / "pytest.ini")


def write_release(out: Path, catalog: Catalog, dirs: CourseDirs, ids: list[str],
                  replay: Path, requirement: str | None) -> str:  # fmt: skip
    """Write the release; returns the requirement students install with."""
    course = out / RELEASE_FOLDER
    exercises = [catalog.get(i) for i in ids]
    try:
        write_stubs(dirs, exercises, out)
        write_stubs(dirs, exercises, course / "exercises")
    except StubError as exc:
        raise ReleaseError(f"a stub cannot be made: {exc}") from None
    for exercise in exercises:
        copy_file(dirs.exercises / exercise.lesson, out / exercise.lesson)
        copy_file(dirs.exercises / exercise.lesson, course / "exercises" / exercise.lesson)
    write_catalog(catalog, ids, course / "exercises" / "catalog.toml")
    copy_checks(dirs, ids, course / "checks")
    shutil.copytree(replay, course / "replay")
    info = {
        "schema": "mllab-release/1",
        "mllab": __version__,
        "exercises": ids,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    (course / "release.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    try:
        wheel = build_student_wheel(course, out / WHEELS_FOLDER)
    except WheelError as exc:
        raise ReleaseError(str(exc)) from None
    # pip reads a path in a requirements file from the folder it runs in: the README says to run
    # it at the top of the repository, and so does the workflow.
    requirement = requirement or f"./{WHEELS_FOLDER}/{wheel.name}"
    _copy_text(out / ".github" / "workflows" / "mllab.yml", templates.WORKFLOW)
    _copy_text(out / "requirements.txt", requirement + "\n")
    listing = "\n".join(f"- `{e.path}`: {e.title} ({e.lesson})" for e in exercises)
    _copy_text(out / "README.md", templates.README.format(title=catalog.title, exercises=listing))
    _copy_text(out / ".gitignore", templates.GITIGNORE)
    _copy_text(out / ".mllab" / ".gitignore", templates.STATE_GITIGNORE)
    return requirement


def _copy_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def leaked_solutions(roots: list[Path], catalog: Catalog, dirs: CourseDirs) -> list[leaks.Leak]:
    """Reference solutions under `roots` (wheels opened): whole files, or the body of an answer
    of any exercise of the course, released or not. There must be none."""
    fingerprints, files = leaks.course_answers(
        dirs.solutions, {e.path: e.id for e in catalog.exercises}
    )
    return leaks.scan(roots, fingerprints, files)


def build(
    out: Path, catalog: Catalog, dirs: CourseDirs, ids: list[str], requirement: str | None
) -> tuple[Report, str]:
    """Record, then write the release into `out` (which must not exist, or be empty), then prove
    it holds no solution. Returns the recording run's report and the students' requirement."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out} already exists and is not an empty folder; choose a new one")
    with tempfile.TemporaryDirectory(prefix="mllab-release-") as scratch:
        replay = Path(scratch, "replay")
        report = record(dirs, ids, replay)
        try:
            requirement = write_release(out, catalog, dirs, ids, replay, requirement)
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
    found = leaked_solutions([out], catalog, dirs)
    if found:
        shutil.rmtree(out)
        shown = "\n  ".join(str(leak) for leak in found[:20])
        more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
        raise ReleaseError(
            "the release would hold reference solutions, so it was not written (make each of "
            f"these differ from the answer, or leave it out):\n  {shown}{more}"
        )
    return report, requirement
