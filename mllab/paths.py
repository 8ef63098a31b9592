"""Where the course lives: the catalog, learner stubs, reference solutions and checks.

A course folder holds `exercises/` (catalog.toml, stubs, lessons) and may hold `solutions/`,
`checks/` (else the installed grader's checks are used) and `replay/` (reference results recorded
for a student release). The course is, in this order: the folder named by `MLLAB_COURSE` (set by
`mllab --course DIR`), a `course/` folder at or above the current folder (a student release),
the course a wheel bundles under mllab/_course, or the checkout's root.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
COURSE_ENV = "MLLAB_COURSE"
RELEASE_FOLDER = "course"


class CourseNotFound(RuntimeError):
    """MLLAB_COURSE names a folder that is not a course; the message says what is missing."""


@dataclass(frozen=True)
class CourseDirs:
    """The folders of one course. A wheel keeps them under mllab/_course; a checkout at its root."""

    exercises: Path
    solutions: Path
    checks: Path

    @property
    def catalog(self) -> Path:
        return self.exercises / "catalog.toml"

    @property
    def root(self) -> Path:
        return self.exercises.parent

    @property
    def replay(self) -> Path:
        """Recorded reference results; present only in a student release."""
        return self.root / "replay"


def grader_dir() -> Path:
    # find_spec locates the package without importing it (the app never imports torch).
    spec = importlib.util.find_spec("grader")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the grader package is not installed; reinstall mllab")
    return Path(next(iter(spec.submodule_search_locations)))


def is_course(folder: Path) -> bool:
    return (folder / "exercises" / "catalog.toml").is_file()


def _dirs_at(root: Path) -> CourseDirs:
    own_checks = root / "checks"
    return CourseDirs(
        exercises=root / "exercises",
        solutions=root / "solutions",
        checks=own_checks if own_checks.is_dir() else grader_dir() / "checks",
    )


def find_release_course(start: Path) -> Path | None:
    """The `course/` folder of a student release at or above `start`, if there is one."""
    for folder in (start, *start.parents):
        candidate = folder / RELEASE_FOLDER
        if is_course(candidate):
            return candidate
    return None


def course_dirs() -> CourseDirs:
    named = os.environ.get(COURSE_ENV)
    if named:
        root = Path(named).expanduser().resolve()
        if not is_course(root):
            raise CourseNotFound(
                f"{COURSE_ENV}={named}: not a course folder (it needs exercises/catalog.toml)"
            )
        return _dirs_at(root)
    try:
        release = find_release_course(Path.cwd().resolve())
    except OSError:  # the current folder was removed
        release = None
    if release is not None:
        return _dirs_at(release)
    bundled = _PACKAGE / "_course"
    return _dirs_at(bundled if (bundled / "exercises").is_dir() else _PACKAGE.parent)
