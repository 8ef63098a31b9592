"""Where the course lives: the catalog, learner stubs, reference solutions and checks."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CourseDirs:
    """The folders of one course. A wheel keeps them under mllab/_course; a checkout at its root."""

    exercises: Path
    solutions: Path
    checks: Path

    @property
    def catalog(self) -> Path:
        return self.exercises / "catalog.toml"


def _grader_dir() -> Path:
    # find_spec locates the package without importing it (the app never imports torch).
    spec = importlib.util.find_spec("grader")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the grader package is not installed; reinstall mllab")
    return Path(next(iter(spec.submodule_search_locations)))


def course_dirs() -> CourseDirs:
    bundled = _PACKAGE / "_course"
    root = bundled if (bundled / "exercises").is_dir() else _PACKAGE.parent
    return CourseDirs(
        exercises=root / "exercises",
        solutions=root / "solutions",
        checks=_grader_dir() / "checks",
    )
